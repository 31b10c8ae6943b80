#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): stsfilter-smtpd reloads its configuration on
SIGHUP and logs to syslog (issue 14), driven on stdin/stdout as smtpd
drives it (protocol 0.7), in the `smtpd-filter` world.

The syslog sink: the world runs in a private mount namespace; this test
mounts an overlay on /dev there (the host's /dev below, a folder of the
world above), so that it can bind its own datagram socket at /dev/log,
where syslog(3) writes, without touching the host's /dev or needing a
syslog daemon. It reads the datagrams as a syslog daemon would: the
priority (facility and severity) and the tag, not only the text.

Covers:
- without -f nothing but protocol lines reaches stdout and nothing reaches
  stderr; the log lines reach syslog with syslog_name as the tag and
  syslog_facility (local3) in the priority;
- the decision line in syslog: message id, client, from= (tx-mail),
  sasl_username= (link-auth, in 0.7's order), to=, domain=, verdict=,
  reasons=, action=, delay=, reply= (issue 14);
- SIGHUP with action_temporary changed from defer to reject: the next RCPT
  gets reject|550 5.4.3 instead of reject|451 4.4.3, logged "configuration
  reloaded";
- SIGHUP with a broken configuration: "FILE:LINE:" and "reload failed"
  logged (severity error), the filter stays up, the configuration in force
  still decides (550);
- SIGHUP with a working configuration again: it is taken;
- a clean exit (status 0) when stdin closes, logged to syslog;
- -f: the lines go to stderr too.

Needs root."""

import json
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
FILTER = os.path.join(BUILD, "stsfilter-smtpd")
RUN = os.path.join(TOP, "tests/world/run")

INSIDE = r'''
import json, os, re, select, signal, socket, subprocess, sys, threading, time
FILTER = sys.argv[1]
W = os.environ["STS_WORLD"]
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, diag])

# A private /dev/log in the world's own mount namespace (see above).
up, work = os.path.join(W, "dev-upper"), os.path.join(W, "dev-work")
os.makedirs(up)
os.makedirs(work)
subprocess.run(["mount", "-t", "overlay", "overlay", "-o", "lowerdir=/dev,upperdir=%s,workdir=%s" % (up, work), "/dev"],
               check=True)
if os.path.lexists("/dev/log"):
    os.unlink("/dev/log")
sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sink.bind("/dev/log")
received = []                      # (priority, text after the priority)
lock = threading.Lock()
def reader():
    while True:
        d = sink.recv(65536).decode("utf-8", "replace")
        m = re.match(r"<(\d+)>(.*)", d, re.S)
        with lock:
            received.append((int(m.group(1)) if m else -1, m.group(2) if m else d))
threading.Thread(target=reader, daemon=True).start()
def syslog_lines():
    with lock:
        return list(received)
def wait_log(pred, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        for p, t in syslog_lines():
            if pred(p, t):
                return (p, t)
        time.sleep(0.05)
    return None
def logtext():
    return "\n".join("<%d>%s" % (p, t) for p, t in syslog_lines())

LOCAL3 = 19
base = open(os.environ["STS_WORLD_CONF"]).read()
COMMON = """
user = root
check_time_budget = 3s
recipient_time_budget = 3s
probe_connect_timeout = 2s
probe_read_timeout = 2s
act_on = authenticated, mynetworks
mynetworks = 127.0.0.1/32
syslog_name = sts-reload
syslog_facility = local3
"""
conf = os.path.join(W, "smtpd-reload.conf")
def write_conf(extra):
    with open(conf, "w") as fp:
        fp.write(base + COMMON + extra)
write_conf("action_temporary = defer\n")

err = open(os.path.join(W, "smtpd-reload.err"), "w+")
p = subprocess.Popen([FILTER, "-c", conf], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, bufsize=0)
buf = b""
lines = []
def send(s):
    p.stdin.write(s.encode())
    p.stdin.flush()
def read_until(pred, timeout):
    global buf
    end = time.time() + timeout
    while True:
        for l in lines:
            if pred(l):
                return l
        if time.time() >= end:
            return None
        r, _, _ = select.select([p.stdout], [], [], 0.1)
        if r:
            chunk = os.read(p.stdout.fileno(), 65536)
            if not chunk:
                return None
            buf += chunk
            while b"\n" in buf:
                l, buf = buf.split(b"\n", 1)
                lines.append(l.decode("utf-8", "replace"))

for l in ["config|smtpd-version|7.6.0", "config|protocol|0.7", "config|subsystem|smtp-in", "config|ready"]:
    send(l + "\n")
emit(read_until(lambda l: l == "register|ready", 15), "handshake: register|ready", repr(lines))
emit("register|report|smtp-in|tx-mail" in lines, "the filter registers tx-mail reports (the sender)", repr(lines))
st = wait_log(lambda pr, t: "registered with smtpd, protocol 0.7" in t)
emit(st and st[0] == LOCAL3 * 8 + 6 and re.match(r"\w{3} [ \d]\d \d\d:\d\d:\d\d sts-reload\[%d\]: " % p.pid, st[1]),
     "syslog: the start-up lines arrive as local3.info, tagged sts-reload[PID]", logtext()[-800:])

TS = "1700000000.000001"
def rep(sess, ev, params):
    send("report|0.7|%s|smtp-in|%s|%s|%s\n" % (TS, ev, sess, params))
def rcpt(sess, tok, addr):
    send("filter|0.7|%s|smtp-in|rcpt-to|%s|%s|%s\n" % (TS, sess, tok, addr))
    return read_until(lambda l: l.startswith("filter-result|%s|%s|" % (sess, tok)), 20)

S = "5e"
rep(S, "link-connect", "client.test|pass|127.0.0.1:40000|127.0.0.1:25")
rep(S, "link-auth", "pass|alice")
rep(S, "tx-begin", "0000beef")
rep(S, "tx-mail", "0000beef|ok|alice@sender.test")
r = rcpt(S, "1", "bob@nosuch.example")
emit(r and r.startswith("filter-result|%s|1|reject|451 4.4.3 " % S), "before SIGHUP: temporary is deferred (451 4.4.3)", str(r))
m = wait_log(lambda pr, t: "to=<bob@nosuch.example>" in t)
emit(m and m[0] == LOCAL3 * 8 + 6 and re.search(
        r"sts-reload\[\d+\]: 0000beef: client=127\.0\.0\.1, from=<alice@sender\.test>, sasl_username=alice, "
        r"to=<bob@nosuch\.example>, domain=nosuch\.example, verdict=temporary, reasons=\S+, action=defer, "
        r"delay=\d+ms, reply=451 4\.4\.3 ", m[1]),
     "syslog: the decision line (message id, client, from, sasl_username, to, domain, verdict, reasons, action, delay, reply)",
     m[1] if m else logtext()[-1200:])

# 1. A changed action.
write_conf("action_temporary = reject\n")
p.send_signal(signal.SIGHUP)
ok = wait_log(lambda pr, t: "configuration reloaded from %s" % conf in t)
emit(ok, "SIGHUP: configuration reloaded (logged)", logtext()[-800:])
rep(S, "tx-reset", "0000beef")
rep(S, "tx-begin", "0000bef0")
rep(S, "tx-mail", "0000bef0|ok|")
r = rcpt(S, "2", "carol@nosuch.example")
emit(r and r.startswith("filter-result|%s|2|reject|550 5.4.3 " % S),
     "after SIGHUP: action_temporary = reject answers 550 5.4.3", str(r))
m = wait_log(lambda pr, t: "to=<carol@nosuch.example>" in t)
emit(m and re.search(r"0000bef0: client=127\.0\.0\.1, from=<>, sasl_username=alice, to=<carol@nosuch\.example>, .*"
                     r"action=reject, delay=\d+ms, reply=550 5\.4\.3 ", m[1]),
     "syslog: the new transaction's line (null sender from=<>)", m[1] if m else logtext()[-800:])

# 2. A broken configuration keeps the one in force.
write_conf("action_temporary = bounce\n")
p.send_signal(signal.SIGHUP)
bad = wait_log(lambda pr, t: "reload failed" in t)
fl = wait_log(lambda pr, t: re.search(re.escape(conf) + r":\d+: ", t) is not None)
emit(bad and bad[0] == LOCAL3 * 8 + 3 and fl and fl[0] == LOCAL3 * 8 + 3,
     "broken SIGHUP: FILE:LINE and 'reload failed' logged as local3.err", logtext()[-800:])
r = rcpt(S, "3", "dave@nosuch.example")
emit(p.poll() is None and r and r.startswith("filter-result|%s|3|reject|550 5.4.3 " % S),
     "broken SIGHUP: the filter is up and the configuration in force still decides (550)", str(r))

# 3. A good configuration again.
write_conf("action_temporary = defer\n")
n = sum(1 for _, t in syslog_lines() if "configuration reloaded" in t)
p.send_signal(signal.SIGHUP)
wait_log(lambda pr, t: sum(1 for _, x in syslog_lines() if "configuration reloaded" in x) > n)
r = rcpt(S, "4", "erin@nosuch.example")
emit(r and r.startswith("filter-result|%s|4|reject|451 4.4.3 " % S), "a good SIGHUP after a bad one is taken (451 again)",
     str(r))

p.stdin.close()
rc = p.wait(20)
rest = p.stdout.read() or b""
for l in (buf + rest).decode("utf-8", "replace").split("\n"):
    if l:
        lines.append(l)
emit(rc == 0, "stdin closed: exit 0", "rc %s" % rc)
emit(wait_log(lambda pr, t: "stdin closed; exiting" in t), "syslog: the exit is logged", logtext()[-400:])
WELL = re.compile(r"^(register\|[a-z|-]+|filter-result\|[0-9a-f]{1,16}\|[0-9a-f]{1,16}\|(proceed|reject\|[45][0-9][0-9] [^\r]+))$")
emit(lines and all(WELL.match(l) for l in lines), "stdout holds only protocol lines (%d)" % len(lines),
     "\n".join(l for l in lines if not WELL.match(l))[:800])
err.flush()
err.seek(0)
etext = err.read()
emit(etext == "", "without -f nothing is written to stderr", etext[-800:])

# -f: stderr too.
write_conf("action_temporary = defer\n")
err2 = open(os.path.join(W, "smtpd-reload-f.err"), "w+")
q = subprocess.Popen([FILTER, "-f", "-c", conf], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err2)
q.communicate(b"config|smtpd-version|7.6.0\nconfig|protocol|0.7\nconfig|ready\n", timeout=30)
err2.seek(0)
e2 = err2.read()
emit(q.returncode == 0 and "stsfilter-smtpd: registered with smtpd, protocol 0.7" in e2 and "stdin closed" in e2,
     "-f: the log lines go to stderr too", e2[-600:])
print("RESULTS " + json.dumps(res))
'''

if not os.access(FILTER, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % FILTER)
    sys.exit(1)
r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) + ["smtpd-filter", "--", sys.executable, "-c", INSIDE, FILTER],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
results = None
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        results = json.loads(line[8:])
if results is None:
    print("1..1\nnot ok 1 - the smtpd-filter world ran the reload test")
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
