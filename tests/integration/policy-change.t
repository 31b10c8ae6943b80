#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): a policy change is logged once per cluster (issue
# 14), in the "cache" world (tofu.test with an editable TXT record and
# policy file, Redis). Two processes share Redis and check tofu.test 25
# times each, at once, after each change of the domain's policy; only the
# process that fetches and stores the new policy (under the cluster fetch
# lock) logs the change, so each change is one line in both outputs
# together: a first fetch logs nothing (nothing changed); a new id with mode
# testing is a warning "policy downgraded"; a new id that adds an mx pattern
# is "policy changed"; an unchanged id logs nothing; a removed TXT record
# (the cached policy stays in force, RFC 8461 section 5.1) is one warning
# for the cluster over two rounds of rechecks in two processes. Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
b=${STS_BUILDDIR:-$top}
steps=$b/tests/tools/route-steps
burst=$b/tests/tools/route-burst
out=$(mktemp)
if [ "${1:-}" = --inside ]; then
  knot="knotc -c $STS_WORLD/dns/knot.conf"
  txt() { $knot zone-begin tofu.test && $knot zone-unset tofu.test _mta-sts TXT && $knot zone-set tofu.test _mta-sts 0 TXT "\"v=STSv1; id=$1\"" && $knot zone-commit tofu.test; } >/dev/null
  gets() { echo "gets=$(grep -c 'GET /.well-known' "$STS_WORLD/https/access.log")"; }
  body=$(grep -l 'mx.tofu.test' "$STS_WORLD"/https/site-*/mta-sts.txt | head -1)
  policy() { printf 'version: STSv1\nmode: %s\n%bmax_age: 86400\n' "$1" "$2" > "$body"; }
  conf=$STS_WORLD/redis.conf
  { cat "$STS_WORLD_CONF"; echo "txt_recheck_interval = 0"; } > "$conf"
  two() { "$burst" "$conf" 25 tofu.test > "$STS_WORLD/p1" 2>&1 & "$burst" "$conf" 25 tofu.test 2>&1; wait; cat "$STS_WORLD/p1"; gets; }
  echo "== FIRST"; two
  echo "== DOWNGRADE"; policy testing 'mx: mx.tofu.test\n'; txt 2; two
  echo "== MX"; policy testing 'mx: mx.tofu.test\nmx: mx2.tofu.test\n'; txt 3; two
  echo "== SAME"; two
  notxt() { $knot zone-begin tofu.test && $knot zone-unset tofu.test _mta-sts TXT && $knot zone-commit tofu.test; } >/dev/null
  echo "== GONE"; notxt; two; two
  echo "== END"
  exit 0
fi
for x in "$steps" "$burst"; do
  if [ ! -x "$x" ]; then echo "1..1"; echo "not ok 1 - $x is built"; exit 1; fi
done
"$top/tests/world/run" cache -- "$0" --inside > "$out" 2>&1
n=0
sect() { sed -n "/^== $1\$/,/^== /p" "$out" | sed '1d;$d'; }
count() { sect "$1" | grep -cE -- "$2"; }
ok() {  # ok DESCRIPTION SECTION CONDITION...
  desc=$1 s=$2; shift 2
  n=$((n + 1))
  if "$@"; then echo "ok $n - $desc"; else echo "not ok $n - $desc"; sect "$s" | sed 's/^/#   /' | tail -n 15; fi
}
echo "1..10"
ok "first fetch: the policy is fetched once for both processes" FIRST [ "$(sect FIRST | grep -c '^gets=1$')" = 1 ]
ok "first fetch: no policy change logged (nothing was there before)" FIRST [ "$(count FIRST 'MTA-STS policy')" = 0 ]
# One fetch per change for both processes: one that takes the lock after
# the other released it finds the other's policy in Redis first.
g() { sect "$1" | sed -n 's/^gets=//p'; }
ok "enforce -> testing under a new id: fetched again, once" DOWNGRADE [ "$(g DOWNGRADE)" = "$(($(g FIRST) + 1))" ]
ok "enforce -> testing: one warning in both processes' logs together" DOWNGRADE \
  [ "$(count DOWNGRADE '^stsfilter: warning: tofu.test: MTA-STS policy downgraded: id 1 -> 2, mode enforce -> testing$')" = 1 -a \
    "$(count DOWNGRADE 'MTA-STS policy')" = 1 ]
ok "an added mx pattern under a new id: fetched again, once" MX [ "$(g MX)" = "$(($(g DOWNGRADE) + 1))" ]
ok "an added mx pattern: one info line (not a downgrade)" MX \
  [ "$(count MX '^stsfilter: tofu.test: MTA-STS policy changed: id 2 -> 3, mx added mx2.tofu.test$')" = 1 -a \
    "$(count MX 'MTA-STS policy')" = 1 ]
ok "the same id again: no fetch, nothing logged" SAME [ "$(g SAME)" = "$(g MX)" -a "$(count SAME 'MTA-STS policy')" = 0 ]
ok "TXT record removed: one warning for both processes over two rounds of rechecks" GONE \
  [ "$(count GONE '^stsfilter: warning: tofu.test: MTA-STS TXT record removed: policy gone \(was mode testing, id 3\); the cached policy stays in force for [0-9]+ s more')" = 1 -a \
    "$(count GONE 'MTA-STS')" = 1 ]
ok "TXT record removed: the cached policy still answers" GONE [ "$(count GONE '^ok 25$')" = 4 ]
ok "every lookup answered (no error line)" END [ "$(grep -cE '^errors=[1-9]' "$out")" = 0 ]
rm -f "$out"
