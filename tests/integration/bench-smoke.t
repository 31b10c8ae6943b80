#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): `bench/run --smoke` runs the bench suite with tiny
counts in the `bench` world, so that the bench cannot rot. Asserts that it
exits 0 and writes well-formed results: the machine, the date, the command,
every section (milter round trips for LMDB and Redis at 1 and 8 connections,
threads per decision, Postfix throughput alone / with stsfilter-milter / with
the no-op milter is left out of --smoke: the world's sending Postfix has
been seen to hang after bursts of reloads;
socketmap queries/s of stsfilter-policyd and postfix-mta-sts-resolver, both
answering good.test with a secure policy; the LMDB scale run with no failed
put; Redis memory per chunk of distinct lookups),
each figure a positive number with a min-max spread; the milter answered
RCPTs. No timing is asserted. Needs root."""

import os, re, subprocess, sys, tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
n = 0
def ok(cond, desc, diag=""):
    global n
    n += 1
    print("%sok %d - %s" % ("" if cond else "not ", n, desc))
    if not cond and diag:
        print("# " + str(diag).replace("\n", "\n# "))

if os.geteuid() != 0:
    print("1..0 # SKIP needs root")
    sys.exit(0)
print("1..9")
out = tempfile.mktemp(suffix=".md")
env = dict(os.environ, STS_BENCH_OUT=out)
r = subprocess.run([os.path.join(TOP, "bench/run"), "--smoke"], capture_output=True, text=True, env=env, timeout=900)
ok(r.returncode == 0, "bench/run --smoke exits 0", r.stdout[-1500:] + r.stderr[-1500:])
text = open(out).read() if os.path.exists(out) else ""
ok(re.search(r"^- machine: \d+ CPUs \(nproc\), .+", text, re.M) and re.search(r"^- date: \d{4}-\d\d-\d\d", text, re.M)
   and "- command: `bench/run --smoke`" in text, "machine, date and command are recorded", text[:400])
want = ["milter RCPT round trip", "threads created per warm decision", "socketmap queries/s, warm enforce domain", "scale: 2000 policies + 2000 negative",
        "Redis: distinct lookups"]
ok(all("## " + w in text for w in want), "every section is there", text[:2000])
figs = re.findall(r"^\| ([^|]+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", text, re.M)
figs = [f for f in figs if f[0] not in ("measure", "---")]
bad = [f for f in figs if not re.match(r"^[\d.e+-]+$", f[1].strip()) or not (f[2].strip() == "-" or re.match(r"^[\d.e+-]+-[\d.e+-]+$", f[2].strip()))]
ok(figs and not bad, "every figure is a number with a min-max spread", bad[:5])
names = [f[0].strip() for f in figs]
ok(all(any(re.search(p, x) for x in names) for p in
       [r"good\.test, lmdb, 1 conn, p99", r"good\.test, redis, 8 conn, p50", r"nopolicy\.test, redis, 1 conn, p50"]),
   "round trips for LMDB and Redis, 1 and 8 connections", names[:10])
ok("--smoke: Postfix throughput (smtp-source) not run" in text, "the smoke run says it leaves out smtp-source", text[-800:])
ok(re.search(r"milter replies seen for good\.test: \{'c': \d+\}", text), "the milter answered the RCPTs (continue)",
   text[-500:])
ok(re.search(r"socketmap reply for good\.test from stsfilter-policyd: OK secure", text)
   and re.search(r"socketmap reply for good\.test from mta-sts-daemon: OK secure", text),
   "both socketmap servers answer good.test with a secure policy", text[-800:])
ok(re.search(r"^\| failed puts \| 0 \|", text, re.M) and re.search(r"^\| records in LMDB \| 4000 \|", text, re.M),
   "scale run: every put stored, none failed", text[-1500:])
if os.path.exists(out):
    os.unlink(out)
