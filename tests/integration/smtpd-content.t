#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): issue 11, defects 2 and 8, with stsfilter-smtpd
behind a real OpenSMTPD (Debian 12's 6.8) in a world of nopolicy.test and
testing.test (STS_WORLD_OPENSMTPD=1; see tests/integration/smtpd.t).

1. Content (defect 2). With the default smtpd_tagging = no the filter does
   not register data-line (its log says "tagging off"), and a message with
   body lines of 998, 2,000, 10,000 and 65,500 bytes is delivered to the
   MX's Maildir with a body byte-identical to the one delivered through
   smtpd without the filter (the baseline; smtpd and Postfix add a final
   blank line of their own, which the test reports), for a checked
   recipient of each kind (no-policy, and testing-fail, whose tag action
   then accepts untagged and the log line says so).
2. With smtpd_tagging = yes (a second smtpd): data-line is registered, the
   tag header is added, the 998-byte line passes intact, and the longer
   lines are altered by OpenSMTPD 6.8 itself exactly as stsfilter-smtpd(8)
   documents (cut to 1,997 characters); the 65,500-byte line, whose filter
   request exceeds the filter's 65,536-byte limit, is kept (cut the same
   way) rather than dropped. A 70,000-byte line is refused by smtpd itself
   (500 5.0.0), with and without the filter.
3. Session cap (defect 8). smtpd_max_sessions = 16 and
   action_internal_error = defer: with 16 sessions open, a 17th session's
   recipient gets 451 4.3.0 and the filter logs "session table full" once;
   after the 16 close, a new session's recipient is checked again (250).
4. The recipient's domain (defect 1) through OpenSMTPD: a 240-byte local
   part before @notlisted.test.example is checked under that domain, never
   notlisted.test (OpenSMTPD itself refuses local parts much longer).

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
import json, os, re, shutil, signal, smtplib, socket, subprocess, sys, time
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
def write_conf(name, extra):
    conf = os.path.join(W, name)
    with open(conf, "w") as fp:
        fp.write(open(os.environ["STS_WORLD_CONF"]).read())
        fp.write("""
user = root
check_time_budget = 3s
recipient_time_budget = 3s
probe_connect_timeout = 2s
probe_read_timeout = 2s
act_on = mynetworks
mynetworks = 127.0.0.0/8
cache_path = %s/cache.lmdb
""" % cache_dir + extra)
    return conf

class Smtpd:
    def __init__(self, tag, conf):
        base = open(osm["config"]).read()
        listen = "listen on %s port 25" % osm["address"]
        self.cf = os.path.join(W, "smtpd-%s.conf" % tag)
        with open(self.cf, "w") as fp:
            if conf:
                fp.write('filter "sts" proc-exec "%s -f -c %s"\n' % (FILTER, conf))
                fp.write(re.sub(r"^%s$" % re.escape(listen), listen + ' filter "sts"', base, flags=re.M))
            else:
                fp.write(base)
        self.logpath = os.path.join(W, "smtpd-%s.log" % tag)
        self.log = open(self.logpath, "w")
        self.p = subprocess.Popen([osm["smtpd"], "-d", "-f", self.cf], stdout=self.log, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL)
        self.up = False
        for _ in range(100):
            if self.p.poll() is not None:
                break
            try:
                socket.create_connection((osm["address"], 25), 0.2).close()
                self.up = True
                break
            except OSError:
                time.sleep(0.1)
        # The filter registers after its handshake: wait for its line.
        for _ in range(100 if conf else 0):
            if "registered with smtpd" in self.text():
                break
            time.sleep(0.1)
    def text(self):
        self.log.flush()
        return open(self.logpath, errors="replace").read()
    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        # smtpd -d leaves its children to end; wait until port 25 is free.
        for _ in range(100):
            try:
                socket.create_connection((osm["address"], 25), 0.2).close()
                time.sleep(0.1)
            except OSError:
                break

