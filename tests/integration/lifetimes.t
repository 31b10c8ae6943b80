#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): the lifetime of each MX host's result
# (VERDICT_HOST.valid_until, shared/route_host.c), seen through
# tests/tools/route-steps with ROUTE_STEPS_HOSTS=1 ("valid" is
# valid_until minus now, in seconds). Needs root.
# - tarpit-first: the healthy MX's fresh result is stored for
#   cache_success_ttl (1h) and lives that long; the tarpit MX's probe,
#   cut by the 2 s budget, is not stored and lives 0 s; 3 s later the
#   healthy MX's result comes from the probe cache and lives until that
#   record expires (less than 1h from now).
# - dane-valid: a DANE host lives no longer than its TLSA RRset's TTL
#   (300 s), though its probe result is stored for 1h.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${STS_BUILDDIR:-$top}/tests/tools/route-steps
out1=$(mktemp)
out2=$(mktemp)
if [ "${1:-}" = --inside ]; then
  conf=$STS_WORLD/lifetimes.conf
  { cat "$STS_WORLD_CONF"; echo "check_time_budget = 2s"; echo "probe_read_timeout = 30s"
    echo "cache_success_ttl = 1h"; echo "cache_failure_ttl = 5m"; } > "$conf"
  shift
  ROUTE_STEPS_HOSTS=1 "$bin" "$conf" "$@"; echo "exit=$?"
  exit 0
fi
if [ ! -x "$bin" ]; then echo "1..1"; echo "not ok 1 - $bin is built"; exit 1; fi
"$top/tests/world/run" tarpit-first -- "$0" --inside tarpit.test '!sleep 3' tarpit.test > "$out1" 2>&1
"$top/tests/world/run" dane-valid -- "$0" --inside dane.test > "$out2" 2>&1

# valid FILE NTH HOST: the valid= field of HOST's NTH host line
valid() {
  grep "^  host $3 " "$1" | sed -n "$2p" | sed -n 's/.* valid=\([-0-9a-z]*\)$/\1/p'
}
# check N DESC VALUE LO HI FILE
check() {
  if [ -n "$3" ] && [ "$3" != none ] && [ "$3" -ge "$4" ] && [ "$3" -le "$5" ]; then echo "ok $1 - $2 ($3 s)"
  else echo "not ok $1 - $2 (got '$3', want $4..$5)"; sed 's/^/#   /' "$6"; fi
}
echo "1..5"
check 1 "a fresh stored result lives cache_success_ttl" "$(valid "$out1" 1 fast.tarpit.test)" 3598 3600 "$out1"
check 2 "a probe cut by the budget is not stored: it lives 0 s" "$(valid "$out1" 1 slow.tarpit.test)" -3 0 "$out1"
check 3 "a result from the probe cache lives until the record expires" "$(valid "$out1" 2 fast.tarpit.test)" 3580 3597 "$out1"
check 4 "a result that was not stored is never reused" "$(valid "$out1" 2 slow.tarpit.test)" -3 0 "$out1"
check 5 "a DANE host's result lives no longer than its TLSA TTL (300 s)" "$(valid "$out2" 1 mx.dane.test)" 290 300 "$out2"
rm -f "$out1" "$out2"
