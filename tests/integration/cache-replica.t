#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): Redis replicas and Redis authentication for
# the cache of issue 4, in the "cache" world (tofu.test, nopolicy.test,
# the Redis primary on 127.0.63.79). Replicas (redis_replicas): a
# replica of the primary on 127.0.63.80 answers a second process with
# no fetch, and its keyspace_hits grow while the primary's do not;
# with the replica's link to its primary down, reads go to the primary
# (one "not in sync" line); the replica shut down mid-run, or down at
# start, costs no failed lookup and reads go to the primary (one line
# per change of state). Authentication, on a Redis started with
# --requirepass and an ACL user on 127.0.63.81: redis_password, and
# redis_user + redis_password with redis_database 3 (the keys are in
# database 3 only, and a second process reads them back); a wrong
# password degrades to direct resolution with one log line and no
# failed lookup. A Redis that accepts connections and never answers
# (stopped) is found by the PING of the watcher thread's connection, and
# no lookup waits for it. Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
b=${STS_BUILDDIR:-$top}
steps=$b/tests/tools/route-steps
sts=$b/stsfilter
out=$(mktemp)
if [ "${1:-}" = --inside ]; then
  gets() { echo "gets=$(grep -c 'GET /.well-known' "$STS_WORLD/https/access.log")"; }
  hits() { redis-cli -h "$1" -p 6379 ${2:+-a "$2" --no-auth-warning} INFO stats | sed -n 's/^keyspace_hits:\([0-9]*\).*/\1/p'; }
  hitsp() { echo "primary_hits=$(($(hits 127.0.63.79) - p0)) replica_hits=$(($(hits 127.0.63.80) - r0))"; }
  mark() { p0=$(hits 127.0.63.79); r0=$(hits 127.0.63.80); }
  repl="redis-cli -h 127.0.63.80 -p 6379"
  # A replica's data only shows once replication has caught up: wait for the key.
  synced() { i=0; while [ $i -lt 50 ] && [ -z "$($repl --scan --pattern "$1" | head -1)" ]; do sleep 0.1; i=$((i + 1)); done; }
  conf=$STS_WORLD/replica.conf
  { cat "$STS_WORLD_CONF"; echo "cache_backend = redis"; echo "redis_replicas = 127.0.63.80:6379"; } > "$conf"
  redis-server --bind 127.0.63.80 --port 6379 --dir "$STS_WORLD/redis" --save '' --daemonize yes --logfile "$STS_WORLD/redis/replica.log" \
    --replicaof 127.0.63.79 6379
  i=0; while [ $i -lt 100 ] && ! $repl INFO replication 2>/dev/null | grep -q '^master_link_status:up'; do sleep 0.1; i=$((i + 1)); done
  echo "== R1"; $repl INFO replication | grep -E '^(role|master_link_status):' | tr -d '\r'
  "$steps" "$conf" tofu.test nopolicy.test 2>&1; gets
  echo "== R2"; synced '*d:tofu.test'; synced '*d:nopolicy.test'; synced '*p:mx.tofu.test:*'; mark
  "$steps" "$conf" tofu.test 2>&1; gets; hitsp
  "$sts" -c "$conf" cache stats | grep '^state'
  echo "== R3"; $repl REPLICAOF 127.0.63.1 9 >/dev/null; sleep 0.3; mark
  "$steps" "$conf" tofu.test 2>&1; gets; hitsp
  echo "== R4"; $repl REPLICAOF 127.0.63.79 6379 >/dev/null
  i=0; while [ $i -lt 100 ] && ! $repl INFO replication | grep -q '^master_link_status:up'; do sleep 0.1; i=$((i + 1)); done
  mark
  "$steps" "$conf" tofu.test "!$repl shutdown nosave >/dev/null 2>&1; sleep 0.3" nopolicy.test tofu.test 2>&1; gets
  echo "primary_hits=$(($(hits 127.0.63.79) - p0))"
  echo "== R5"; p0=$(hits 127.0.63.79)
  "$steps" "$conf" tofu.test nopolicy.test 2>&1; gets
  echo "primary_hits=$(($(hits 127.0.63.79) - p0))"
  "$sts" -c "$conf" cache stats | grep '^state'
  # Authentication: a second Redis with a password and an ACL user.
  redis-server --bind 127.0.63.81 --port 6379 --dir "$STS_WORLD/redis" --save '' --daemonize yes --logfile "$STS_WORLD/redis/auth.log" \
    --requirepass s3cret --user stsf on '>pw2' '~*' '+@all'
  auth="redis-cli -h 127.0.63.81 -p 6379 --no-auth-warning -a s3cret"
  i=0; while [ $i -lt 50 ] && [ "$($auth PING 2>/dev/null)" != PONG ]; do sleep 0.1; i=$((i + 1)); done
  base() { cat "$STS_WORLD_CONF"; echo "cache_backend = redis"; echo "redis_server = 127.0.63.81:6379"; }
  { base; echo "redis_password = s3cret"; } > "$STS_WORLD/pw.conf"
  { base; echo "redis_user = stsf"; echo "redis_password = pw2"; echo "redis_database = 3"; } > "$STS_WORLD/acl.conf"
  { base; echo "redis_user = stsf"; echo "redis_password = wrong"; } > "$STS_WORLD/bad.conf"
  echo "== U1"; "$steps" "$STS_WORLD/pw.conf" tofu.test 2>&1; gets
  echo "keys0=$($auth -n 0 --scan --pattern 'stsfilter:d:*' | sort | tr '\n' ' ')"
  "$sts" -c "$STS_WORLD/pw.conf" cache stats | grep '^state'
  echo "== U2"; $auth FLUSHALL >/dev/null
  "$steps" "$STS_WORLD/acl.conf" tofu.test 2>&1; gets
  "$steps" "$STS_WORLD/acl.conf" tofu.test 2>&1; gets
  acl="redis-cli -h 127.0.63.81 -p 6379 --no-auth-warning --user stsf --pass pw2"
  echo "keys3=$($acl -n 3 --scan --pattern 'stsfilter:d:*' | sort | tr '\n' ' ')"
  echo "keys0=$($acl -n 0 DBSIZE)"
  echo "== U3"; "$steps" "$STS_WORLD/bad.conf" tofu.test nopolicy.test tofu.test 2>&1; gets
  # A Redis that accepts connections and never answers (stopped): the
  # connection's PING finds it, in the watcher thread, and no lookup
  # waits for it (each would wait redis_command_timeout, 3 s here).
  redis-server --bind 127.0.63.82 --port 6379 --dir "$STS_WORLD/redis" --save '' --daemonize yes \
    --logfile "$STS_WORLD/redis/stalled.log" --pidfile "$STS_WORLD/redis/stalled.pid"
  i=0; while [ $i -lt 50 ] && [ "$(redis-cli -h 127.0.63.82 -p 6379 PING 2>/dev/null)" != PONG ]; do sleep 0.1; i=$((i + 1)); done
  kill -STOP "$(cat "$STS_WORLD/redis/stalled.pid")"
  { cat "$STS_WORLD_CONF"; echo "cache_backend = redis"; echo "redis_server = 127.0.63.82:6379"
    echo "redis_command_timeout = 3s"; } > "$STS_WORLD/stalled.conf"
  echo "== W1"; "$steps" "$STS_WORLD/stalled.conf" nx1.tofu.test '!sleep 1.3' nx2.tofu.test '!sleep 2.3' nx3.tofu.test \
    '!sleep 4.3' nx4.tofu.test nx5.tofu.test 2>&1
  kill -CONT "$(cat "$STS_WORLD/redis/stalled.pid")"
  echo "== END"
  exit 0
