#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): how stsfilter-milter starts and stops, as root,
in the `smtpd-filter` world (its slow.test has a policy host that never
answers, so a check runs into its budget).

Covers:
  - the pid file: a symbolic link planted in a folder the daemon user owns,
    or in a root folder, is refused and its target left untouched; a pid
    folder the user can write gets the file after the privilege drop (owned
    by the user); a second copy on the same pid file refuses to start and
    leaves the first one's socket alone;
  - user = root refused without allow_root (stsfilter-milter and
    stsfilter-smtpd);
  - the unix socket: mode 0660, owner user, group postfix; the postfix user
    connects and negotiates; a missing group, and a folder the group cannot
    search, are logged as errors;
  - -f under systemd (JOURNAL_STREAM is stderr): syslog only, so the
    journal does not get every line twice;
  - SIGTERM while RCPT checks are in flight: every RCPT sent before the
    signal gets an answer, a connection made during the drain gets
    tempfail, the milter exits 0 after draining.

Needs root."""

import json
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
MILTER = os.path.join(BUILD, "stsfilter-milter")
RUN = os.path.join(TOP, "tests/world/run")

# A minimal MTA side of the milter protocol (version 6), for the checks
# below and for the postfix user's connection.
CLIENT = r'''
import socket, struct, sys
def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data
def recvall(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("connection closed")
        b += c
    return b
def reply(s):
    n = struct.unpack(">I", recvall(s, 4))[0]
    body = recvall(s, n)
    return body[:1].decode(), body[1:]
def session(path, rcpt, timeout=30, on_rcpt=None):
    """Returns the list of (command, reply code) until the first failure."""
    out = []
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(timeout)
    try:
        s.connect(path)
        s.sendall(pkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
        out.append(("O", reply(s)[0]))
        s.sendall(pkt(b"C", b"client.test\0" + b"4" + struct.pack(">H", 25) + b"127.0.0.1\0"))
        out.append(("C", reply(s)[0]))
        if out[-1][1] != "c":
            return out
        s.sendall(pkt(b"M", b"<alice@sender.test>\0"))
        out.append(("M", reply(s)[0]))
        if out[-1][1] != "c" or not rcpt:
            return out
        s.sendall(pkt(b"R", b"<" + rcpt.encode() + b">\0"))
        if on_rcpt:
            on_rcpt()
        out.append(("R", reply(s)[0]))
        s.sendall(pkt(b"Q"))
    except Exception as e:
        out.append(("error", repr(e)))
    finally:
        s.close()
    return out
if __name__ == "__main__":
    print(repr(session(sys.argv[1], "")))
'''

INSIDE = r'''
import grp, json, os, pwd, re, signal, socket, stat, struct, subprocess, sys, threading, time
MILTER, CLIENT = sys.argv[1], sys.argv[2]
SMTPD = os.path.join(os.path.dirname(MILTER), "stsfilter-smtpd")
W = os.environ["STS_WORLD"]
base = open(os.environ["STS_WORLD_CONF"]).read()
PY = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable  # others must run it
exec(CLIENT.replace('if __name__ == "__main__":', "if False:"))
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, str(diag)])

nobody = pwd.getpwnam("nobody")
postfix_gid = grp.getgrnam("postfix").gr_gid
def mkdir(path, uid=0, gid=0, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chown(path, uid, gid)
    os.chmod(path, mode)
mkdir(W + "/cache", nobody.pw_uid, nobody.pw_gid, 0o700)
mkdir(W + "/run")                                        # root's
mkdir(W + "/userpid", nobody.pw_uid, nobody.pw_gid)      # the daemon user's
mkdir(W + "/closed", 0, 0, 0o700)                        # not searchable

def conf(name, extra="", sock=None):
    p = os.path.join(W, name + ".conf")
    with open(p, "w") as fp:
        fp.write(base + """