def client():
    return smtplib.SMTP(osm["address"], 25, local_hostname="client.world.test", timeout=60,
                        source_address=("127.0.0.1", 0))

LENGTHS = (998, 2000, 10000, 65500)
def make_body(token):
    lines = ["A body with long lines.", ""]
    for n, ch in zip(LENGTHS, "ABCD"):
        lines.append((ch * n)[:n])
        lines.append("after %d" % n)
    lines.append(".leading dot and trailing blanks  ")
    return "\n".join(lines) + "\n"

def send(rcpts, token, extra=None):
    body = make_body(token) + (extra + "\n" if extra else "")
    msg = ("From: alice@sender.world.test\nTo: %s\nSubject: %s\nMessage-Id: <%s@sender.world.test>\n\n" %
           (", ".join(rcpts), token, token)) + body
    s = client()
    try:
        refused = s.sendmail("alice@sender.world.test", rcpts, msg.encode())
    finally:
        try:
            s.quit()
        except Exception:
            pass
    return body, refused

def find_mail(tok, rcpt, secs=30):
    end = time.time() + secs
    while True:
        for sub in ("new", "cur"):
            p = os.path.join(maildir, sub)
            for f in os.listdir(p) if os.path.isdir(p) else []:
                raw = open(os.path.join(p, f), "rb").read()
                head, _, body = raw.partition(b"\n\n")
                if ("Subject: " + tok).encode() in head and ("Delivered-To: %s\n" % rcpt).encode() in head:
                    return head.decode("utf-8", "replace"), body
        if time.time() >= end:
            return "", b""
        time.sleep(0.3)

try:
    # 0. The baseline: the same message through smtpd without the filter.
    sm = Smtpd("none", None)
    token = "content-none-%d" % os.getpid()
    sent, refused = send(["bob@nopolicy.test"], token)
    head, baseline = find_mail(token, "bob@nopolicy.test")
    emit(baseline != b"", "baseline: the message is delivered through smtpd without the filter", sm.text()[-800:])
    emit(baseline in (sent.encode(), sent.encode() + b"\n"), "baseline: the body as sent (smtpd and Postfix may add one final newline)",
         repr(baseline[-60:]))
    print("baseline: sent %d bytes, delivered %d, tail %r" % (len(sent), len(baseline), baseline[-40:]), file=sys.stderr)
    sm.stop()

except Exception as e:
    import traceback
    emit(False, '0. The baseline: the same message through smtpd without the filter.' + ": ran to the end", traceback.format_exc()[-1200:])

try:
    # 1. Tagging off (the default): content untouched.
    conf_off = write_conf("sts-off.conf", "smtpd_max_sessions = 16\naction_internal_error = defer\n")
    r = subprocess.run([FILTER, "-n", "-c", conf_off], capture_output=True, text=True)
    emit(r.returncode == 0, "stsfilter-smtpd -n accepts smtpd_max_sessions and the default smtpd_tagging", r.stdout + r.stderr)
    sm = Smtpd("off", conf_off)
    emit(sm.up, "smtpd listens with the filter (tagging off)", sm.text()[-1500:])
    emit(re.search(r"registered with smtpd, protocol 0\.6, tagging off", sm.text()),
         "the filter registered without data-line (tagging off)", sm.text()[-800:])
    token = "content-off-%d" % os.getpid()
    sent, refused = send(["bob@nopolicy.test", "bob@testing.test"], token)
    emit(not refused, "both recipients accepted", repr(refused))
    for rc in ("bob@nopolicy.test", "bob@testing.test"):
        head, body = find_mail(token, rc)
        emit(head != "", "tagging off: the copy for %s is delivered" % rc, sm.text()[-1200:])
        emit(body == baseline, "tagging off: the body for %s is byte-identical to the baseline's (lines of %s bytes)" %
             (rc, ", ".join(str(n) for n in LENGTHS)),
             "sent %d bytes, got %d; line lengths %r; tail %r" % (len(sent), len(body), [len(l) for l in body.split(b"\n")][:12], body[-60:]))
        emit("X-MTA-STS-Check" not in head, "tagging off: no tag header in the copy for %s" % rc, head[-600:])
    text = sm.text()
    emit(re.search(r"client=127\.0\.0\.1, from=<[^>]*>, to=<bob@testing\.test>, domain=testing\.test, verdict=testing-fail, "
                   r"reasons=\S+, action=accept \(not tagged: smtpd_tagging = no\)", text),
         "testing-fail with tagging off: accepted, and the log line says why it is not tagged", text[-1200:])

