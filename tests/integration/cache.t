#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): the policy and route cache of issue 4 in the
# "cache" world (tofu.test with an editable TXT record, nopolicy.test,
# Redis). LMDB: a learned policy survives a restart (a second process
# answers without a fetch); a new TXT id fetches again; within
# txt_recheck_interval a changed id is not looked at; a negative entry
# answers with the MX gone; stsfilter cache show/purge/stats. Redis: a
# second process answers from what the first learned (one fetch); Redis
# shut down and restarted mid-run fails no lookup and logs one line per
# change of state; 50 concurrent lookups in one process fetch once; 2 x
# 25 in two processes fetch once (cluster lock). Probe results are
# cached per MX host: a second process (LMDB, Redis) and a policy
# refetch do not probe again, and 2 x 25 concurrent cold lookups in two
# processes probe the MX host once (counted as "connect from" lines in
# the MX's maillog). Stale-while-revalidate: a due TXT recheck that
# finds a new id answers from the cached policy and fetches in the
# background. Proactive refresh (route-refresh moves the clock): a
# policy used lately is fetched again before max_age ends; a failing
# refresh is retried once per 5 minutes, not on every scan. A malformed
# probe value (a pass with a failure reason) is a miss. A cold process
# reads the hosts' probe results from Redis in one MGET. `stsfilter cache
# purge` reaches a running engine (LMDB, Redis): it drops its own copy of
# the policy and the answer within a second and fetches again. Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
b=${STS_BUILDDIR:-$top}
steps=$b/tests/tools/route-steps
burst=$b/tests/tools/route-burst
refresh=$b/tests/tools/route-refresh
sts=$b/stsfilter
out=$(mktemp)
if [ "${1:-}" = --gets ]; then
  echo "gets=$(grep -c 'GET /.well-known' "$STS_WORLD/https/access.log")"; exit 0
