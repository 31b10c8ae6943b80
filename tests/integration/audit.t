#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): `stsfilter audit` in the `seeds` world (10
domains: healthy, DANE, tarpit, MTA-STS failures of every kind) reads a
synthetic Postfix log and a Sendmail log (retries, a queue id with two
recipients, local and skipped domains, a content-filter hop, an over-long
line), checks every recipient domain with the engine and gives the summary
by domain and message count, as text and as JSON, with the exit status of
`check`. A progress bar appears on a terminal and not elsewhere. In the
`check-diagnosis` world, a list of domains on standard input: seed 001
(ok by RFC 8461, enforce-fail for Outlook.com) and TXT records that are
not MTA-STS records are warnings, and nothing fails (exit 0); --rate
spaces the starts of the checks.

Needs root."""

import json
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
CLI = os.path.join(BUILD, "stsfilter")
RUN = os.path.join(TOP, "tests/world/run")
results = []


def emit(ok, desc, diag=""):
    results.append((bool(ok), desc, diag))


# Runs inside the world: writes the logs and the configuration, runs the
# audits, prints what they gave as one JSON object.
INSIDE = r'''
import json, os, pty, subprocess, sys, threading
cli, mode = sys.argv[1], sys.argv[2]
world = os.environ["STS_WORLD"]
w = json.load(open(os.environ["STS_WORLD_JSON"]))
conf = os.path.join(world, "audit.conf")
with open(conf, "w") as fp:
    fp.write(open(os.environ["STS_WORLD_CONF"]).read())
    fp.write("check_time_budget = 6s\nprobe_read_timeout = 3s\nprobe_connect_timeout = 2s\n")
    fp.write("local_domains = mail.example.test\nskip_domains = .partner.test\n")

def run(args, stdin=None, tty=False):
    if not tty:
        r = subprocess.run([cli, "-c", conf, "audit"] + args, input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=300)
        return {"rc": r.returncode, "out": r.stdout, "err": r.stderr}
    master, slave = pty.openpty()
    got = []
    def reader():
        while True:
            try:
                b = os.read(master, 4096)
            except OSError:
                break
            if not b:
                break
            got.append(b)
    t = threading.Thread(target=reader)
    t.start()
    r = subprocess.run([cli, "-c", conf, "audit"] + args, stdout=subprocess.PIPE, stderr=slave,
                       text=True, timeout=300)
    os.close(slave)
    t.join(10)
    os.close(master)
    return {"rc": r.returncode, "out": r.stdout, "err": b"".join(got).decode("utf-8", "replace")}

out = {"expect": w["expect"]}
if mode == "logs":
    domains = sorted(e["domain"] for e in w["expect"])
    counts = {}
    pf, sm = [], []
    qid = 0x1A0000
    for k, d in enumerate(domains):
        n = k + 1                      # 1 to 10 messages: a strict order
        counts[d] = n
        for m in range(n):
            qid += 1
            q = "%X" % qid
            rcpt = "user%d@%s" % (m, d)
            if m == 0:                 # a retry: deferred, then sent, counts once
                pf.append("Nov 29 10:00:00 mx postfix/smtp[100]: %s: to=<%s>, relay=none, delay=30, "
                          "delays=0/0/30/0, dsn=4.4.1, status=deferred (connect to mx.%s[192.0.2.1]:25: "
                          "Connection timed out)" % (q, rcpt, d))
            pf.append("Nov 29 10:10:00 mx postfix/smtp[101]: %s: to=<%s>, orig_to=<alias@elsewhere.test>, "
                      "relay=mx.%s[192.0.2.1]:25, delay=600, delays=570/0/20/10, dsn=2.0.0, status=sent "
                      "(250 ok)" % (q, rcpt, d))
    # One queue id, two recipients at the busiest domain: two messages.
    top = domains[-1]
    for r in ("\"a@b\"@" + top, "second@" + top.upper()):
        pf.append("Nov 29 10:20:00 mx postfix/smtp[102]: 1FFFFF: to=<%s>, relay=mx.%s[192.0.2.1]:25, delay=1, "
                  "delays=0/0/0.5/0.5, dsn=2.0.0, status=sent (250 ok)" % (r, top))
    counts[top] += 2
    # Not counted: the content-filter hop, a local delivery, an over-long line.
    pf.append("Nov 29 10:21:00 mx postfix/smtp[103]: 1FFFFE: to=<x@%s>, relay=127.0.0.1[127.0.0.1]:10024, "
              "delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 queued as 1FFFFD)" % top)
    pf.append("Nov 29 10:21:01 mx postfix/local[104]: 1FFFFC: to=<root@mail.example.test>, relay=local, "
              "delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)")
    pf.append("Nov 29 10:21:02 mx postfix/smtp[105]: 1FFFFB: to=<y@overlong.test>, relay=none, delay=0, "
              "dsn=4.0.0, status=deferred (" + "x" * 5000 + ")")
    # Local and skipped domains through smtp (a second MX of ours, a partner).
    pf.append("Nov 29 10:22:00 mx postfix/smtp[106]: 1FFFFA: to=<z@mail.example.test>, relay=mail.example.test"
              "[192.0.2.2]:25, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)")
    pf.append("Nov 29 10:22:01 mx postfix/smtp[106]: 1FFFF9: to=<z@eu.partner.test>, relay=mx.eu.partner.test"
              "[192.0.2.3]:25, delay=0, delays=0/0/0/0, dsn=2.0.0, status=sent (250 ok)")
    # Sendmail: one line, two recipients at two domains.
    sm.append("Nov 29 11:00:00 mx sm-mta[200]: 4ATB01xk000001: to=<s1@%s>,<s2@%s>, delay=00:00:01, "
              "xdelay=00:00:01, mailer=esmtp, pri=120385, relay=mx.%s. [192.0.2.1], dsn=2.0.0, stat=Sent (ok)"
              % (domains[0], domains[1], domains[0]))
    counts[domains[0]] += 1
    counts[domains[1]] += 1
    for name, lines in (("maillog", pf), ("sendmail.log", sm)):
        with open(os.path.join(world, name), "w") as fp:
            fp.write("\n".join(lines) + "\n")
    logs = [os.path.join(world, "maillog"), os.path.join(world, "sendmail.log")]
    out["counts"] = counts
    out["json"] = run(["--json", "--rate", "0", "--concurrency", "8"] + logs)
    out["text"] = run(logs)            # the defaults: 4 at once, 5 a second
    out["tty"] = run(["--rate", "0"] + logs, tty=True)
else:
    names = "\n".join(e["domain"] for e in w["expect"]) + "\n"
    out["text"] = run([], stdin=names)
    out["json"] = run(["--json"], stdin=names)
    # The pacing: 9 domains at 4 a second start over at least 2 s (8 gaps of
    # 0.25 s), however fast the world answers (a lower bound, never flaky).
    import time
    t0 = time.monotonic()
    out["paced"] = run(["--rate", "4/s", "--concurrency", "8"], stdin=names)
    out["paced_s"] = time.monotonic() - t0
    out["domains"] = len(w["expect"])
print(json.dumps(out))
'''


def world(name, mode):
    r = subprocess.run([RUN, name, "--", sys.executable, "-c", INSIDE, CLI, mode], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=900)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1]), ""
    except (ValueError, IndexError):
        return None, (r.stdout + r.stderr)[-1500:]


def doc_of(run):
    try:
        return json.loads(run["out"])
    except (ValueError, KeyError, TypeError):
        return {}


# --- seeds: Postfix and Sendmail logs -------------------------------------
o, diag = world("seeds", "logs")
emit(o is not None, "[seeds] the world came up and the audits ran", diag)
if o:
    expect = {e["domain"]: e["verdict"] for e in o["expect"]}
    counts = o["counts"]
    j, t, tty = o["json"], o["text"], o["tty"]
    doc = doc_of(j)
    res = doc.get("results") or []
    summ = doc.get("summary") or {}
    order = sorted(counts, key=lambda d: (-counts[d], d))
    emit(doc.get("version") == 1 and [r.get("domain") for r in res] == order,
         "JSON: {version: 1, results}, every domain once, most messages first",
         json.dumps([(r.get("domain"), r.get("messages")) for r in res]) + j["err"][-300:])
    emit(res and all(r.get("messages") == counts.get(r.get("domain")) for r in res),
         "JSON: messages per domain count queue id + recipient (retries once, two recipients twice,"
         " Sendmail's two-recipient line, not the content-filter hop)",
         json.dumps({r.get("domain"): [r.get("messages"), counts.get(r.get("domain"))] for r in res}))
    emit(res and all(r.get("verdict") == expect.get(r.get("domain")) for r in res),
         "JSON: each domain's verdict is the world's expected one",
         json.dumps({r.get("domain"): [r.get("verdict"), expect.get(r.get("domain"))] for r in res}))
    top = order[0]
    emit(any(r.get("domain") == top and r.get("log", {}).get("deferred") == 1 and r.get("log", {}).get("sent")
             == counts[top] for r in res),
         "JSON: log counts the lines by status (one deferral, then sent)",
         json.dumps([r.get("log") for r in res if r.get("domain") == top]))
    fails = [d for d in order if expect[d] == "enforce-fail"]
    degrade = [d for d in order if expect[d] == "testing-fail" or d == "fetcherr.test"]
    emit(summ.get("fail") == fails and summ.get("degrade") == degrade,
         "JSON summary: fail lists the enforce-fail domains, degrade the testing-fail one and the"
         " policy that cannot be fetched, by messages",
         json.dumps({"fail": summ.get("fail"), "degrade": summ.get("degrade"), "want": [fails, degrade]}))
    want_v = {}
    for d, v in expect.items():
        c = want_v.setdefault(v, {"domains": 0, "messages": 0})
        c["domains"] += 1
        c["messages"] += counts[d]
    emit(all((summ.get("verdicts") or {}).get(v) == c for v, c in want_v.items())
         and summ.get("checked") == len(expect) and summ.get("messages") == sum(counts.values()) + 2,
         "JSON summary: domains and messages per verdict, the checked domains, all messages",
         json.dumps(summ.get("verdicts")) + " checked %s messages %s" % (summ.get("checked"), summ.get("messages")))
    emit(summ.get("skipped") == {"domains": 2, "messages": 2} and summ.get("overlong_lines") == 1
         and summ.get("formats") == ["postfix", "sendmail"] and summ.get("exit") == 1
         and sorted(summ.get("ok") or []) == sorted(d for d in order if d not in fails + degrade),
         "JSON summary: local_domains and skip_domains skipped, the over-long line skipped, both formats",
         json.dumps(summ)[:900])
    emit(j["rc"] == 1 and t["rc"] == 1 and tty["rc"] == 1,
         "exit status 1: some domain would fail", "%s %s %s" % (j["rc"], t["rc"], tty["rc"]))
    txt = t["out"]
    ok = "would fail (" in txt and "by verdict:" in txt
    bad = []
    for d in fails:
        m = re.search(r"^\s+(\d+)\s+%s\s+enforce-fail\s+\S" % re.escape(d), txt, re.M)
        if not m or int(m.group(1)) != counts[d]:
            bad.append(d)
    emit(ok and not bad, "text: every enforce-fail domain under \"would fail\" with its messages and reason",
         "missing %s\n%s" % (bad, txt[:1500]))
    sec = txt.split("would fail (", 1)[-1].split("\n\n", 1)[0]
    emit(all(sec.find(a) < sec.find(b) for a, b in zip(fails, fails[1:])) and "good.test" not in sec,
         "text: the failing domains are sorted by messages", sec)
    row = re.search(r"^\s+enforce-fail\s+(\d+)\s+(\d+)$", txt, re.M)
    emit(row and int(row.group(1)) == len(fails) and int(row.group(2)) == sum(counts[d] for d in fails),
         "text: by verdict, the enforce-fail domains and their messages", txt[-700:])
    emit("2 domains in local_domains or skip_domains (2 messages)" in txt and "1 line over 4096 bytes" in txt,
         "text: says what was not checked and what was skipped", txt[:600])
    emit("\r" not in t["err"] and "domains" not in t["err"],
         "no progress bar when standard error is not a terminal", repr(t["err"][-300:]))
    emit(re.search(r"\r\[=*>? *\] \d+/%d domains" % len(expect), tty["err"]) is not None
         and "\r[%s] %d/%d domains" % ("=" * 40, len(expect), len(expect)) in tty["err"]
         and tty["out"] == txt,
         "a progress bar on a terminal, up to %d/%d domains; the summary is the same" % (len(expect), len(expect)),
         repr(tty["err"][-400:]))

# --- check-diagnosis: a list of domains; warnings, no failure ---------------
o, diag = world("check-diagnosis", "domains")
emit(o is not None, "[check-diagnosis] the world came up and the audits ran", diag)
if o:
    t, j = o["text"], o["json"]
    doc = doc_of(j)
    summ = doc.get("summary") or {}
    warn = t["out"].split("warnings (delivered today, but):", 1)[-1]
    emit(re.search(r"^\s+1\s+seed001\.test\s+ok\s", warn, re.M) is not None
         and "outlook: enforce-fail" in warn and "is a CNAME for smol.seed001.test" in warn,
         "text: seed 001 is a warning: ok by RFC 8461, enforce-fail for Outlook.com, the CNAME warning",
         t["out"][-1500:])
    emit("seed001.test" in (summ.get("warn") or []) and "two.diag.test" in (summ.get("warn") or [])
         and summ.get("fail") == [] and summ.get("formats") == ["domains"],
         "JSON summary: seed 001 and the invalid TXT records are warnings, nothing fails",
         json.dumps(summ)[:800])
    emit(t["rc"] == 0 and j["rc"] == 0, "exit status 0: nothing would fail", "%s %s" % (t["rc"], j["rc"]))
    gaps = o["domains"] - 1
    emit(o["paced"]["rc"] == 0 and o["paced_s"] >= gaps / 4.0,
         "--rate 4/s: %d domains start over at least %.2f s, whatever the concurrency" % (o["domains"], gaps / 4.0),
         "took %.2f s, exit %s" % (o["paced_s"], o["paced"]["rc"]))

print("1..%d" % len(results))
for i, (ok, desc, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    if not ok:
        for line in str(diag).strip().splitlines()[-12:]:
            print("#   " + line)
