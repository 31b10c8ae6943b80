#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): stsfilter-milter behind a real Postfix (the world's
sending Postfix, smtpd_milters) with a real SMTP client (swaks), in the
`seeds` world.

Covers: the RCPT reply code and text for every seed domain; one message with
several recipients whose verdicts differ (accepted ones delivered, the
enforce-fail one refused with 450 4.7.5); the tag header in the delivered
message (the MX's Maildir); mail from a client outside the milter's
mynetworks left untouched; a '%' in a recipient reaching the reply as one
'%'; -n on a good and a bad file; a broken reload keeping the old
configuration; monitor mode switched on by SIGHUP while sessions run, none
of them failing; the pid file; the Postfix-style log line.

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
import json, os, re, signal, socket, subprocess, sys, threading, time
MILTER = sys.argv[1]
W = os.environ["STS_WORLD"]
world = json.load(open(os.environ["STS_WORLD_JSON"]))
snd = world["sender"]
maildir = world["postfix_mx"]["maildir"]
PORT = 10025
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, diag])

base = open(os.environ["STS_WORLD_CONF"]).read()
def write_conf(path, extra):
    with open(path, "w") as fp:
        fp.write(base)
        fp.write("""
milter_socket = inet:%d@127.0.0.1
user = root
pid_file = %s/milter.pid
check_time_budget = 3s
recipient_time_budget = 3s
probe_connect_timeout = 2s
probe_read_timeout = 2s
act_on = authenticated, mynetworks
mynetworks = 127.0.0.1/32
""" % (PORT, W) + extra)
conf = os.path.join(W, "milter.conf")
write_conf(conf, "")

# -n: a good file, a bad one (file:line).
r = subprocess.run([MILTER, "-n", "-c", conf], capture_output=True, text=True)
emit(r.returncode == 0, "-n accepts the world's configuration", r.stderr)
bad = os.path.join(W, "bad.conf")
write_conf(bad, "action_enforce_fail = bounce\n")
r = subprocess.run([MILTER, "-n", "-c", bad], capture_output=True, text=True)
emit(r.returncode == 78 and re.search(r"bad\.conf:\d+:", r.stderr), "-n rejects a bad value with file:line",
     "rc %d: %s" % (r.returncode, r.stderr))

