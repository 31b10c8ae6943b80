#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): `stsfilter check` under valgrind memcheck over
the public scenarios, in one world that includes them all: every scenario
in tests/world/scenarios/ with [[expect]] entries and no include (the ones
check.t runs), plus cert-profiles (one MX per certificate profile; slow,
stalled and missing policy hosts). Left out: the aggregates that only
include others (seeds, seeds-fetch, redis, cache) and the opt-in OpenSMTPD
world (smtpd-filter).

One process checks every domain twice in a row (cold, then warm: the
resolver's cache and whatever the engine keeps in memory; `stsfilter
check` uses no shared cache), under

    valgrind --leak-check=full --errors-for-leak-kinds=definite,indirect

with tests/valgrind.supp, which suppresses only one-time initialization
inside libraries (each entry says why). It must report zero errors and
zero definite or indirect leaks, and every domain must get a verdict.

Needs root and valgrind."""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
CLI = os.path.join(BUILD, "stsfilter")
RUN = os.path.join(TOP, "tests/world/run")
SUPP = os.path.join(TOP, "tests/valgrind.supp")
VG_ERR = 99             # valgrind's exit status when it found errors or leaks
EXTRA = ["cert-profiles"]


def public_scenarios():
    out = []
    for path in sorted(glob.glob(os.path.join(TOP, "tests/world/scenarios/*.toml"))):
        with open(path, "rb") as fp:
            sc = tomllib.load(fp)
        if sc.get("expect") and not sc.get("include"):
            out.append(os.path.splitext(os.path.basename(path))[0])
    return out + EXTRA


def inside():
    w = json.load(open(os.environ["STS_WORLD_JSON"]))
    domains = [e["domain"] for e in w["expect"]]
    # cert-profiles declares no [[expect]]: check its policy domains.
    domains += [ph["domain"] for ph in w["policy_hosts"] if ph["domain"].endswith("certs.test")]
    domains = sorted(set(domains))
    conf = os.path.join(os.environ["STS_WORLD"], "valgrind.conf")
    with open(conf, "w") as fp:
        fp.write(open(os.environ["STS_WORLD_CONF"]).read())
        # valgrind runs the code 20-50 times slower: generous limits, so
        # that verdicts do not depend on the machine's speed.
        fp.write("check_time_budget = 60s\npolicy_fetch_timeout = 10s\nprobe_read_timeout = 10s\n"
                 "probe_connect_timeout = 5s\ndns_timeout = 10s\n")
    out = {"domains": domains, "runs": []}
    log = os.path.join(os.environ["STS_WORLD"], "valgrind.log")
    r = subprocess.run(["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
                        "--show-leak-kinds=definite,indirect", "--error-exitcode=%d" % VG_ERR,
                        "--suppressions=" + SUPP, "--num-callers=30", "--log-file=" + log,
                        CLI, "-c", conf, "check", "--json"] + domains + domains,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1500)
    out["runs"].append({"rc": r.returncode, "stdout": r.stdout, "stderr": r.stderr[-3000:],
                        "log": open(log, errors="replace").read()})
    print("RESULTS " + json.dumps(out))
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inside":
        return inside()
    if not os.access(CLI, os.X_OK) or not shutil.which("valgrind"):
        print("1..1\nnot ok 1 - %s is built and valgrind is installed (tools/setup)" % CLI)
        return 1
    names = public_scenarios()
    tmp = tempfile.mkdtemp(prefix="sts-valgrind-")
    scen = os.path.join(tmp, "valgrind-public.toml")
    with open(scen, "w") as fp:
        fp.write('description = "valgrind.t: every public scenario in one world"\n')
        fp.write("include = [%s]\n" % ", ".join('"%s"' % n for n in names))
    r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) +
                       [scen, "--", sys.executable, os.path.abspath(__file__), "--inside"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=3000)
    shutil.rmtree(tmp, ignore_errors=True)
    res = None
    for line in r.stdout.splitlines():
        if line.startswith("RESULTS "):
            res = json.loads(line[8:])
    if res is None:
        print("1..1\nnot ok 1 - the world of the public scenarios ran valgrind")
        for l in (r.stdout[-1500:] + r.stderr[-3000:]).splitlines():
            print("# " + l)
        return 1
    results = []
    for run in res["runs"]:
        what = "stsfilter check, %d domains twice" % len(res["domains"])
        log = run["log"]
        m = re.search(r"ERROR SUMMARY: (\d+) errors", log)
        errors = int(m.group(1)) if m else -1
        leaks = {k: int(v.replace(",", "")) for k, v in
                 re.findall(r"(definitely|indirectly) lost: ([\d,]+) bytes", log)}
        # The error blocks, without valgrind's pid prefix, for the diagnosis.
        blocks = re.sub(r"^==\d+== ?", "", log, flags=re.M)
        results.append((m is not None and errors == 0, "%s: valgrind reports no errors (%d)" % (what, errors),
                        blocks[-4000:]))
        results.append((leaks.get("definitely", 0) == 0 and leaks.get("indirectly", 0) == 0,
                        "%s: no definite or indirect leaks (%s)" % (what, leaks or "none found"), blocks[-4000:]))
        results.append((run["rc"] != VG_ERR and run["rc"] in (0, 1, 2),
                        "%s: stsfilter check exited with a verdict status, not valgrind's (%d)" % (what, run["rc"]),
                        run["stderr"]))
        try:
            # check --json: {"version": 1, "results": [one entry per domain]}
            got = json.loads(run["stdout"])["results"]
            seen = sorted(x.get("domain") for x in got if x.get("verdict"))
        except (ValueError, AttributeError, KeyError, TypeError):
            got, seen = [], []
        results.append((seen == sorted(res["domains"] * 2), "%s: a verdict for each, both times" % what,
                        "got %s\n%s" % (seen, run["stdout"][-1500:])))

    print("1..%d" % len(results))
    failed = 0
    for i, (ok, desc, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
        if not ok:
            failed += 1
            for l in str(diag).splitlines()[-60:]:
                print("#   " + l)
    print("# scenarios: " + " ".join(names))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