except Exception as e:
    import traceback
    emit(False, '1. Tagging off (the default): content untouched.' + ": ran to the end", traceback.format_exc()[-1200:])

try:
    # 4. A 240-byte local part is checked under its own domain (defect 1).
    s = client()
    s.ehlo()
    s.mail("alice@sender.world.test")
    code, msg = s.rcpt("%s@notlisted.test.example" % ("b" * 240))
    s.rset()
    s.quit()
    text = sm.text()
    emit(code == 250 and re.search(r"client=127\.0\.0\.1, from=<[^>]*>, to=<b{200,}\.\.\.@notlisted\.test\.example>, "
                                   r"domain=notlisted\.test\.example, verdict=", text)
         and not re.search(r"domain=notlisted\.test,", text),
         "240-byte local part @notlisted.test.example: the log line names that domain, never notlisted.test",
         "%s %s\n%s" % (code, msg, "\n".join(l for l in text.splitlines() if "bbbb" in l)))

except Exception as e:
    import traceback
    emit(False, '4. A 240-byte local part is checked under its own domain (defect 1).' + ": ran to the end", traceback.format_exc()[-1200:])

try:
    # 3. Session cap: 16 sessions open, the 17th is not tracked.
    idle = []
    for i in range(16):
        c = socket.create_connection((osm["address"], 25), 10, source_address=("127.0.0.1", 0))
        c.settimeout(10)
        c.recv(512)                     # the banner: smtpd reported link-connect before it
        idle.append(c)
    s = client()
    s.ehlo()
    s.mail("alice@sender.world.test")
    code, msg = s.rcpt("bob@nopolicy.test")
    s.quit()
    text = sm.text()
    emit(code == 451 and msg.startswith(b"4.3.0 "),
         "17th session, table full (smtpd_max_sessions = 16): the recipient gets action_internal_error (451 4.3.0)",
         "%s %s" % (code, msg))
    emit(len(re.findall(r"session table full \(smtpd_max_sessions = 16\): 1 new session\(s\) not tracked", text)) == 1,
         "the filter logs the full table once", text[-1200:])
    emit(re.search(r"to=<bob@nopolicy\.test>, domain=nopolicy\.test: session not tracked; applying action_internal_error", text),
         "the filter logs the untracked session's recipient", text[-1200:])
    for c in idle:
        c.close()
    # The disconnect reports free the table; a new session is tracked again.
    code = None
    for _ in range(50):
        s = client()
        s.ehlo()
        s.mail("alice@sender.world.test")
        code, msg = s.rcpt("bob@nopolicy.test")
        s.quit()
        if code == 250:
            break
        time.sleep(0.2)
    emit(code == 250, "after the 16 sessions close, a new session is checked again (250)", "%s %s" % (code, msg))
    emit(sm.p.poll() is None, "smtpd still running (tagging off)", sm.text()[-800:])
    def send_70000(token):
        try:
            send(["bob@nopolicy.test"], token, extra="E" * 70000)
            return "accepted"
        except smtplib.SMTPDataError as e:
            return "%d %s" % (e.smtp_code, e.smtp_error.decode("utf-8", "replace"))
    out = send_70000("content-off-70000-%d" % os.getpid())
    emit(out.startswith("500 5.0.0 Line too long"), "a 70,000-byte line: OpenSMTPD itself refuses the message (500 5.0.0), "
         "nothing is delivered altered", out)
    emit(sm.p.poll() is None, "smtpd still running after the refused message", sm.text()[-800:])
    sm.stop()

