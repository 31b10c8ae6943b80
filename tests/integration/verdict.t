#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): where RFC 8461 section 3.3 draws the line between
# no-policy and temporary for a policy host that never answers (the
# policy-stall world), with `stsfilter check`:
# - policy_fetch_timeout below check_time_budget: the fetch times out on
#   its own, as it would for any sender, so senders deliver without MTA-STS:
#   no-policy, reason sts-policy-fetch-error, a warning, exit 0;
# - check_time_budget below policy_fetch_timeout: the budget ended the fetch,
#   so the check is undecided: temporary, exit 2.
# Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
cli=${STS_BUILDDIR:-$top}/stsfilter
out=$(mktemp)
trap 'rm -f "$out"' EXIT

inside() {
  for case in "fetch:policy_fetch_timeout = 2s:check_time_budget = 8s" \
              "budget:policy_fetch_timeout = 10s:check_time_budget = 3s"; do
    name=${case%%:*}; rest=${case#*:}
    c=$STS_WORLD/$name.conf
    { cat "$STS_WORLD_CONF"; printf '%s\n%s\n' "${rest%%:*}" "${rest#*:}"; } > "$c"
    echo "== $name"
    "$cli" -c "$c" check --json stall.test; echo "exit=$?"
  done
}
if [ "${1:-}" = --inside ]; then inside; exit 0; fi

if [ ! -x "$cli" ]; then echo "1..1"; echo "not ok 1 - $cli is built"; exit 1; fi
"$top/tests/world/run" policy-stall -- "$0" --inside > "$out" 2>&1
echo "1..2"
python3 - "$out" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
def section(name):
    m = re.search(r"^== %s\n(.*?)^exit=(\d+)$" % name, text, re.S | re.M)
    if not m:
        return None, None
    try:
        # check --json: {"version": 1, "results": [one entry per domain]}
        return json.loads(m.group(1))["results"][0], int(m.group(2))
    except (ValueError, KeyError, IndexError):
        return None, int(m.group(2))
n = 0
for name, verdict, rc, warn, says, desc in (
        ("fetch", "no-policy", 0, True, "they deliver without MTA-STS and report sts-policy-fetch-error",
         "a fetch timeout within the budget: no-policy, sts-policy-fetch-error, warned, exit 0 (RFC 8461 3.3)"),
        ("budget", "temporary", 2, False, "before the check's time budget ran out",
         "the budget ending the fetch: temporary, sts-policy-fetch-error, said so, exit 2")):
    n += 1
    v, got_rc = section(name)
    ok = (v is not None and v.get("verdict") == verdict and v.get("reason") == "sts-policy-fetch-error"
          and got_rc == rc and says in v.get("explanation", "")
          and any("senders deliver without MTA-STS" in w for w in (v.get("warnings") or [])) == warn)
    print("%s %d - %s" % ("ok" if ok else "not ok", n, desc))
    if not ok:
        print("#   exit %s: %s" % (got_rc, json.dumps(v)[:600] if v else text[-600:].replace("\n", "\n#   ")))
PY
