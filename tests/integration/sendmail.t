#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): stsfilter-milter behind a real Sendmail (Debian
12's 8.17, unpacked by tools/setup; tests/world/README.md) with a real SMTP
client (swaks), in the `sendmail` world: good.test (ok), expired.test
(enforce, expired MX certificate: enforce-fail) and testing.test (testing
mode, expired MX certificate: testing-fail).

The Sendmail setup is the README's, taken from README.md itself: its
sendmail.mc lines are appended to the world's sendmail.mc, with only the
milter socket's path changed, and m4 builds the sendmail.cf the test runs
(sendmail -bD -C). Covers: README.md and stsfilter-milter(8) give the same
INPUT_MAIL_FILTER line; the built sendmail.cf declares the filter and sends
the macros the milter reads (i, {auth_authen}); the RCPT replies (450 4.7.5
for the enforce-fail domain, with the recipient once: Sendmail's own
"<rcpt>... ", none from the milter; 250 for the others); the milter's log lines,
with Sendmail's queue id; one message with several recipients (the
enforce-fail one refused, the others delivered to the MX's Maildir); the tag
header in the delivered copies naming the testing-fail domain; the milter
hung (SIGSTOP, the README's line with 5 s timeouts) or stopped: with the
README's F= (empty), Sendmail goes on without it and the mail is delivered; with F=T instead, Sendmail refuses the mail with a
temporary error (what the man page said before, and why the project
recommends F=); Sendmail's pid file and queue in the world's folder.

Needs root."""

import json
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
MILTER = os.path.join(BUILD, "stsfilter-milter")
RUN = os.path.join(TOP, "tests/world/run")

INSIDE = r'''
import json, os, re, signal, socket, subprocess, sys, time
MILTER, TOP = sys.argv[1], sys.argv[2]
W = os.environ["STS_WORLD"]
world = json.load(open(os.environ["STS_WORLD_JSON"]))
sm = world["sendmail"]
maildir = world["postfix_mx"]["maildir"]
SOCK = os.path.join(W, "milter.sock")
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, diag])

# 0. The Sendmail lines of README.md and of stsfilter-milter(8).
readme = open(os.path.join(TOP, "README.md")).read().splitlines()
mc_lines = []
for i, l in enumerate(readme):
    if l.startswith("**Sendmail.**"):
        for m in readme[i + 1:]:
            if m.startswith("    "):
                mc_lines.append(m.strip())
            elif mc_lines and m.strip():
                break
        break
imf = [l for l in mc_lines if l.startswith("INPUT_MAIL_FILTER(")]
emit(len(imf) == 1, "README.md's Sendmail section has one INPUT_MAIL_FILTER line", "\n".join(mc_lines))
imf = imf[0] if imf else ""
man = open(os.path.join(TOP, "man/stsfilter-milter.8")).read()
m = re.search(r"^(INPUT_MAIL_FILTER\(.*?\))\s*$", man, re.M | re.S)
man_imf = re.sub(r"\s+", " ", m.group(1)) if m else ""
emit(man_imf and man_imf == re.sub(r"\s+", " ", imf), "README.md and stsfilter-milter(8) give the same INPUT_MAIL_FILTER",
     "README: %s\nman:    %s" % (imf, man_imf))
fm = re.search(r"[ ,]F=([^,']*)", imf)
emit(fm is not None, "the README's line sets F=", imf)
readme_flags = fm.group(1) if fm else None

# The milter, on a unix socket in the world's folder.
conf = os.path.join(W, "milter.conf")
with open(conf, "w") as fp:
    fp.write(open(os.environ["STS_WORLD_CONF"]).read())
    fp.write("""
milter_socket = unix:%s
user = root
pid_file = %s/milter.pid
check_time_budget = 3s
recipient_time_budget = 3s
probe_connect_timeout = 2s
probe_read_timeout = 2s
act_on = authenticated, mynetworks
mynetworks = 127.0.0.1/32
""" % (SOCK, W))
logpath = os.path.join(W, "milter.log")
mlog = open(logpath, "w")
milter = subprocess.Popen([MILTER, "-f", "-c", conf], stdout=mlog, stderr=subprocess.STDOUT)
def logtext():
    mlog.flush()
    return open(logpath, errors="replace").read()
def wait_sock(path):
    for _ in range(100):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.close()
            return True
        except OSError:
            time.sleep(0.1)
    return False
emit(wait_sock(SOCK), "the milter listens on %s" % SOCK, logtext()[-800:])

# sendmail.mc: the world's, plus the README's lines (the socket moved into the world).
def build_cf(name, lines):
    mc = os.path.join(sm["dir"], name + ".mc")
    cf = os.path.join(sm["dir"], name + ".cf")
    with open(mc, "w") as fp:
        fp.write(open(sm["mc"]).read())
        for l in lines:
            fp.write(l + "\n")
    with open(cf, "w") as out:
        r = subprocess.run(sm["m4"] + [mc], stdout=out, stderr=subprocess.PIPE, text=True, cwd=sm["dir"])
    return cf, r.returncode, r.stderr
ours = [re.sub(r"S=unix:[^,]*", "S=unix:" + SOCK, l) for l in mc_lines]
cf, rc, err = build_cf("stsfilter", ours)
emit(rc == 0, "m4 builds sendmail.cf from the world's sendmail.mc plus the README's lines", err)
text = open(cf).read()
x = re.search(r"^Xstsfilter, (.*)$", text, re.M)
emit(x and "S=unix:%s" % SOCK in x.group(1) and re.search(r"(^|, )F=%s(,|$)" % re.escape("?" if readme_flags is None else readme_flags), x.group(1)),
     "sendmail.cf declares the filter with the README's F= (%r)" % readme_flags, x.group(0) if x else text[-600:])
emit(re.search(r"^O InputMailFilters=stsfilter$", text, re.M), "sendmail.cf lists it in InputMailFilters")
envfrom = re.search(r"^O Milter\.macros\.envfrom=(.*)$", text, re.M)
ef = [v.strip() for v in envfrom.group(1).split(",")] if envfrom else []
emit("i" in ef and "{auth_authen}" in ef, "Sendmail sends the milter i and {auth_authen} at MAIL FROM", repr(ef))

traffic = os.path.join(sm["dir"], "traffic.log")
smlog = open(os.path.join(sm["dir"], "sendmail.out"), "a")
def start_sendmail(cf):
    p = subprocess.Popen([sm["sendmail"], "-bD", "-C", cf, "-X", traffic], stdout=smlog, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, cwd=sm["dir"])
    for _ in range(150):
        if p.poll() is not None:
            break
        try:
            socket.create_connection((sm["address"], sm["port"]), 0.2).close()
            return p, True
        except OSError:
            time.sleep(0.1)
    return p, False
def stop_sendmail(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    for _ in range(100):
        try:
            socket.create_connection((sm["address"], sm["port"]), 0.2).close()
            time.sleep(0.1)
        except OSError:
            return

def swaks(to, quit="RCPT", extra=()):
    args = ["swaks", "--server", sm["address"], "--from", "alice@sender.world.test", "--helo", "client.world.test",
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
def accepted(out):
    m = re.search(r"<\S*\s+250 2\.0\.0 (\S+) Message accepted for delivery", out)
    return m.group(1) if m else None
def find_mail(tok, rcpt, secs=30):
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
# Sendmail puts "<rcpt>... " before a milter's RCPT reply text, as before its
# own, so the milter leaves the recipient out: it appears once.
DEFER = (r"^450 4\.7\.5 <%s@expired\.test>\.\.\. mail to expired\.test cannot be delivered securely: "
         r".*expired.*; contact the recipient another way")

sendmail, up = start_sendmail(cf)
emit(up, "Sendmail listens on %s:%d (sendmail -bD -C %s)" % (sm["address"], sm["port"], cf),
     open(smlog.name, errors="replace").read()[-800:])
pid = open(sm["pid_file"]).readline().strip() if os.path.exists(sm["pid_file"]) else ""
emit(pid == str(sendmail.pid), "Sendmail's pid file is in the world's folder and names the daemon",
     "%s: %r, pid %d" % (sm["pid_file"], pid, sendmail.pid))

# 1. RCPT replies: 450 for the enforce-fail domain, 250 for the others.
out = swaks(["bob@good.test", "bob@expired.test", "bob@testing.test"])
rep = rcpt_reply(out, "bob@expired.test")
emit(re.search(DEFER % "bob", rep), "RCPT to expired.test (enforce-fail): 450 4.7.5 with the reason", rep or out[-800:])
for d in ("good.test", "testing.test"):
    rep = rcpt_reply(out, "bob@" + d)
    emit(rep.startswith("250 "), "RCPT to %s: 250" % d, rep or out[-800:])
text = logtext()
for d, v, a in (("good.test", "ok", "accept"), ("expired.test", "enforce-fail", "defer"),
                ("testing.test", "testing-fail", "tag")):
    m = re.search(r"(\S+): client=127\.0\.0\.1, from=<[^>]*>, to=<bob@%s>, domain=%s, verdict=(\S+), reasons=\S+, action=(\w+)" %
                  (re.escape(d), re.escape(d)), text)
    emit(m and m.group(2) == v and m.group(3) == a and m.group(1) != "NOQUEUE",
         "milter log line for %s: verdict=%s, action=%s, with Sendmail's queue id" % (d, v, a),
         m.group(0) if m else text[-800:])

# 2. One message, three recipients: the enforce-fail one refused, the others
#    delivered, tagged for the testing-fail domain.
token = "sendmail-multi-%d" % os.getpid()
out = swaks(["ann@good.test", "ann@expired.test", "ann@testing.test"], quit=None,
            extra=["--header", "Subject: " + token])
emit(re.search(DEFER % "ann", rcpt_reply(out, "ann@expired.test")), "multi: enforce-fail recipient deferred",
     out[-1500:])
emit(all(rcpt_reply(out, "ann@" + d).startswith("250") for d in ("good.test", "testing.test")),
     "multi: the other recipients accepted", out[-1500:])
qid = accepted(out)
emit(qid, "multi: message accepted by Sendmail", out[-800:])
m = re.search(r"(\S+): client=\S+, from=<[^>]*>, to=<ann@expired\.test>, .*action=defer", logtext())
emit(qid and m and m.group(1) == qid, "multi: the milter logs the queue id Sendmail gave the message",
     "Sendmail %s, milter %s" % (qid, m.group(0) if m else logtext()[-600:]))
msgs = {d: find_mail(token, "ann@" + d) for d in ("good.test", "testing.test")}
emit(all(msgs.values()), "multi: accepted recipients' copies delivered through Sendmail to the MX hosts",
     " ".join(d for d, b in msgs.items() if not b) + "\n" + open(traffic, errors="replace").read()[-1200:])
emit(not find_mail(token, "ann@expired.test", 1), "multi: deferred recipient not delivered")
for d in ("good.test", "testing.test"):
    body = msgs.get(d, "")
    hdrs = re.findall(r"^X-MTA-STS-Check: ?(.*)$", body.split("\n\n")[0], re.M)
    hv = hdrs[0] if hdrs else ""
    emit(len(hdrs) == 1 and "testing.test testing-fail (" in hv and "good.test" not in hv
         and "expired.test" not in hv,
         "tag header in the copy for %s: once, names testing.test only" % d, body[:900])

# 2b. The milter hangs (SIGSTOP): with the README's F= Sendmail waits T=
#     and goes on without it. The same line with shorter send and read
#     timeouts (R still above recipient_time_budget), so as not to wait 30 s.
stop_sendmail(sendmail)
short_t = [re.sub(r"T=[^,']*", "T=C:10s;S:5s;R:5s;E:10s", l) for l in ours]
cf_s, rc, err = build_cf("stsfilter-short", short_t)
emit(rc == 0 and re.search(r"^Xstsfilter, .*F=%s, T=C:10s;S:5s;R:5s;E:10s" % re.escape(readme_flags or ""),
                           open(cf_s).read(), re.M), "m4 builds the README's line with 5 s timeouts", err)
sendmail, up = start_sendmail(cf_s)
emit(up, "Sendmail restarted with 5 s milter timeouts", open(smlog.name, errors="replace").read()[-800:])
milter.send_signal(signal.SIGSTOP)
token = "sendmail-hung-%d" % os.getpid()
out = swaks(["eve@good.test", "eve@expired.test"], quit=None, extra=["--header", "Subject: " + token])
milter.send_signal(signal.SIGCONT)
emit(rcpt_reply(out, "eve@good.test").startswith("250") and rcpt_reply(out, "eve@expired.test").startswith("250")
     and accepted(out), "milter hung, F=%s: Sendmail gives up on it after T= and accepts the message" % readme_flags,
     out[-1200:])
body = find_mail(token, "eve@good.test")
emit(body and not re.search(r"^X-MTA-STS-Check:", body.split("\n\n")[0], re.M),
     "milter hung: the message is delivered, unaltered", body[:600] or open(traffic, errors="replace").read()[-800:])
stop_sendmail(sendmail)
sendmail, up = start_sendmail(cf)
emit(up, "Sendmail restarted with the README's line", open(smlog.name, errors="replace").read()[-800:])
out = swaks(["fox@expired.test"])
emit(re.search(DEFER % "fox", rcpt_reply(out, "fox@expired.test")),
     "the milter, resumed, checks again: 450 for expired.test", out[-800:] + logtext()[-600:])

# 3. The milter stops: with the README's F= Sendmail goes on without it.
milter.send_signal(signal.SIGTERM)
try:
    mrc = milter.wait(15)
except subprocess.TimeoutExpired:
    milter.kill()
    mrc = -9
emit(mrc == 0, "the milter stops on SIGTERM", "rc %s" % mrc)
token = "sendmail-down-%d" % os.getpid()
out = swaks(["cat@good.test", "cat@expired.test"], quit=None, extra=["--header", "Subject: " + token])
emit(rcpt_reply(out, "cat@good.test").startswith("250") and rcpt_reply(out, "cat@expired.test").startswith("250"),
     "milter down, F=%s: Sendmail accepts every recipient (no check)" % readme_flags, out[-1200:])
emit(accepted(out), "milter down, F=%s: message accepted" % readme_flags, out[-800:])
body = find_mail(token, "cat@good.test")
emit(body, "milter down, F=%s: the message is delivered" % readme_flags,
     open(traffic, errors="replace").read()[-1200:])
emit(body and not re.search(r"^X-MTA-STS-Check:", body.split("\n\n")[0], re.M),
     "milter down: the message is delivered unaltered (no tag header)", body[:600])
stop_sendmail(sendmail)

# 4. The same with F=T (stsfilter-milter(8) said so before): the mail waits.
flag_t = [re.sub(r"([ ,])F=[^,']*", r"\1F=T", l) for l in ours]
cf_t, rc, err = build_cf("stsfilter-ft", flag_t)
text = open(cf_t).read()
emit(rc == 0 and re.search(r"^Xstsfilter, .*F=T", text, re.M), "m4 builds a sendmail.cf with F=T", err)
sendmail, up = start_sendmail(cf_t)
emit(up, "Sendmail restarted with F=T", open(smlog.name, errors="replace").read()[-800:])
out = swaks(["dog@good.test"], quit=None, extra=["--header", "Subject: sendmail-ft"])
emit(not accepted(out) and re.search(r"^<\S*\s+4\d\d[ -]", out, re.M),
     "milter down, F=T: Sendmail answers with a temporary error and takes no mail", out[-1200:])
stop_sendmail(sendmail)
emit(os.listdir(sm["queue"]) == [], "Sendmail's queue (in the world's folder) is empty: every accepted mail left",
     repr(os.listdir(sm["queue"])))
print("RESULTS " + json.dumps(res))
'''

if not os.access(MILTER, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % MILTER)
    sys.exit(1)
r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) +
                   ["sendmail", "--", sys.executable, "-c", INSIDE, MILTER, TOP],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
results = None
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        results = json.loads(line[8:])
if results is None:
    print("1..1\nnot ok 1 - the sendmail world ran the Sendmail test")
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
