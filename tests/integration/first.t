#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): ROUTE_FIRST, the mode the front ends use at RCPT
# time, answers as soon as one MX host passes instead of waiting for a
# tarpit MX; the process then exits cleanly while that probe is still
# running (route_free() waits for it). Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${STS_BUILDDIR:-$top}/tests/tools/route-steps
out=$(mktemp)
if [ "${1:-}" = --inside ]; then
  conf=$STS_WORLD/first.conf
  { cat "$STS_WORLD_CONF"; echo "probe_read_timeout = 5s"; echo "check_time_budget = 8s"; } > "$conf"
  "$bin" "$conf" +tarpit.test; echo "exit=$?"
  exit 0
fi
if [ ! -x "$bin" ]; then echo "1..1"; echo "not ok 1 - $bin is built"; exit 1; fi
"$top/tests/world/run" tarpit-first -- "$0" --inside > "$out" 2>&1
echo "1..3"
line=$(grep '^tarpit.test' "$out")
ms=$(printf '%s\n' "$line" | sed -n 's/.*total_ms=\([0-9]*\).*/\1/p')
if printf '%s\n' "$line" | grep -q '^tarpit.test ok '; then echo "ok 1 - tarpit MX first: verdict ok"
else echo "not ok 1 - tarpit MX first: verdict ok"; sed 's/^/#   /' "$out"; fi
if [ -n "$ms" ] && [ "$ms" -lt 5000 ]; then
  echo "ok 2 - the verdict comes before the tarpit's 5 s read timeout (${ms} ms)"
else
  echo "not ok 2 - the verdict comes before the tarpit's 5 s read timeout"; echo "#   $line"
fi
if grep -q '^exit=0$' "$out"; then echo "ok 3 - the engine shuts down cleanly with a probe still running"
else echo "not ok 3 - the engine shuts down cleanly with a probe still running"; sed 's/^/#   /' "$out"; fi
rm -f "$out"