fi
for x in "$steps" "$sts"; do
  if [ ! -x "$x" ]; then echo "1..1"; echo "not ok 1 - $x is built"; exit 1; fi
done
"$top/tests/world/run" cache -- "$0" --inside > "$out" 2>&1
n=0
sect() { sed -n "/^== $1\$/,/^== /p" "$out" | sed '1d;$d'; }
check() {  # check DESCRIPTION SECTION PATTERN... (each must match a line; !PATTERN must match none)
  desc=$1 s=$2; shift 2
  n=$((n + 1))
  body=$(sect "$s")
  for pat in "$@"; do
    case $pat in
      !*) if printf '%s\n' "$body" | grep -qE -- "${pat#!}"; then bad=1; else bad=0; fi ;;
      *) if printf '%s\n' "$body" | grep -qE -- "$pat"; then bad=0; else bad=1; fi ;;
    esac
    if [ $bad = 1 ]; then
      echo "not ok $n - $desc"; echo "#   section $s, pattern $pat:"; printf '%s\n' "$body" | sed 's/^/#   /' | tail -n 15; return
    fi
  done
  echo "ok $n - $desc"
}
count() { sect "$1" | grep -cE -- "$2"; }
fail='^[^ ]+ (error|temporary) |step failed'
echo "1..13"
check "the replica is in sync; the first process fetches" R1 '^role:slave$' '^master_link_status:up$' \
  '^tofu.test ok cached=0 has_policy=1' '^gets=1$' 'redis replica 127.0.63.80:6379: connected' "!$fail"
