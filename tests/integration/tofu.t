#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): the policy cache of RFC 8461 section 5.1 in one
# running engine, while the world changes under it: an unchanged TXT id
# costs no fetch; a new id whose policy cannot be fetched, a failed TXT
# lookup and a removed TXT record all leave the cached enforce policy in
# force. Uses knotc to edit the live zone and stops nginx. Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${STS_BUILDDIR:-$top}/tests/tools/route-steps
out=$(mktemp)
if [ "${1:-}" = --inside ]; then
  knot="knotc -c $STS_WORLD/dns/knot.conf"
  txt() { echo "$knot zone-begin tofu.test && $knot zone-unset tofu.test _mta-sts TXT && ${1:+$knot zone-set tofu.test _mta-sts 0 TXT '\"$1\"' &&} $knot zone-commit tofu.test >/dev/null"; }
  # Look the TXT record up on every check (no txt_recheck_interval), so
  # that the steps below see each change at once.
  conf=$STS_WORLD/tofu.conf
  { cat "$STS_WORLD_CONF"; echo "txt_recheck_interval = 0"; } > "$conf"
  exec "$bin" "$conf" tofu.test tofu.test \
    "!grep -c 'GET /.well-known' $STS_WORLD/https/access.log | sed 's/^/gets=/'" \
    "!kill \$(cat $STS_WORLD/https/nginx.pid); sleep 0.3" \
    "!$(txt 'v=STSv1; id=2')" tofu.test \
    "!$(txt '')" tofu.test
fi
if [ ! -x "$bin" ]; then echo "1..1"; echo "not ok 1 - $bin is built"; exit 1; fi
"$top/tests/world/run" tofu -- "$0" --inside > "$out" 2>&1
n=0
check() {  # check DESCRIPTION LINE-NUMBER-OF-RESULT PATTERN...
  desc=$1 nth=$2; shift 2
  n=$((n + 1))
  line=$(grep -E '^(tofu.test|gets=)' "$out" | sed -n "${nth}p")
  for pat in "$@"; do
    if ! printf '%s\n' "$line" | grep -qE -- "$pat"; then
      echo "not ok $n - $desc"; sed 's/^/#   /' "$out" | tail -n 12; return
    fi
  done
  echo "ok $n - $desc"
}
echo "1..5"
check "first check fetches the policy: ok" 1 '^tofu.test ok cached=0 has_policy=1'
check "same TXT id: the cached policy is used" 2 '^tofu.test ok cached=1'
check "the policy host saw one fetch for two checks" 3 '^gets=1$'
check "new TXT id, policy host down: the cached enforce policy stays in force" 4 \
  '^tofu.test ok cached=1 has_policy=1' 'policy refresh failed.*cached policy stays in force'
check "TXT record removed: the cached policy stays in force" 5 \
  '^tofu.test ok cached=1 has_policy=1' 'no MTA-STS TXT record; the cached policy stays'
rm -f "$out"