log = open(os.path.join(W, "milter.log"), "w")
proc = subprocess.Popen([MILTER, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", PORT), 0.2).close()
        break
    except OSError:
        time.sleep(0.1)
def logtext():
    log.flush()
    return open(os.path.join(W, "milter.log")).read()
pid = open(os.path.join(W, "milter.pid")).read().strip() if os.path.exists(os.path.join(W, "milter.pid")) else ""
emit(pid == str(proc.pid), "pid file holds the milter's pid", "pid file %r, pid %d" % (pid, proc.pid))

etc = snd["config_directory"]
subprocess.run(["postconf", "-c", etc, "-e", "smtpd_milters = inet:127.0.0.1:%d" % PORT,
                "milter_default_action = tempfail", "milter_command_timeout = 20s",
                "milter_connect_macros = j {daemon_name} v {client_addr}"], check=True)
subprocess.run(["postfix", "-c", etc, "reload"], check=True, capture_output=True)
time.sleep(1.5)

def swaks(to, quit="RCPT", src="127.0.0.1", extra=()):
    args = ["swaks", "--server", snd["address"], "--from", "alice@sender.world.test", "--helo", "client.world.test",
            "--local-interface", src, "--timeout", "40"]
    args += ["--to", ",".join(to)]
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

# 1. The RCPT reply for every seed domain, all at once.
want = {
    "good.test": ("250", None), "dane.test": ("250", None), "nopolicy.test": ("250", None),
    "tarpit.test": ("250", None), "testing.test": ("250", None), "fetcherr.test": ("250", None),
    "notlisted.test": ("450", r"^450 4\.7\.5 <bob@notlisted\.test>: mail to notlisted\.test cannot be delivered securely: MX \S+ is not listed in notlisted\.test's MTA-STS policy \(enforce\).*; contact the recipient another way"),
    "cname.test": ("450", r"^450 4\.7\.5 <bob@cname\.test>: mail to cname\.test cannot be delivered securely: .*certificate.*; contact the recipient another way"),
    "plain.test": ("450", r"^450 4\.7\.5 <bob@plain\.test>: mail to plain\.test cannot be delivered securely: .*STARTTLS.*; contact the recipient another way"),
    "expired.test": ("450", r"^450 4\.7\.5 <bob@expired\.test>: mail to expired\.test cannot be delivered securely: .*expired.*; contact the recipient another way"),
}
verdicts = {"good.test": "ok", "dane.test": "ok", "nopolicy.test": "no-policy", "testing.test": "testing-fail",
            "fetcherr.test": "no-policy", "notlisted.test": "enforce-fail", "cname.test": "enforce-fail",
            "plain.test": "enforce-fail", "expired.test": "enforce-fail"}
outs = {}
def one(d):
    outs[d] = swaks(["bob@" + d])
ts = [threading.Thread(target=one, args=(d,)) for d in want]
t0 = time.time()
[t.start() for t in ts]
[t.join() for t in ts]
elapsed = time.time() - t0
for d, (code, rx) in sorted(want.items()):
    rep = rcpt_reply(outs[d], "bob@" + d)
    ok = rep.startswith(code) and (rx is None or re.search(rx, rep))
    emit(ok, "RCPT to %s: %s" % (d, code), rep or outs[d][-600:])
    if rep.startswith("4") or rep.startswith("5"):
        emit(len(rep) < 512 and "\r" not in rep, "reply for %s is one line under 512 bytes" % d, "%d bytes" % len(rep))
text = logtext()
for d, v in sorted(verdicts.items()):
    m = re.search(r"client=127\.0\.0\.1, from=<alice@sender\.world\.test>, to=<bob@%s>, domain=%s, verdict=(\S+), "
                  r"reasons=\S+, action=(\w+)" %
                  (re.escape(d), re.escape(d)), text)
    emit(m and m.group(1) == v, "log line for %s says verdict=%s" % (d, v), m.group(0) if m else text[-800:])
m = re.search(r"domain=fetcherr\.test, verdict=no-policy, reasons=sts-policy-fetch-error, action=accept", text)
emit(m, "unusable policy (RFC 8461 3.3): no-policy, reason kept, accepted untagged", text[-500:])
emit(elapsed < 30, "ten concurrent sessions finish within the budget (%.1f s)" % elapsed)

# 2. One message, several recipients, different verdicts; the tag header.
token = "milter-multi-%d" % os.getpid()
out = swaks(["ann@good.test", "ann@testing.test", "ann@notlisted.test", "ann@fetcherr.test"], quit=None,
            extra=["--header", "Subject: " + token])
emit(rcpt_reply(out, "ann@notlisted.test").startswith("450 4.7.5"), "multi: enforce-fail recipient deferred",
     out[-1500:])
emit(all(rcpt_reply(out, "ann@" + d).startswith("250") for d in ("good.test", "testing.test", "fetcherr.test")),
     "multi: the other recipients accepted", out[-1500:])
emit(re.search(r"<\S*\s+250 2\.0\.0 Ok: queued", out), "multi: message queued", out[-800:])
def find_mail(tok, rcpt, secs=30):
    end = time.time() + secs
    while time.time() < end:
        for sub in ("new", "cur"):
            p = os.path.join(maildir, sub)
            for f in os.listdir(p) if os.path.isdir(p) else []:
                body = open(os.path.join(p, f), errors="replace").read()
                if tok in body and ("Delivered-To: %s\n" % rcpt) in body.split("\n\n")[0]:
                    return body
        time.sleep(0.5)
    return ""
msgs = {d: find_mail(token, "ann@" + d) for d in ("good.test", "testing.test", "fetcherr.test")}
emit(all(msgs.values()), "multi: accepted recipients' copies delivered",
     " ".join(d for d, b in msgs.items() if not b))
emit(not find_mail(token, "ann@notlisted.test", 1), "multi: deferred recipient not delivered")
hdr = re.search(r"^X-MTA-STS-Check: ?(.*)$", msgs.get("good.test", ""), re.M)
hv = hdr.group(1) if hdr else ""
emit(hdr, "tag header in the delivered message", msgs.get("good.test", "")[:800])
emit("testing.test testing-fail (" in hv, "tag header names the testing-fail domain", hv)
emit("good.test" not in hv and "notlisted.test" not in hv and "fetcherr.test" not in hv,
     "tag header leaves out accepted (also no-policy) and deferred domains", hv)

# 3. Inbound: a client outside mynetworks, unauthenticated: untouched.
out = swaks(["carol@notlisted.test"], src="127.0.0.2")
emit(rcpt_reply(out, "carol@notlisted.test").startswith("250"), "inbound client (127.0.0.2): RCPT accepted",
     out[-600:])
emit("carol@notlisted.test" not in logtext(), "inbound client: no check, no log line")

# 4. '%' in the recipient: one '%' in the reply (escaped for smfi_setreply).
out = swaks(["dan%x@notlisted.test"])
rep = rcpt_reply(out, "dan%x@notlisted.test")
emit(rep.startswith("450 4.7.5 <dan%x@notlisted.test>: "), "'%' in the recipient reaches the reply unchanged", rep)

# 4b. action_temporary = defer: a domain whose policy cannot be fetched is
# still accepted (RFC 8461 3.3: senders deliver without MTA-STS); a domain
# whose DNS fails (SERVFAIL) is the temporary one, and is deferred.
nreload = logtext().count("configuration reloaded")
write_conf(conf, "action_temporary = defer\n")
os.kill(proc.pid, signal.SIGHUP)
for _ in range(50):
    if logtext().count("configuration reloaded") > nreload:
        break
    time.sleep(0.1)
out = swaks(["gil@fetcherr.test"])
emit(rcpt_reply(out, "gil@fetcherr.test").startswith("250"),
     "action_temporary = defer: the fetch-error domain is accepted, not deferred", out[-600:])
emit(re.search(r"to=<gil@fetcherr\.test>.*verdict=no-policy, reasons=sts-policy-fetch-error, action=accept",
               logtext()), "action_temporary = defer: logged as no-policy, accept", logtext()[-600:])
out = swaks(["gil@nosuch.example"])
emit(rcpt_reply(out, "gil@nosuch.example").startswith("451 4.4.3"),
     "action_temporary = defer: a SERVFAIL domain (temporary) is deferred", out[-600:])

# 5. A broken reload keeps the old configuration.
write_conf(conf, "action_enforce_fail = bounce\n")
os.kill(proc.pid, signal.SIGHUP)
time.sleep(1)
out = swaks(["erin@notlisted.test"])
emit(proc.poll() is None, "milter alive after a broken reload")
emit("reload failed" in logtext() and re.search(r"milter\.conf:\d+:", logtext()),
     "broken reload logged with file:line", logtext()[-600:])
emit(rcpt_reply(out, "erin@notlisted.test").startswith("450 4.7.5"), "old configuration still in force", out[-500:])

# 6. Reload under traffic: monitor mode switched on while sessions run.
write_conf(conf, "monitor_mode = yes\n")
results = []
def traffic(i):
    for j in range(4):
        d = ("good.test", "notlisted.test")[(i + j) % 2]
        o = swaks(["t%d-%d@%s" % (i, j, d)])
        results.append((d, rcpt_reply(o, "t%d-%d@%s" % (i, j, d)), time.time()))
ts = [threading.Thread(target=traffic, args=(i,)) for i in range(8)]
[t.start() for t in ts]
time.sleep(1.0)
t_hup = time.time()
os.kill(proc.pid, signal.SIGHUP)
time.sleep(0.3)
os.kill(proc.pid, signal.SIGHUP)
[t.join() for t in ts]
bad = [r for r in results if not (r[1].startswith("250") or (r[0] == "notlisted.test" and r[1].startswith("450 4.7.5")))]
emit(len(results) == 32 and not bad, "32 sessions across two SIGHUPs: every RCPT answered 250 or 450 4.7.5",
     repr(bad[:3]) + " n=%d" % len(results))
emit(proc.poll() is None, "milter alive after reloads under traffic")
out = swaks(["fay@notlisted.test"])
emit(rcpt_reply(out, "fay@notlisted.test").startswith("250"), "monitor mode: enforce-fail accepted", out[-500:])
emit(re.search(r"to=<fay@notlisted\.test>.*action=tag \(monitor_mode: would defer\)", logtext()),
     "monitor mode: logged as would defer", logtext()[-600:])
emit(logtext().count("configuration reloaded") >= 2, "reloads logged")

proc.send_signal(signal.SIGTERM)
try:
    rc = proc.wait(15)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = -9
emit(rc == 0, "SIGTERM stops the milter cleanly", "rc %s" % rc)
print("RESULTS " + json.dumps(res))
'''

if not os.access(MILTER, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % MILTER)
    sys.exit(1)
env = dict(os.environ, STS_WORLD_SENDER="1")
r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) + ["seeds", "--", sys.executable, "-c", INSIDE, MILTER], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True, timeout=600, env=env)
results = None
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        results = json.loads(line[8:])
if results is None:
    print("1..1\nnot ok 1 - the seeds world ran the milter test")
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
