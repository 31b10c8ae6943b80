#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): the warm path (route_answer(), issue 12) in one
# running engine, in the tofu world: the first answer is made, the next
# ones are the kept answer; 300 warm answers create no thread (counted
# by the PIDs the world's PID namespace hands out); an expired answer is
# served stale while one background rebuild runs, which picks up a new
# TXT id and fetches its policy; a temporary verdict is never kept; a
# rebuild that keeps nothing (every MX a tarpit: the check is temporary)
# leaves the expired answer serving, and the next rebuild waits 30 s
# (ROUTE_REBUILD_RETRY_S) instead of following every lookup (counted
# by the engine's rebuild counter). Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${STS_BUILDDIR:-$top}/tests/tools/route-steps
out=$(mktemp)
if [ "${1:-}" = --inside ]; then
  knot="knotc -c $STS_WORLD/dns/knot.conf"
  txt() { echo "$knot zone-begin tofu.test && $knot zone-unset tofu.test _mta-sts TXT && ${1:+$knot zone-set tofu.test _mta-sts 0 TXT '\"$1\"' &&} $knot zone-commit tofu.test >/dev/null"; }
  # Answers of a domain with a policy live until the next TXT recheck.
  conf=$STS_WORLD/answer.conf
  # One new domain a minute: past tofu.test, a new domain is temporary
  # (not checked: new_domain_rate), deterministically.
  { cat "$STS_WORLD_CONF"; echo "txt_recheck_interval = 4s"; echo "new_domain_rate = 1"; echo "new_domain_burst = 1"; } > "$conf"
  "$bin" "$conf" =tofu.test =tofu.test \
    "!sh -c 'echo pid=\$\$'" "=tofu.test*300" "!sh -c 'echo pid=\$\$'" \
    "!sleep 5" =tofu.test "!sleep 1" =tofu.test \
    "!$(txt 'v=STSv1; id=2')" "!sleep 5" =tofu.test "!sleep 1" \
    "!grep -c 'GET /.well-known' $STS_WORLD/https/access.log | sed 's/^/gets=/'" =tofu.test \
    =absent.tofu.test =absent.tofu.test =TOFU.Test. "=[192.0.2.1]"
  # A fresh engine and cache whose answer lives 3 s (the probe results'
  # lifetime); then the MX Postfix is paused (connections accepted, no
  # banner), so that the rebuild's probes time out: temporary.
  conf=$STS_WORLD/answer-retry.conf
  { cat "$STS_WORLD_CONF"; echo "cache_path = $STS_WORLD/answer-retry.lmdb"; echo "cache_success_ttl = 3s"
    echo "probe_connect_timeout = 1s"; echo "probe_read_timeout = 2s"; } > "$conf"
  master=$(cat "$STS_WORLD/postfix-mx/spool/pid/master.pid")
  exec "$bin" "$conf" =tofu.test "?rebuilds" "!kill -STOP $master; pkill -STOP -P $master" "!sleep 4" \
    =tofu.test "!sleep 8" =tofu.test "!sleep 1" =tofu.test "?rebuilds" "!sleep 30" =tofu.test "!sleep 1" "?rebuilds"
fi
if [ ! -x "$bin" ]; then echo "1..1"; echo "not ok 1 - $bin is built"; exit 1; fi
"$top/tests/world/run" tofu -- "$0" --inside > "$out" 2>&1
n=0
line() { grep -E '^(=|gets=|pid=|rebuilds=)' "$out" | sed -n "${1}p"; }
check() {  # check DESCRIPTION LINE-NUMBER-OF-RESULT PATTERN...
  desc=$1 nth=$2; shift 2
  n=$((n + 1))
  l=$(line "$nth")
  for pat in "$@"; do
    if ! printf '%s\n' "$l" | grep -qE -- "$pat"; then
      echo "not ok $n - $desc"; sed 's/^/#   /' "$out" | tail -n 16; return
    fi
  done
  echo "ok $n - $desc"
}
echo "1..19"
check "first answer: made by the engine, kept for the TXT recheck interval" 1 \
  '^=tofu.test ok kept=0 stale=0 reasons=- life=[34] '
check "second answer: the kept one" 2 '^=tofu.test ok kept=1 stale=0 '
check "300 warm answers: all the same, all kept" 4 '^=tofu.test ok kept=1 stale=0 .* same=300$'
n=$((n + 1))
p1=$(line 3 | sed -n 's/^pid=//p'); p2=$(line 5 | sed -n 's/^pid=//p')
if [ -n "$p1" ] && [ -n "$p2" ] && [ $((p2 - p1)) -lt 30 ]; then
  echo "ok $n - 300 warm answers created no thread (PIDs $p1 -> $p2)"
else
  echo "not ok $n - 300 warm answers created no thread (PIDs $p1 -> $p2)"
fi
check "expired: served stale at once, a rebuild queued" 6 '^=tofu.test ok kept=1 stale=1 '
check "after the background rebuild: fresh again" 7 '^=tofu.test ok kept=1 stale=0 '
check "new TXT id: the stale answer still serves" 8 '^=tofu.test ok kept=1 stale=1 '
check "the background rebuild fetched the new id's policy" 9 '^gets=2$'
check "then the rebuilt answer serves" 10 '^=tofu.test ok kept=1 stale=0 '
check "a temporary verdict (new_domain_rate reached) ..." 11 '^=absent.tofu.test temporary kept=0 '
check "... is never kept" 12 '^=absent.tofu.test temporary kept=0 '
check "a name as typed (case, root dot) finds the normalized name's answer" 13 '^=TOFU.Test. ok kept=1 '
check "an address literal is refused, not answered" 14 '^=\[192.0.2.1\] error address literal'
check "tarpit world: the first answer is kept for the probe results' 3 s" 15 '^=tofu.test ok kept=0 stale=0 reasons=- life=3 '
r0=$(line 16 | sed -n 's/^rebuilds=//p')
check "every MX a tarpit, answer expired: served stale, a rebuild queued" 17 '^=tofu.test ok kept=1 stale=1 '
n=$((n + 1))
if grep -q 'tofu.test: background rebuild kept no answer; the expired one serves, next try in 30 s' "$out"; then
  echo "ok $n - the rebuild kept nothing and says when it tries again"
else
  echo "not ok $n - the rebuild kept nothing and says when it tries again"; sed 's/^/#   /' "$out" | tail -n 16
fi
check "the expired answer still serves after the failed rebuild" 19 '^=tofu.test ok kept=1 stale=1 '
check "two more lookups within 30 s queued no rebuild" 20 "^rebuilds=$((r0 + 1))\$"
check "30 s later a lookup queues the next rebuild" 22 "^rebuilds=$((r0 + 2))\$"
rm -f "$out"