except Exception as e:
    import traceback
    emit(False, '3. Session cap: 16 sessions open, the 17th is not tracked.' + ": ran to the end", traceback.format_exc()[-1200:])

try:
    # 2. Tagging on: what OpenSMTPD 6.8 does to long lines through data-line.
    conf_on = write_conf("sts-on.conf", "smtpd_tagging = yes\n")
    sm = Smtpd("on", conf_on)
    emit(sm.up and re.search(r"registered with smtpd, protocol 0\.6, tagging on \(data-line\)", sm.text()),
         "smtpd_tagging = yes: the filter registers data-line", sm.text()[-800:])
    token = "content-on-%d" % os.getpid()
    sent, refused = send(["bob@testing.test"], token)
    head, body = find_mail(token, "bob@testing.test")
    emit(re.search(r"^X-MTA-STS-Check: testing\.test testing-fail \(", head, re.M), "tagging on: the tag header is added",
         head[-800:])
    got = body.split(b"\n")
    want = sent.split("\n")
    lens = [len(l) for l in got]
    emit(b"A" * 998 in got and b"after 998" in got, "tagging on: the 998-byte line passes intact", repr(lens[:12]))
    print("tagging on: delivered line lengths %r" % lens[:14], file=sys.stderr)
    emit(b"B" * 1997 in got and b"B" * 1998 not in body and b"C" * 1997 in got and b"C" * 1998 not in body,
         "tagging on: OpenSMTPD 6.8 cuts longer lines to 1,997 characters, as stsfilter-smtpd(8) documents",
         repr(lens[:14]))
    emit(b"D" * 1997 in got and b"D" * 1998 not in body and b"after 65500" in got
         and got.index(b"after 65500") == want.index("after 65500"),
         "tagging on: the 65,500-byte line (a filter request over 65,536 bytes) is kept, cut to 1,997 like the others",
         repr(lens[:14]))
    emit(re.search(r"a message line longer than 65536 bytes is passed on cut to 1997", sm.text()),
         "tagging on: the filter logs the overlong line it cut", sm.text()[-800:])
    out = send_70000("content-on-70000-%d" % os.getpid())
    emit(out.startswith("500 5.0.0 Line too long"), "tagging on: a 70,000-byte line is refused by OpenSMTPD too (500 5.0.0)",
         out)
    emit(sm.p.poll() is None, "smtpd still running (tagging on)", sm.text()[-800:])
    sm.stop()
except Exception as e:
    import traceback
    emit(False, '2. Tagging on: what OpenSMTPD 6.8 does to long lines through data-line.' + ": ran to the end", traceback.format_exc()[-1200:])

print("RESULTS " + json.dumps(res))
'''

if not os.access(FILTER, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % FILTER)
    sys.exit(1)
SCENARIO = """description = "nopolicy.test and testing.test behind OpenSMTPD (tests/integration/smtpd-content.t)"
include = ["no-policy", "testing-mode"]
opensmtpd = true
"""
tmp = tempfile.mkdtemp(prefix="stsfilter-smtpd-content-")
try:
    scen = os.path.join(tmp, "smtpd-content.toml")
    with open(scen, "w") as fp:
        fp.write(SCENARIO)
    env = dict(os.environ, STS_WORLD_OPENSMTPD="1")
    r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) +
                       [scen, "--", sys.executable, "-c", INSIDE, FILTER],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                       timeout=400, env=env)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
results = None
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        results = json.loads(line[8:])
if results is None:
    print("1..1\nnot ok 1 - the world ran the OpenSMTPD content test")
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
