#!/usr/bin/python3
"""Integration test (TAP): `stsfilter check` gives the declared verdict and
reason codes for every scenario's [[expect]] entries, inside that scenario's
world of real servers. Also: the JSON and text outputs agree, the time by
stage is shown, the exit status follows the verdict, and a tarpit MX does not
hold a check past its budget.

Needs root. STS_SCENARIOS (space-separated) limits the scenarios."""

import glob
import json
import os
import subprocess
import sys
import tomllib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
CLI = os.path.join(BUILD, "stsfilter")
RUN = os.path.join(TOP, "tests/world/run")
BUDGET_S = 6
results = []


def emit(ok, desc, diag=""):
    results.append((bool(ok), desc, diag))


def scenarios():
    names = os.environ.get("STS_SCENARIOS")
    if names:
        return names.split()
    out = []
    for path in sorted(glob.glob(os.path.join(TOP, "tests/world/scenarios/*.toml"))):
        with open(path, "rb") as fp:
            sc = tomllib.load(fp)
        if sc.get("expect") and not sc.get("include"):
            out.append(os.path.splitext(os.path.basename(path))[0])
    return out


INSIDE = r'''
import json, os, subprocess, sys
conf = os.path.join(os.environ["STS_WORLD"], "check.conf")
with open(conf, "w") as fp:
    fp.write(open(os.environ["STS_WORLD_CONF"]).read())
    fp.write("check_time_budget = %ds\nprobe_read_timeout = 3s\nprobe_connect_timeout = 2s\n" % int(sys.argv[2]))
w = json.load(open(os.environ["STS_WORLD_JSON"]))
out = []
for e in w["expect"]:
    j = subprocess.run([sys.argv[1], "-c", conf, "check", "--json", e["domain"]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    t = subprocess.run([sys.argv[1], "-c", conf, "check", e["domain"]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    out.append({"expect": e, "json_rc": j.returncode, "json": j.stdout, "json_err": j.stderr,
                "text_rc": t.returncode, "text": t.stdout, "text_err": t.stderr})
print(json.dumps(out))
'''

EXIT = {"ok": 0, "no-policy": 0, "none": 0, "testing-fail": 1, "enforce-fail": 1, "null-mx": 1, "temporary": 2}

if not os.access(CLI, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % CLI)
    sys.exit(1)

for name in scenarios():
    r = subprocess.run([RUN, name, "--", sys.executable, "-c", INSIDE, CLI, str(BUDGET_S)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    try:
        runs = json.loads(r.stdout)
    except ValueError:
        emit(False, "[%s] world ran the checks" % name, r.stdout[-500:] + r.stderr[-500:])
        continue
    for run in runs:
        e = run["expect"]
        d = e["domain"]
        try:
            v = json.loads(run["json"])
        except ValueError:
            emit(False, "[%s] check --json %s prints JSON" % (name, d), run["json"][-300:] + run["json_err"][-300:])
            continue
        emit(v.get("verdict") == e["verdict"], "[%s] check %s: verdict %s" % (name, d, e["verdict"]),
             "got %s: %s" % (v.get("verdict"), v.get("explanation")))
        seen = {v.get("reason")} | {h.get("reason") for h in v.get("hosts", [])} | \
               {h.get("result") for h in v.get("hosts", [])}
        for reason in e["reasons"]:
            emit(reason in seen, "[%s] check %s: reason %s" % (name, d, reason),
                 "got %s; %s" % (sorted(x for x in seen if x), v.get("explanation")))
        for warn in e.get("warnings", []):
            emit(any(warn in w for w in v.get("warnings", [])), "[%s] check %s: warning \"%s\"" % (name, d, warn),
                 "got %s" % v.get("warnings"))
        emit(run["json_rc"] == EXIT[e["verdict"]] and run["text_rc"] == run["json_rc"],
             "[%s] check %s exits %d" % (name, d, EXIT[e["verdict"]]),
             "json exit %d, text exit %d" % (run["json_rc"], run["text_rc"]))
        text = run["text"]
        emit(("verdict: %s:" % e["verdict"]) in text and v.get("explanation", "?") in text
             and "time: dns" in text and "fetch" in text and "probe" in text,
             "[%s] check %s text output shows the verdict, explanation and time by stage" % (name, d),
             text[-600:] + run["text_err"][-200:])
        tm = v.get("time_ms", {})
        emit(all(k in tm for k in ("dns", "fetch", "probe", "total")) and tm["total"] <= BUDGET_S * 1000 + 500,
             "[%s] check %s stays within its %d s budget (stage times in JSON)" % (name, d, BUDGET_S),
             json.dumps(tm))

print("1..%d" % len(results))
for i, (ok, desc, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    if not ok:
        for line in str(diag).strip().splitlines()[-10:]:
            print("#   " + line)
