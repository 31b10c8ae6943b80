#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): stsfilter-smtpd behind a real OpenSMTPD (Debian
12's 6.8, unpacked by tools/setup) with a real SMTP client (swaks), in the
`seeds` world plus slow.test (an enforce domain whose policy host stalls, as
in `smtpd-filter`), with STS_WORLD_OPENSMTPD=1: the world prepares
OpenSMTPD's compiled-in paths; this test writes smtpd.conf and starts
smtpd -d. The filter runs as smtpd runs it, as the opensmtpd user, with its
LMDB cache in a folder that user owns.

Covers: the filter's -n on the configuration; smtpd accepting the
configuration with `filter "sts" proc-exec`; the RCPT reply code and text for
every seed domain (10 sessions at once, one of them to tarpit.test, whose
preferred MX never speaks); the filter's log line (verdict, action) for each,
through smtpd's log; one message with several recipients whose verdicts
differ (accepted ones delivered, the enforce-fail one refused with 450 4.7.5);
the tag header in the delivered copies (the MX's Maildir), naming the
testing-fail domain only (fetcherr.test, whose policy cannot be fetched,
is no-policy: RFC 8461 section 3.3); interleaved sessions with several
recipients each, beside a slow.test session (its check runs into the
budget: verdict temporary, accepted and logged), every reply right; smtpd
and the filter still running at the end, no error logged by the filter.

Needs root."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
FILTER = os.path.join(BUILD, "stsfilter-smtpd")
RUN = os.path.join(TOP, "tests/world/run")

INSIDE = r'''
import json, os, re, shutil, signal, socket, subprocess, sys, threading, time
FILTER = sys.argv[1]
W = os.environ["STS_WORLD"]
world = json.load(open(os.environ["STS_WORLD_JSON"]))
osm = world["opensmtpd"]
maildir = world["postfix_mx"]["maildir"]
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, diag])

cache_dir = os.path.join(W, "sts-cache")
os.makedirs(cache_dir)
shutil.chown(cache_dir, "opensmtpd")
conf = os.path.join(W, "stsfilter-smtpd.conf")
with open(conf, "w") as fp:
    fp.write(open(os.environ["STS_WORLD_CONF"]).read())
    fp.write("""
user = root
check_time_budget = 3s
recipient_time_budget = 3s
probe_connect_timeout = 2s
probe_read_timeout = 2s
act_on = authenticated, mynetworks
mynetworks = 127.0.0.0/8
policy_fetch_timeout = 3s
cache_path = %s/cache.lmdb
smtpd_tagging = yes
""" % cache_dir)
r = subprocess.run([FILTER, "-n", "-c", conf], capture_output=True, text=True)
emit(r.returncode == 0, "stsfilter-smtpd -n accepts the configuration", r.stdout + r.stderr)

# The world's smtpd.conf, plus the filter.
base = open(osm["config"]).read()
listen = "listen on %s port 25" % osm["address"]
smtpd_conf = os.path.join(W, "smtpd-sts.conf")
with open(smtpd_conf, "w") as fp:
    # -f: the filter's lines reach smtpd's log through stderr, as well as
    # syslog (no syslog daemon here; smtpd-reload.t reads syslog).
    fp.write('filter "sts" proc-exec "%s -f -c %s"\n' % (FILTER, conf))
    fp.write(re.sub(r"^%s$" % re.escape(listen), listen + ' filter "sts"', base, flags=re.M))
text = open(smtpd_conf).read()
emit('filter "sts"\n' in text, "smtpd.conf: the listen line carries the filter", text)
r = subprocess.run([osm["smtpd"], "-n", "-f", smtpd_conf], capture_output=True, text=True)
emit(r.returncode == 0, "smtpd -n accepts the configuration", r.stdout + r.stderr)

logpath = os.path.join(W, "smtpd.log")
log = open(logpath, "w")
smtpd = subprocess.Popen([osm["smtpd"], "-d", "-f", smtpd_conf], stdout=log, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
def logtext():
    log.flush()
    return open(logpath, errors="replace").read()
up = False
for _ in range(100):
    if smtpd.poll() is not None:
        break
    try:
        socket.create_connection((osm["address"], 25), 0.2).close()
        up = True
        break
    except OSError:
        time.sleep(0.1)
emit(up, "smtpd listens on %s:25" % osm["address"], logtext()[-1500:])

def filter_pids():
    pids = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                cmd = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")
                st = open("/proc/%s/stat" % p).read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if cmd and cmd[0] == FILTER.encode() and st != "Z":
                pids.append(int(p))
    return pids
pids0 = filter_pids()
emit(len(pids0) == 1, "smtpd started the filter (one stsfilter-smtpd process)", repr(pids0))

def swaks(to, quit="RCPT", extra=()):
    args = ["swaks", "--server", osm["address"], "--from", "alice@sender.world.test", "--helo", "client.world.test",
            "--local-interface", "127.0.0.1", "--timeout", "40", "--to", ",".join(to)]
    if quit:
        args += ["--quit-after", quit]
    r = subprocess.run(args + list(extra), capture_output=True, text=True, timeout=120)
    return r.stdout + r.stderr

def rcpt_reply(out, rcpt):
    lines = out.splitlines()
    for i, l in enumerate(lines):
        if l.startswith(" -> RCPT TO:<%s>" % rcpt):
            for m in lines[i + 1:]:
                if re.match(r"<\S*\s+\d{3}[ -]", m):
                    return re.sub(r"^<\S*\s+", "", m)
    return ""

def defer_rx(user, d, why):
    return (r"^450 4\.7\.5 <%s@%s>: mail to %s cannot be delivered securely: %s; contact the recipient another way"
            % (re.escape(user), re.escape(d), re.escape(d), why))
why = {"notlisted.test": r"MX \S+ is not listed in notlisted\.test's MTA-STS policy \(enforce\).*",
       "cname.test": r".*certificate.*", "plain.test": r".*STARTTLS.*", "expired.test": r".*expired.*"}
accepted = ("good.test", "dane.test", "nopolicy.test", "tarpit.test", "testing.test", "fetcherr.test")
def reply_ok(user, d, rep):
    if d in why:
        return re.search(defer_rx(user, d, why[d]), rep) is not None
    return rep.startswith("250 ")

# 1. The RCPT reply for every seed domain, ten sessions at once (tarpit.test
#    among them: its preferred MX never speaks).
verdicts = {"good.test": "ok", "dane.test": "ok", "nopolicy.test": "no-policy", "testing.test": "testing-fail",
            "fetcherr.test": "no-policy", "notlisted.test": "enforce-fail", "cname.test": "enforce-fail",
            "plain.test": "enforce-fail", "expired.test": "enforce-fail"}
outs = {}
def one(d):
    outs[d] = swaks(["bob@" + d])
ts = [threading.Thread(target=one, args=(d,)) for d in list(accepted) + list(why)]
[t.start() for t in ts]
[t.join() for t in ts]
for d in list(accepted) + list(why):
    rep = rcpt_reply(outs[d], "bob@" + d)
    emit(reply_ok("bob", d, rep), "RCPT to %s: %s" % (d, "450 4.7.5" if d in why else "250"),
         rep or outs[d][-600:])
    if d in why:
        emit(rep.startswith("450 ") and len(rep) < 512 and "\r" not in rep, "reply for %s is one line under 512 bytes" % d, "%d bytes" % len(rep))
text = logtext()
for d, v in sorted(verdicts.items()):
    act = "defer" if v == "enforce-fail" else ("tag" if v in ("testing-fail", "temporary") else r"\w+")
    m = re.search(r"client=127\.0\.0\.1, from=<alice@sender\.world\.test>, to=<bob@%s>, domain=%s, verdict=(\S+), reasons=\S+, action=(%s)" %
                  (re.escape(d), re.escape(d), act), text)
    emit(m and m.group(1) == v, "filter log line (in smtpd's log) for %s: verdict=%s" % (d, v),
         m.group(0) if m else text[-800:])

# 2. One message, several recipients, different verdicts; the tag header.
token = "smtpd-multi-%d" % os.getpid()
out = swaks(["ann@good.test", "ann@testing.test", "ann@notlisted.test", "ann@fetcherr.test"], quit=None,
            extra=["--header", "Subject: " + token])
emit(reply_ok("ann", "notlisted.test", rcpt_reply(out, "ann@notlisted.test")),
     "multi: enforce-fail recipient deferred", out[-1500:])
emit(all(rcpt_reply(out, "ann@" + d).startswith("250") for d in ("good.test", "testing.test", "fetcherr.test")),
     "multi: the other recipients accepted", out[-1500:])
emit(re.search(r"<\S*\s+250 2\.0\.0 \S+ Message accepted for delivery", out), "multi: message queued", out[-800:])
def find_mail(tok, rcpt, secs=20):
    end = time.time() + secs
    while True:
        for sub in ("new", "cur"):
            p = os.path.join(maildir, sub)
            for f in os.listdir(p) if os.path.isdir(p) else []:
                body = open(os.path.join(p, f), errors="replace").read()
                if tok in body and ("Delivered-To: %s\n" % rcpt) in body.split("\n\n")[0]:
                    return body
        if time.time() >= end:
            return ""
        time.sleep(0.3)
msgs = {d: find_mail(token, "ann@" + d) for d in ("good.test", "testing.test", "fetcherr.test")}
emit(all(msgs.values()), "multi: accepted recipients' copies delivered through smtpd",
     " ".join(d for d, b in msgs.items() if not b) + "\n" + logtext()[-1200:])
emit(not find_mail(token, "ann@notlisted.test", 0), "multi: deferred recipient not delivered")
for d in ("good.test", "testing.test", "fetcherr.test"):
    body = msgs.get(d, "")
    hdrs = re.findall(r"^X-MTA-STS-Check: ?(.*)$", body.split("\n\n")[0], re.M)
    hv = hdrs[0] if hdrs else ""
    emit(len(hdrs) == 1 and "testing.test testing-fail (" in hv and "fetcherr.test" not in hv
         and "good.test" not in hv.replace("testing.test", "") and "notlisted.test" not in hv,
         "tag header in the copy for %s: once, names testing.test only (fetcherr.test is no-policy)" % d,
         body[:900])
good = msgs.get("good.test", "")
emit(good and re.search(r"\n\nThis is a test mailing\n", good), "message body intact after data-line filtering",
     good[-400:])

# 3. Interleaved sessions: several recipients each, all at once, beside a
#    session to slow.test (whose policy host stalls).
plan = [["i%d@%s" % (i, d) for d in (("good.test", "notlisted.test", "nopolicy.test"),
                                    ("plain.test", "dane.test", "testing.test"),
                                    ("expired.test", "fetcherr.test", "cname.test"))[i % 3]] for i in range(8)]
plan.append(["slow@slow.test"])
iouts = {}
def session(i, rcpts):
    iouts[i] = swaks(rcpts)
ts = [threading.Thread(target=session, args=(i, r)) for i, r in enumerate(plan)]
[t.start() for t in ts]
[t.join() for t in ts]
bad = []
n = 0
for i, rcpts in enumerate(plan):
    for rc in rcpts:
        user, d = rc.split("@")
        rep = rcpt_reply(iouts[i], rc)
        n += 1
        if not reply_ok(user, d, rep):
            bad.append((rc, rep or iouts[i][-300:]))
emit(n == 25 and not bad, "interleaved: 9 sessions, 25 RCPTs, every reply right (slow.test among them)",
     repr(bad[:4]))
m = re.search(r"client=127\.0\.0\.1, from=<alice@sender\.world\.test>, to=<slow@slow\.test>, domain=slow\.test, verdict=temporary, reasons=\S+, action=tag",
              logtext())
emit(m, "slow.test: the check ran into its budget, verdict temporary, accepted and tagged", logtext()[-800:])

# 4. smtpd and its filter still running.
emit(smtpd.poll() is None, "smtpd still running (the filter never died)", logtext()[-1500:])
emit(filter_pids() == pids0, "the same filter process is still running", "%r then %r" % (pids0, filter_pids()))
text = logtext()
errs = [l for l in text.splitlines() if l.startswith("sts: ") and re.search(r": (error|fatal|warning): ", l)]
emit(not errs, "the filter logged no error (its LMDB cache works as the opensmtpd user)", "\n".join(errs[:5]))
emit(not re.search(r"fatal|exited|lost processor", text, re.I), "smtpd's log shows no fatal error or lost filter",
     "\n".join(l for l in text.splitlines() if re.search(r"fatal|exited|lost processor", l, re.I))[-800:])
smtpd.send_signal(signal.SIGTERM)
try:
    smtpd.wait(10)
except subprocess.TimeoutExpired:
    smtpd.kill()
print("RESULTS " + json.dumps(res))
'''

if not os.access(FILTER, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % FILTER)
    sys.exit(1)
# The seeds world plus slow.test (declared as in scenarios/smtpd-filter.toml).
SCENARIO = """description = "seeds plus slow.test: stsfilter-smtpd behind OpenSMTPD (tests/integration/smtpd.t)"
include = ["seeds"]
opensmtpd = true

[[zone]]
name = "slow.test"
records = ["@ MX 10 mx", '_mta-sts TXT "v=STSv1; id=1"']

[[policy_host]]
domain = "slow.test"
behaviour = "stall"

[[mx]]
name = "mx.slow.test"

[[expect]]
domain = "slow.test"
verdict = "temporary"
"""
tmp = tempfile.mkdtemp(prefix="stsfilter-smtpd-t-")
try:
    scen = os.path.join(tmp, "smtpd-seeds.toml")
    with open(scen, "w") as fp:
        fp.write(SCENARIO)
    env = dict(os.environ, STS_WORLD_OPENSMTPD="1")
    r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) +
                       [scen, "--", sys.executable, "-c", INSIDE, FILTER],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300, env=env)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
results = None
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        results = json.loads(line[8:])
if results is None:
    print("1..1\nnot ok 1 - the seeds world ran the OpenSMTPD test")
    for l in (r.stdout[-1500:] + r.stderr[-1500:]).splitlines():
        print("# " + l)
    sys.exit(1)
print("1..%d" % len(results))
failed = 0
for i, (ok, desc, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    if not ok:
        failed += 1
        for l in str(diag).splitlines()[-12:]:
            print("#   " + l)
sys.exit(1 if failed else 0)
