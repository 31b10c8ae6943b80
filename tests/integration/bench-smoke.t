#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): `bench/run --smoke` runs the bench suite with tiny
counts in the `bench` world, so that the bench cannot rot. Asserts that it
exits 0 and writes well-formed results: the machine, the date, the command,
every section (milter round trips for LMDB and Redis at 1 and 8 connections,
in-process warm decisions (bench/decide) for every verdict class with LMDB
and Redis, threads per decision, Postfix throughput with smtp-source alone /
with stsfilter-milter / with the no-op milter and their ratios, socketmap
queries/s of stsfilter-policyd and postfix-mta-sts-resolver, both answering
good.test with a secure policy; the LMDB scale run with no failed put; Redis
memory per chunk of distinct lookups), each figure a positive number with a
min-max spread; the milter answered RCPTs; each class's domain got its
class's verdict in bench/decide; the sending Postfix answered after every
reload without being started again (it wedged on postlogd's datagram socket
while the world left net.unix.max_dgram_qlen at 10). No timing is asserted. Needs root."""

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
print("1..14")
out = tempfile.mktemp(suffix=".md")
env = dict(os.environ, STS_BENCH_OUT=out)
r = subprocess.run([os.path.join(TOP, "bench/run"), "--smoke"], capture_output=True, text=True, env=env, timeout=900)
ok(r.returncode == 0, "bench/run --smoke exits 0", r.stdout[-1500:] + r.stderr[-1500:])
text = open(out).read() if os.path.exists(out) else ""
ok(re.search(r"^- machine: \d+ CPUs \(nproc\), .+", text, re.M) and re.search(r"^- date: \d{4}-\d\d-\d\d", text, re.M)
   and "- command: `bench/run --smoke`" in text, "machine, date and command are recorded", text[:400])
want = ["milter RCPT round trip", "in-process warm decision (µs)", "threads created per warm decision",
        "Postfix throughput (smtp-source, messages/s)", "Postfix throughput ratios", "socketmap queries/s, warm enforce domain", "scale: 2000 policies + 2000 negative",
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
classes = [("ok", "good.test", "ok"), ("enforce-fail", "expired.test", "enforce-fail"),
           ("testing-fail", "testing.test", "testing-fail"), ("no-policy", "nopolicy.test", "no-policy"),
           ("DANE", "dane.test", r"ok \(dane\)")]
ok(all(re.search(r"^\| %s \(%s\), %s, %s \|" % (re.escape(c), re.escape(d), be, q), text, re.M)
       for c, d, _ in classes for be in ("lmdb", "redis") for q in ("p50", "p99", "mean")),
   "in-process warm decision: p50, p99 and mean for every class, LMDB and Redis", text[:3000])
ok(all(re.search(r"^\| in-process, %s \(%s\), %s \(\d+ decisions\) \|" % (re.escape(c), re.escape(d), be), text, re.M)
       for c, d, _ in classes for be in ("lmdb", "redis")),
   "threads created per in-process decision, every class, LMDB and Redis", text[:4000])
for be in ("lmdb", "redis"):
    m = re.search(r"^- bench/decide verdicts, %s: (.*)$" % be, text, re.M)
    want_v = "; ".join("%s: %s=%s" % (c, re.escape(d), v) for c, d, v in classes)
    ok(m and re.fullmatch(want_v, m.group(1)), "bench/decide, %s: every class got its verdict" % be,
       m.group(0) if m else text[-1500:])
ok(all(re.search(p, x) for p in [r"^alone, 1 sessions$", r"^sts-inet, 9 sessions$", r"^noop-unix, 1 sessions$",
                                 r"^sts-inet-tagged, 9 sessions$", r"^sts ÷ no-op milter, unix:, 9 sessions$"]
       for x in [next((n for n in names if re.search(p, n)), "")]),
   "smtp-source throughput alone, with stsfilter-milter and the no-op milter, and ratios", names)
ok(re.search(r"^- sending Postfix: banner checks that failed after a reload \(and started it again\): 0$", text, re.M),
   "the sending Postfix answered after every reload", text[-1500:])
ok(re.search(r"milter replies seen for good\.test: \{'c': \d+\}", text), "the milter answered the RCPTs (continue)",
   text[-500:])
ok(re.search(r"socketmap reply for good\.test from stsfilter-policyd: OK secure", text)
   and re.search(r"socketmap reply for good\.test from mta-sts-daemon: OK secure", text),
   "both socketmap servers answer good.test with a secure policy", text[-800:])
ok(re.search(r"^\| failed puts \| 0 \|", text, re.M) and re.search(r"^\| records in LMDB \| 4000 \|", text, re.M),
   "scale run: every put stored, none failed", text[-1500:])
# For the log (never asserted): the in-process section and the decide notes.
m = re.search(r"^## in-process warm decision.*?(?=^## )", text, re.M | re.S)
for line in (m.group(0).splitlines() if m else []) + re.findall(r"^- bench/decide verdicts.*$", text, re.M):
    print("# " + line)
if os.path.exists(out):
    os.unlink(out)