fi
if [ "${1:-}" = --inside ]; then
  knot="knotc -c $STS_WORLD/dns/knot.conf"
  txt() { $knot zone-begin tofu.test && $knot zone-unset tofu.test _mta-sts TXT && $knot zone-set tofu.test _mta-sts 0 TXT "\"v=STSv1; id=$1\"" && $knot zone-commit tofu.test; } >/dev/null
  gets() { echo "gets=$(grep -c 'GET /.well-known' "$STS_WORLD/https/access.log")"; }
  nconn() { grep -c ': connect from ' "$STS_WORLD/postfix-mx/maillog"; }
  # postlogd writes asynchronously: wait until the count is stable.
  conns() { a=$(nconn); sleep 0.4; while [ "$(nconn)" != "$a" ]; do a=$(nconn); sleep 0.4; done; echo "conns=$a"; }
  lconf=$STS_WORLD/lmdb.conf lconf5=$STS_WORLD/lmdb5.conf rconf=$STS_WORLD/redis.conf
  { cat "$STS_WORLD_CONF"; echo "cache_backend = lmdb"; echo "txt_recheck_interval = 0"; } > "$lconf"
  { cat "$STS_WORLD_CONF"; echo "cache_backend = lmdb"; echo "txt_recheck_interval = 5m"; } > "$lconf5"
  { cat "$STS_WORLD_CONF"; echo "txt_recheck_interval = 0"; } > "$rconf"
  echo "== A1"; "$steps" "$lconf" tofu.test 2>&1; conns
  echo "== A2"; "$steps" "$lconf" tofu.test 2>&1; gets; conns
  echo "== A3"; "$sts" -c "$lconf" cache show tofu.test; echo "exit=$?"
  echo "== A4"; txt 2; "$steps" "$lconf" tofu.test 2>&1; gets; conns
  echo "== A5"; txt 3; "$steps" "$lconf5" tofu.test 2>&1; gets
  echo "== A6"; "$steps" "$lconf" nopolicy.test 2>&1
  $knot zone-begin nopolicy.test >/dev/null && $knot zone-unset nopolicy.test @ MX >/dev/null && $knot zone-commit nopolicy.test >/dev/null
  "$steps" "$lconf" nopolicy.test 2>&1
  "$sts" -c "$lconf" cache show nopolicy.test
  echo "== A7"; "$sts" -c "$lconf" cache purge tofu.test; echo "exit=$?"
  "$sts" -c "$lconf" cache show tofu.test; echo "exit=$?"
  "$sts" -c "$lconf" cache stats
  echo "== B1"; "$steps" "$rconf" tofu.test 2>&1; gets; conns
  echo "== B2"; "$steps" "$rconf" tofu.test 2>&1; gets; conns
  "$sts" -c "$rconf" cache stats
  rcli="redis-cli -h 127.0.63.79 -p 6379"
  echo "== B3"; "$steps" "$rconf" tofu.test \
    "!$rcli shutdown nosave >/dev/null 2>&1; sleep 0.3" tofu.test tofu.test nopolicy.test tofu.test \
    "!redis-server --bind 127.0.63.79 --port 6379 --save '' --daemonize yes --logfile $STS_WORLD/redis/redis2.log; sleep 2.2" \
    tofu.test tofu.test 2>&1
  echo "== B4"; txt 4; "$burst" "$rconf" 50 tofu.test 2>&1; gets
  echo "== B5"; txt 5; "$sts" -c "$rconf" cache purge --all >/dev/null; c0=$(conns)
  "$burst" "$rconf" 25 tofu.test > "$STS_WORLD/p1" 2>&1 & "$burst" "$rconf" 25 tofu.test 2>&1; wait; cat "$STS_WORLD/p1"; gets
  c1=$(conns); echo "probes=$((${c1#conns=} - ${c0#conns=}))"
  echo "== B6"; key=$($rcli --scan --pattern '*p:mx.tofu.test:*' | head -1); echo "key=$key"
  python3 -c 'import struct,sys,time; t=int(time.time()); b=b"v=1\npassed=1\nreason=7\nsecure=0\n"; sys.stdout.buffer.write(b"S\x01\x03\x00"+struct.pack(">qqqIB", t, t+600, t, 0, 0)+struct.pack(">I", len(b))+b)' > "$STS_WORLD/bad.val"
  $rcli -x SET "$key" < "$STS_WORLD/bad.val" >/dev/null; $rcli EXPIRE "$key" 600 >/dev/null; c0=$(conns)
  "$steps" "$rconf" tofu.test 2>&1; c1=$(conns); "$steps" "$rconf" tofu.test 2>&1; c2=$(conns)
  echo "probes=$((${c1#conns=} - ${c0#conns=})) then=$((${c2#conns=} - ${c1#conns=}))"
  echo "== B7"; $rcli monitor > "$STS_WORLD/monitor" 2>&1 & mon=$!; sleep 0.3
  "$steps" "$rconf" tofu.test 2>&1; sleep 0.3; kill $mon; wait $mon 2>/dev/null
  grep -c '"MGET" "stsfilter:p:mx.tofu.test:25:0"' "$STS_WORLD/monitor" | sed 's/^/mget=/'
  grep -c '"GET" "stsfilter:p:' "$STS_WORLD/monitor" | sed 's/^/getp=/'
  lconf1=$STS_WORLD/lmdb1.conf
  { cat "$STS_WORLD_CONF"; echo "cache_backend = lmdb"; echo "txt_recheck_interval = 1s"; } > "$lconf1"
  echo "== C1"; txt 6; "$sts" -c "$lconf" cache purge --all >/dev/null
  "$steps" "$lconf1" tofu.test 2>&1; gets
  txt 7; "$steps" "$lconf1" '!sleep 1.2' tofu.test '!sleep 1' tofu.test 2>&1; gets
  "$sts" -c "$lconf1" cache show tofu.test | sed -n 's/^txt_id */txt_id=/p'
  body=$(grep -l 'mx.tofu.test' "$STS_WORLD"/https/site-*/mta-sts.txt | head -1); cp "$body" "$STS_WORLD/body.saved"
  echo "== C2"; "$sts" -c "$lconf" cache purge --all >/dev/null
  "$refresh" "$lconf" tofu.test c '!echo at60000' +60000 c w400 "!$0 --gets" '!echo at65000' +5000 w600 "!$0 --gets" \
    "!echo garbage > $body" '!echo at130000' +65000 c w600 "!$0 --gets" '!echo later' w600 "!$0 --gets" \
    '!echo at130301' +301 w600 "!$0 --gets" "!cp $STS_WORLD/body.saved $body" 2>&1
  # A running engine holds the policy and the answer in its own L1: the
  # purge notice makes it drop them (LMDB, then Redis).
  rconf5=$STS_WORLD/redis5.conf
  { cat "$STS_WORLD_CONF"; echo "txt_recheck_interval = 5m"; } > "$rconf5"
  for sec in D1:$lconf5 D2:$rconf5; do
    c=${sec#*:}
    echo "== ${sec%%:*}"; "$sts" -c "$c" cache purge --all >/dev/null
    "$steps" "$c" =tofu.test =tofu.test "!$0 --gets" "!$sts -c $c cache purge tofu.test" '!sleep 2.5' \
      =tofu.test "!$0 --gets" =tofu.test 2>&1
  done
  echo "== END"
  exit 0
fi
for x in "$steps" "$burst" "$sts"; do
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
echo "1..23"
check "LMDB: the first process fetches the policy and probes the MX host" A1 '^tofu.test ok cached=0 has_policy=1' '^conns=1$'
check "LMDB: a second process (restart) uses the stored policy and probe result: no fetch, no probe" A2 \
  '^tofu.test ok cached=1' '^gets=1$' '^conns=1$'
check "cache show prints the stored policy" A3 '^txt_id +1$' '^kind +policy' '^  mode: enforce$' '^exit=0$'
check "a new TXT id fetches the policy again, the host's probe result is still used" A4 \
  '^tofu.test ok cached=0 has_policy=1' '^gets=2$' '^conns=1$'
check "within txt_recheck_interval a changed id costs no lookup and no fetch" A5 '^tofu.test ok cached=1' '^gets=2$'
check "a negative entry answers with the MX record gone, without its warning" A6 \
  '^nopolicy.test no-policy cached=0 has_policy=0 reason=none( total_ms=[0-9]+)? warnings=$' '!no MX record' '^kind +negative' '^  10 mx.nopolicy.test$'
check "cache purge removes the entry; stats shows the LMDB backend" A7 '^tofu.test: purged$' \
  '^tofu.test: no cache entry$' '^exit=1$' '^backend +lmdb$' '^backend entries +3$'   # nopolicy.test, mx.tofu.test's probe, the purge notices
check "Redis: the first process fetches and probes" B1 '^tofu.test ok cached=0' '^gets=3$' '^conns=2$'
check "Redis: a second process answers from Redis without a fetch or a probe" B2 '^tofu.test ok cached=1' '^gets=3$' '^conns=2$' \
  '^backend +redis$' '^state +connected'
check "Redis shut down and restarted mid-run: no lookup fails" B3 '!^[^ ]+ (error|temporary) |step failed' \
  '^nopolicy.test no-policy'
n=$((n + 1))
if [ "$(count B3 '^tofu.test ok')" = 6 ]; then echo "ok $n - all 6 tofu.test lookups ok across the Redis outage"; else echo "not ok $n - all 6 tofu.test lookups ok across the Redis outage"; sect B3 | sed 's/^/#   /'; fi
n=$((n + 1))
lost=$(count B3 'redis .*(connection lost|unavailable)'); up=$(count B3 'redis .*: connected')
if [ "$lost" = 1 ] && [ "$up" -ge 1 ]; then echo "ok $n - one log line for the loss, one for the reconnection"; else echo "not ok $n - one log line for the loss, one for the reconnection (lost=$lost connected=$up)"; sect B3 | sed 's/^/#   /'; fi
check "50 concurrent lookups in one process: one fetch" B4 '^ok 50$' '^errors=0$' '^gets=4$'
check "2 x 25 cold concurrent lookups in two processes sharing Redis: one fetch, one probe" B5 '^errors=0$' '^gets=5$' \
  '^probes=1$' '!temporary'
n=$((n + 1))
if [ "$(sect B5 | grep -E '^ok [0-9]+$' | awk '{s+=$2} END {print s}')" = 50 ]; then echo "ok $n - all 50 verdicts ok"; else echo "not ok $n - all 50 verdicts ok"; sect B5 | sed 's/^/#   /'; fi
check "a malformed probe result in Redis is a miss and a warning; the host is probed and the result replaced" B6 \
  '^key=stsfilter:p:mx.tofu.test:25:0$' 'probe result of mx.tofu.test port 25 dane 0 malformed' '^probes=1 then=0$' \
  '!^tofu.test (error|temporary)'
check "a cold process reads the MX hosts' probe results in one MGET, not one GET each" B7 \
  '^tofu.test ok' '^mget=1$' '^getp=0$'
check "stale-while-revalidate: a due recheck with a new id answers from the cache, fetches in the background" C1 \
  '^gets=6$' '^tofu.test ok cached=1' '^gets=7$' '^txt_id=7$'
n=$((n + 1))
c1=$(sect C1 | grep -E '^tofu.test ok' | sed 's/ has_policy.*//' | tr '\n' '|')
if [ "$c1" = "tofu.test ok cached=0|tofu.test ok cached=1|tofu.test ok cached=1|" ]; then
  echo "ok $n - the lookup after the id change is answered from the cache (no inline fetch)"
else echo "not ok $n - the lookup after the id change is answered from the cache (no inline fetch)"; sect C1 | sed 's/^/#   /'; fi
check "proactive refresh: fetched again before max_age ends, not before it is due" C2 \
  '^tofu.test ok cached=0$' 'at60000' 'policy refreshed before its max_age ends'
n=$((n + 1))
c2=$(sect C2 | grep -E '^(gets=|at|later|.*refreshed before|.*refresh failed)' | sed 's/^.*refreshed before.*/REFRESHED/; s/^.*refresh failed.*/FAILED/' | tr '\n' ' ')
if [ "$c2" = "at60000 gets=8 at65000 REFRESHED gets=9 at130000 FAILED gets=10 later gets=10 at130301 FAILED gets=11 " ]; then
  echo "ok $n - one refresh when due; failed refreshes retried once per 5 minutes"
else echo "not ok $n - one refresh when due; failed refreshes retried once per 5 minutes"; echo "#   $c2"; sect C2 | sed 's/^/#   /' | tail -n 30; fi
for s in D1:LMDB D2:Redis; do
  n=$((n + 1))
  d=$(sect "${s%%:*}" | grep -E '^(=tofu.test|gets=|tofu.test: purged$|.*tofu.test: purged from the cache)' |
    sed -E 's/^(=tofu.test ok kept=[01]).*/\1/; s/^gets=.*/GETS/; s/.*purged from the cache.*dropped from this process$/DROPPED/' |
    tr '\n' ' ')
  g=$(sect "${s%%:*}" | sed -n 's/^gets=//p' | tr '\n' ' ')
  set -- $g
  want="=tofu.test ok kept=0 =tofu.test ok kept=1 GETS tofu.test: purged DROPPED =tofu.test ok kept=0 GETS =tofu.test ok kept=1 "
  if [ "$d" = "$want" ] && [ $# = 2 ] && [ "$2" = $(($1 + 1)) ]; then
    echo "ok $n - ${s#*:}: cache purge reaches a running engine: it drops its copy, fetches again and keeps the new answer"
  else
    echo "not ok $n - ${s#*:}: cache purge reaches a running engine: it drops its copy, fetches again and keeps the new answer"
    echo "#   got:  $d ($g)"; echo "#   want: $want"; sect "${s%%:*}" | sed 's/^/#   /' | tail -n 20
  fi
done
rm -f "$out"