cache_path = %s/cache/%s.lmdb
user = nobody
allow_root = no
milter_socket = unix:%s
pid_file =
check_time_budget = 3s
recipient_time_budget = 3s
probe_connect_timeout = 2s
probe_read_timeout = 2s
act_on = mynetworks
mynetworks = 127.0.0.1/32
""" % (W, name, sock or "%s/run/%s.sock" % (W, name)) + extra)
    return p

def start(name, extra="", sock=None):
    log = open(os.path.join(W, name + ".log"), "w")
    return subprocess.Popen([MILTER, "-f", "-c", conf(name, extra, sock)], stdout=log, stderr=subprocess.STDOUT)

def logtext(name):
    return open(os.path.join(W, name + ".log")).read()

def finish(p, secs=15):
    """The exit status, or "running" (then killed)."""
    try:
        return p.wait(secs)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        return "running"

def wait_socket(path, p):
    for _ in range(100):
        if os.path.exists(path) or p.poll() is not None:
            break
        time.sleep(0.1)
    return os.path.exists(path)

# 1. A link planted in the daemon user's pid folder, and in root's.
precious = os.path.join(W, "precious")
for name, folder in (("link-user", W + "/userpid"), ("link-root", W + "/run")):
    with open(precious, "w") as fp:
        fp.write("precious\n")
    link = os.path.join(folder, name + ".pid")
    os.symlink(precious, link)
    rc = finish(start(name, "pid_file = %s\n" % link))
    text = logtext(name)
    emit(rc not in (0, "running"), "%s: start refused (pid file is a symbolic link)" % name, "rc %s: %s" % (rc, text[-500:]))
    emit(open(precious).read() == "precious\n", "%s: the link's target is untouched" % name, open(precious).read())
    emit(re.search(r"pid file .*symbolic link", text), "%s: the refusal names the link" % name, text[-500:])
    emit(os.path.islink(link), "%s: the link itself is left alone" % name)

# 2. user = root without allow_root.
rc = finish(start("root", "user = root\n"))
text = logtext("root")
emit(rc not in (0, "running"), "user = root refused without allow_root", "rc %s: %s" % (rc, text[-500:]))
emit("refusing to run as root" in text and "allow_root" in text, "the refusal says why and names allow_root",
     text[-500:])
r = subprocess.run([SMTPD, "-c", conf("smtpd-root", "user = root\n")], input="", capture_output=True, text=True,
                   timeout=30)
emit(r.returncode != 0 and "refusing to run as root" in r.stderr, "stsfilter-smtpd refuses user = root too",
     "rc %d: %s" % (r.returncode, r.stderr[-500:]))

# 2b. Under systemd (JOURNAL_STREAM names stderr's device and inode),
# -f logs to syslog only: stderr reaches the same journal, and every
# line would be there twice. A JOURNAL_STREAM that is not stderr changes
# nothing.
def journal_run(name, stream):
    sock = "%s/run/%s.sock" % (W, name)
    log = open(os.path.join(W, name + ".log"), "w")
    st = os.fstat(log.fileno())
    env = dict(os.environ, JOURNAL_STREAM=stream(st))
    p = subprocess.Popen([MILTER, "-f", "-c", conf(name, "", sock)], stdout=log, stderr=subprocess.STDOUT, env=env)
    up = wait_socket(sock, p)
    p.terminate()
    return up, finish(p), logtext(name)
up, rc, text = journal_run("journal", lambda st: "%d:%d" % (st.st_dev, st.st_ino))
emit(up and rc == 0 and "starting: version" not in text and "stopped" not in text,
     "-f with stderr as the journal stream: nothing on stderr (syslog only)", "up %s, rc %s: %r" % (up, rc, text[-500:]))
up, rc, text = journal_run("notjournal", lambda st: "%d:%d" % (st.st_dev, st.st_ino + 1))
emit(up and rc == 0 and "starting: version" in text and "stopped" in text,
     "-f with another JOURNAL_STREAM: the lines on stderr as before", "up %s, rc %s: %r" % (up, rc, text[-500:]))

# 3. A running milter: socket access, the postfix user, the pid file.
sock = W + "/run/good.sock"
pidf = W + "/userpid/good.pid"
# check_time_budget (the drain's deadline, plus 2 s) well above
# recipient_time_budget (what a check of slow.test takes).
good = start("good", "pid_file = %s\ncheck_time_budget = 15s\n" % pidf)
up = wait_socket(sock, good)
emit(up, "the milter listens on its unix socket", logtext("good")[-500:])
st = os.stat(sock) if up else None
emit(st and stat.S_IMODE(st.st_mode) == 0o660, "socket mode 0660 (milter_socket_mode default)",
     oct(stat.S_IMODE(st.st_mode)) if st else "no socket")
emit(st and st.st_gid == postfix_gid and st.st_uid == nobody.pw_uid,
     "socket owner nobody (user), group postfix (milter_socket_group default)",
     "uid %s gid %s" % ((st.st_uid, st.st_gid) if st else ("-", "-")))
r = subprocess.run(["runuser", "-u", "postfix", "--", PY, "-c", CLIENT, sock], capture_output=True,
                   text=True, timeout=60)
emit(r.stdout.startswith("[('O', 'O'), ('C', 'c'), ('M', 'c')]"), "the postfix user connects and negotiates (option negotiation answered)",
     r.stdout[-300:] + r.stderr[-500:])
r = subprocess.run(["runuser", "-u", "daemon", "--", PY, "-c", CLIENT, sock], capture_output=True,
                   text=True, timeout=60)
emit("PermissionError" in r.stdout, "another user gets EACCES", r.stdout[-300:] + r.stderr[-300:])
pid = open(pidf).read().strip() if os.path.exists(pidf) else ""
emit(pid == str(good.pid), "the pid file holds the milter's pid", "%r vs %d" % (pid, good.pid))
emit(os.path.exists(pidf) and os.stat(pidf).st_uid == nobody.pw_uid,
     "in a folder user can write, the pid file is written after the privilege drop (owned by nobody)")

# A second copy on the same pid file.
rc = finish(start("second", "pid_file = %s\nmilter_socket = unix:%s\n" % (pidf, sock)))
text = logtext("second")
emit(rc not in (0, "running") and re.search(r"pid file .* is locked: another copy \(pid %d\)" % good.pid, text),
     "a second copy on the same pid file refuses to start", "rc %s: %s" % (rc, text[-500:]))
emit(os.path.exists(sock) and session(sock, "")[0] == ("O", "O"), "the first copy's socket still answers")

# 4. A group that does not exist; a folder the group cannot search.
p = start("nogroup", "milter_socket_group = nosuchgroup\n")
wait_socket(W + "/run/nogroup.sock", p)
p.send_signal(signal.SIGTERM)
finish(p)
emit(re.search(r"group nosuchgroup does not exist.*the MTA cannot connect", logtext("nogroup")),
     "a missing milter_socket_group is logged as an error", logtext("nogroup")[-500:])
p = start("closed", sock=W + "/closed/milter.sock")
wait_socket(W + "/closed/milter.sock", p)
p.send_signal(signal.SIGTERM)
finish(p)
emit(re.search(r"folder %s/closed is not searchable by group postfix" % re.escape(W), logtext("closed")),
     "a folder the MTA's group cannot search is logged as an error", logtext("closed")[-500:])

# 5. SIGTERM with RCPT checks in flight (slow.test runs into the 3 s budget).
outs = []
lock = threading.Lock()
rcpts = threading.Semaphore(0)
def client(i):
    o = session(sock, "u%d@slow.test" % i, on_rcpt=rcpts.release)
    with lock:
        outs.append((o, time.time()))
ts = [threading.Thread(target=client, args=(i,)) for i in range(16)]
[t.start() for t in ts]
n_sent = sum(1 for i in range(16) if rcpts.acquire(timeout=20))
# An open MTA connection keeps the drain waiting (up to its deadline).
held = socket.socket(socket.AF_UNIX)
held.settimeout(30)
held.connect(sock)
held.sendall(pkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
held_ok = reply(held)[0] == "O"
held.sendall(pkt(b"C", b"client.test\0" + b"4" + struct.pack(">H", 25) + b"127.0.0.1\0"))
held_ok = held_ok and reply(held)[0] == "c"
t_sig = time.time()
good.send_signal(signal.SIGTERM)
for _ in range(100):
    if re.search("stopping on signal 15|libmilter stopped listening", logtext("good")):
        break
    time.sleep(0.1)
during = session(sock, "late@slow.test")
held.close()
[t.join() for t in ts]
rc = finish(good, 30)
# The kernel may hand the signal to libmilter's own signal thread instead
# of the main thread; libmilter then closes the listener itself, and a new
# connection is refused (the MTA applies milter_default_action).
stolen = "libmilter stopped listening" in logtext("good")
sent = [o for o, t in outs if len(o) >= 3 and o[2] == ("M", "c")]
answered = [o for o in sent if len(o) >= 4 and o[3][0] == "R" and o[3][1] in ("c", "t", "a", "y")]
late = [o for o, t in outs if t > t_sig and o in answered]
emit(n_sent == 16 and len(sent) == 16 and held_ok, "16 transactions sent RCPT before SIGTERM (and one idle connection)",
     "%d sent; %r" % (n_sent, [o for o, t in outs if o not in sent][:3]))
emit(len(answered) == len(sent), "every RCPT in flight at SIGTERM was answered", repr([o for o in sent if o not in answered][:3]))
emit(late, "the answers came after the signal (the checks were in flight)", "%d late" % len(late))
emit(during[:2] == [("O", "O"), ("C", "t")] or (stolen and "ConnectionRefused" in repr(during)),
     "a connection during the drain is refused cleanly (tempfail at connect%s)" %
     ("; libmilter took the signal: connection refused" if stolen else ""),
     repr(during) + "\n" + logtext("good")[-600:])
emit(rc == 0, "the milter exits 0 after draining", "rc %s: %s" % (rc, logtext("good")[-800:]))
emit(re.search(r"(stopping on signal 15|libmilter stopped listening).*\n(.*\n)*.*stopped", logtext("good")),
     "drained before freeing the engine",
     logtext("good")[-500:])
emit(not re.search(r"Sanitizer|runtime error", logtext("good")), "no sanitizer report", logtext("good")[-1500:])
print("RESULTS " + json.dumps(res))
'''

if not os.access(MILTER, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % MILTER)
    sys.exit(1)
r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) +
                   ["smtpd-filter", "--", sys.executable, "-c", INSIDE, MILTER, CLIENT],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
results = None
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        results = json.loads(line[8:])
if results is None:
    print("1..1\nnot ok 1 - the smtpd-filter world ran the daemon test")
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