check "a second process answers from the replica: no fetch, replica hits grow, primary hits do not" R2 \
  '^tofu.test ok cached=1' '^gets=1$' '^primary_hits=0 replica_hits=[1-9][0-9]*$' '^state .*replicas in sync 1 of 1' "!$fail"
check "a replica not in sync is passed over: reads go to the primary, one line" R3 \
  '^tofu.test ok cached=1' '^gets=1$' '^primary_hits=[1-9][0-9]* replica_hits=0$' \
  'redis replica 127.0.63.80:6379: not in sync: replication link down; reads go to the primary' "!$fail"
check "the replica shut down mid-run: no lookup fails, reads go to the primary" R4 \
  '^tofu.test ok cached=1' '^nopolicy.test no-policy' '^gets=1$' '^primary_hits=[1-9][0-9]*$' "!$fail"
n=$((n + 1))
l=$(count R4 'redis replica .*(connection lost|unavailable)')
if [ "$l" = 1 ] && [ "$(count R4 '^tofu.test ok')" = 2 ]; then echo "ok $n - one log line for the lost replica"
else echo "not ok $n - one log line for the lost replica (lines=$l)"; sect R4 | sed 's/^/#   /'; fi
check "the replica down at start: reads from the primary, no fetch, no failure" R5 \
  '^tofu.test ok cached=1' '^nopolicy.test no-policy' '^gets=1$' '^primary_hits=[1-9][0-9]*$' \
  'redis replica 127.0.63.80:6379: unavailable' '^state +connected to 127.0.63.79:6379.*replicas in sync 0 of 1' "!$fail"
check "redis_password: AUTH with the password; the keys are in database 0" U1 \
  '^tofu.test ok' 'redis 127.0.63.81:6379: connected \(database 0\)' '^keys0=stsfilter:d:tofu.test $' \
  '^state +connected to 127.0.63.81:6379' '!AUTH' "!$fail"
check "redis_user + redis_password, redis_database 3: a second process reads the keys back from database 3" U2 \
  'connected \(database 3\)' '^tofu.test ok cached=1' '^keys3=stsfilter:d:tofu.test $' '^keys0=0$' '!AUTH' "!$fail"
n=$((n + 1))
g1=$(sect U2 | grep '^gets=' | tr '\n' ' ')
set -- $g1
if [ "$#" = 2 ] && [ "$1" = "$2" ]; then echo "ok $n - the second process does not fetch ($g1)"
else echo "not ok $n - the second process does not fetch ($g1)"; fi
check "a wrong password: direct resolution, no failed lookup" U3 \
  '^tofu.test ok' '^nopolicy.test no-policy' "!$fail" '!redis .*: connected'
n=$((n + 1))
l=$(count U3 'redis 127.0.63.81:6379: unavailable: AUTH as stsf: WRONGPASS')
a=$(count U3 'AUTH')
if [ "$l" = 1 ] && [ "$a" = 1 ]; then echo "ok $n - one clear log line for the wrong password"
else echo "not ok $n - one clear log line for the wrong password (lines=$a)"; sect U3 | sed 's/^/#   /'; fi
check "a Redis that accepts and never answers: the connection's PING finds it" W1 \
  'redis 127.0.63.82:6379: unavailable: PING' '^nx5.tofu.test '
n=$((n + 1))
w=$(sect W1 | sed -n 's/^nx[0-9].tofu.test .*total_ms=\([0-9]*\).*/\1/p' | tr '\n' ' ')
slow=$(for t in $w; do [ "$t" -ge 2500 ] && echo "$t"; done)
set -- $w
if [ "$#" = 5 ] && [ -z "$slow" ]; then echo "ok $n - no lookup waits for a Redis connection (total_ms: $w)"
else echo "not ok $n - no lookup waits for a Redis connection (total_ms: $w)"; sect W1 | sed 's/^/#   /' | tail -n 15; fi
rm -f "$out"
