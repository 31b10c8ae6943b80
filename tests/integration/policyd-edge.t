#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): stsfilter-policyd's edge cases against a real
Postfix, in the `policyd-edge` world (tests/world/scenarios/policyd-edge.toml).

Covers (issue 10, "The socketmap", and issue 11, defects 3 and 7):
- the unix socket: mode 0660 and group postfix; the postfix user connects
  (Postfix's smtp(8) delivers through it), the user nobody cannot;
- a policy with 300 mx patterns: postmap -q shows every one, in policy
  order, and Postfix delivers over verified TLS to the MX listed 300th;
- next-hop keys with a service name as the port ([good.test]:submission,
  good.test:smtp);
- a bogus TLSA RRset: TEMP, and the log line says verdict=temporary with
  reply=TEMP; by default (log_lookups = no) that failure is logged as a
  warning and the lookups answered OK are not logged (issue 14);
- slow-loris: 256 connections sending a byte every 2 s do not stop a real
  lookup (postmap as the same peer and as the postfix user), are closed
  at socketmap_request_timeout, and the sheds are logged once;
- a DNS outage: with Knot paused, a restarted policyd (empty resolver
  cache) answers a cached enforce policy OK secure, not TEMP;
- -n warns when DANE replies lack DNSSEC validation (trust anchor, trust-ad);
- SIGTERM under load: exit status 0, every reply a client got is whole, an
  idle connection is closed at once (not after socketmap_idle_timeout).

Needs root."""

import json
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
POLICYD = os.path.join(BUILD, "stsfilter-policyd")
RUN = os.path.join(TOP, "tests/world/run")

INSIDE = r'''
import grp, json, os, re, signal, socket, stat, subprocess, sys, threading, time
POLICYD = sys.argv[1]
W = os.environ["STS_WORLD"]
world = json.load(open(os.environ["STS_WORLD_JSON"]))
snd = world["sender"]
etc = snd["config_directory"]
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, diag])

# The world's folder is 0700; Postfix's smtp(8) (user postfix) must reach the socket.
os.chmod(W, 0o711)
sockdir = os.path.join(W, "policyd")
os.makedirs(sockdir)
os.chmod(sockdir, 0o755)
SOCK = os.path.join(sockdir, "policyd.sock")
MAP = "socketmap:unix:%s:postfix" % SOCK
base = open(os.environ["STS_WORLD_CONF"]).read()
conf = os.path.join(W, "policyd.conf")
with open(conf, "w") as fp:
    fp.write(base + """
user = root
check_time_budget = 5s
socketmap_time_budget = 5s
probe_connect_timeout = 2s
probe_read_timeout = 2s
socketmap_socket = unix:%s
socketmap_pid_file =
socketmap_idle_timeout = 1h
""" % SOCK)

logpath = os.path.join(W, "policyd.log")
log = open(logpath, "a")
def start():
    p = subprocess.Popen([POLICYD, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(100):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(SOCK)
            s.close()
            break
        except OSError:
            time.sleep(0.1)
    return p
def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        return -9
def logtext():
    log.flush()
    return open(logpath).read()
def postmap(key, user=None):
    argv = ["postmap", "-c", etc, "-q", key, MAP]
    if user:
        argv = ["setpriv", "--reuid", user, "--regid", user, "--init-groups"] + argv
    r = subprocess.run(argv, capture_output=True, text=True, timeout=150)
    return r.returncode, r.stdout.strip(), r.stderr.strip()

proc = start()

# 1. The socket: 0660, group postfix; postfix may connect, nobody may not.
st = os.stat(SOCK) if os.path.exists(SOCK) else None
emit(st and stat.S_IMODE(st.st_mode) == 0o660, "socket mode is 0660", st and oct(stat.S_IMODE(st.st_mode)))
emit(st and st.st_gid == grp.getgrnam("postfix").gr_gid, "socket group is postfix", st and "gid %d" % st.st_gid)
rc, out, err = postmap("good.test", user="postfix")
emit(rc == 0 and out.startswith("secure match="), "postmap -q as the postfix user is answered", "rc %d %r %r" % (rc, out, err))
r = subprocess.run(["setpriv", "--reuid", "nobody", "--regid", "nogroup", "--clear-groups", sys.executable, "-c",
                    "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print('connected')\n"
                    "except PermissionError: print('EACCES')", SOCK], capture_output=True, text=True)
emit(r.stdout.strip() == "EACCES", "the user nobody cannot connect", r.stdout + r.stderr)

# 2. 300 mx patterns: every one, in order.
rc, out, err = postmap("manymx.test")
want = "secure match=" + ":".join("mx%d.manymx.test" % i for i in range(300)) + " servername=hostname"
emit(rc == 0 and out == want, "postmap -q manymx.test: all 300 mx patterns in policy order",
     "rc %d, %d patterns, tail %r %r" % (rc, out.count(":") + 1 if out else 0, out[-120:], err))

# 3. Service names in place of the port.
rc, good, err = postmap("good.test")
for key in ["[good.test]:submission", "good.test:smtp", "[good.test]:smtps"]:
    rc, out, err = postmap(key)
    emit(rc == 0 and out == good and good.startswith("secure match="), "postmap -q %s: same as good.test" % key,
         "rc %d %r %r" % (rc, out, err))

# 4. A bogus TLSA RRset: TEMP, and the log says so.
rc, out, err = postmap("danesig.test")
emit(rc != 0 and out == "" and "temporary" in err, "postmap -q danesig.test: TEMP (temporary lookup error)",
     "rc %d %r %r" % (rc, out, err))
m = re.findall(r"key=danesig\.test, domain=danesig\.test, verdict=(\S+), delay=\d+ms, reply=(\S+)", logtext())
emit(m and all(v == "temporary" and r == "TEMP" for v, r in m), "log line: verdict=temporary, reply=TEMP", repr(m))
# Issue 14: by default (log_lookups = no) only failures are logged, as warnings;
# the good.test lookups above (OK secure) leave no line.
emit(re.search(r"warning: client=\S+, map=postfix, key=danesig\.test, domain=danesig\.test, verdict=temporary", logtext())
     and not re.search(r"key=(\[good\.test\]:\w+|good\.test(:\w+)?|manymx\.test), domain=", logtext()),
     "log_lookups = no: the TEMP lookup is a warning, the OK ones are not logged", logtext()[-1200:])

# 5. Postfix delivers to the MX listed 300th, verified against the socketmap's policy.
subprocess.run(["postconf", "-c", etc, "-e", "smtp_tls_policy_maps = " + MAP], check=True)
subprocess.run(["postfix", "-c", etc, "reload"], check=True, capture_output=True)
time.sleep(1.5)
r = subprocess.run(["swaks", "--server", snd["address"], "--from", "alice@sender.world.test", "--to", "bob@manymx.test",
                    "--helo", "client.world.test", "--local-interface", "127.0.0.1", "--timeout", "40"],
                   capture_output=True, text=True, timeout=120)
maillog = os.path.join(W, "postfix-sender", "maillog")
def ml():
    return open(maillog).read() if os.path.exists(maillog) else ""
deadline = time.time() + 60
while time.time() < deadline and not re.search(r"to=<bob@manymx\.test>.*status=", ml()):
    time.sleep(1)
t = ml()
lines = "\n".join(l for l in t.splitlines() if "manymx" in l)
emit(re.search(r"Verified TLS connection established to mx299\.manymx\.test", t)
     and re.search(r"to=<bob@manymx\.test>.*status=sent", t),
     "Postfix delivers to mx299.manymx.test (the 300th pattern) over verified TLS", lines[-800:] + r.stdout[-300:])

# 6. Slow-loris: 256 connections, one byte every 2 s each (the old idle timeout never fired).
slow_stop = threading.Event()
slow_stats = {"opened": 0, "closed": 0}
def slow():
    socks = []
    for i in range(256):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        try:
            s.connect(SOCK)
            s.setblocking(False)
            socks.append(s)
            slow_stats["opened"] += 1
        except OSError:
            s.close()
    payload = b"99999:postfix " + b"x" * 200
    pos = 0
    while not slow_stop.is_set() and socks:
        for s in list(socks):
            try:
                s.send(payload[pos % len(payload):pos % len(payload) + 1])
                if s.recv(1) == b"":
                    raise OSError("closed")
            except BlockingIOError:
                pass
            except OSError:
                socks.remove(s)
                s.close()
                slow_stats["closed"] += 1
        pos += 1
        slow_stop.wait(2)
    for s in socks:
        s.close()
th = threading.Thread(target=slow)
th.start()
time.sleep(3)
rc, out, err = postmap("good.test")
emit(rc == 0 and out == good, "a real lookup is answered while 256 slow clients are connected (same peer): %r" % slow_stats,
     "rc %d %r %r, slow %r" % (rc, out, err, slow_stats))
rc, out, err = postmap("good.test", user="postfix")
emit(rc == 0 and out == good, "a lookup as the postfix user is answered too", "rc %d %r %r" % (rc, out, err))
time.sleep(8)
slow_stop.set()
th.join(30)
emit(slow_stats["closed"] >= 200, "slow clients are disconnected (request deadline or shed): %d of %d" %
     (slow_stats["closed"], slow_stats["opened"]), repr(slow_stats))
text = logtext()
# socketmap_request_timeout: 5s by default.
emit(len(re.findall(r"request not complete 5 s after its first byte", text)) >= 100,
     "'request not complete' logged for the slow clients", text[-600:])
emit(len(re.findall(r"connection limits reached", text)) == 1,
     "sheds logged once a minute (one line)", "\n".join(re.findall(r".*connection limits reached.*", text)))
emit(proc.poll() is None, "daemon still running after the slow clients")

# 7. -n: DANE replies need DNSSEC validation.
bad = os.path.join(W, "noanchor.conf")
with open(bad, "w") as fp:
    fp.write(open(conf).read() + "dns_trust_anchor_file = %s/missing.key\n" % W)
r = subprocess.run([POLICYD, "-n", "-c", bad], capture_output=True, text=True)
emit(r.returncode == 0 and "dns_trust_anchor_file" in r.stderr and "not readable" in r.stderr,
     "-n warns when the trust anchor file is missing", r.stderr)
r = subprocess.run([POLICYD, "-n", "-c", conf], capture_output=True, text=True)
resolv = open("/etc/resolv.conf").read()
emit(r.returncode == 0 and ("trust-ad" in r.stderr) == ("trust-ad" not in resolv),
     "-n warns about trust-ad exactly when /etc/resolv.conf lacks it", r.stderr + resolv)

# 8. SIGTERM under load: exit 0, whole replies only.
load_stop = threading.Event()
replies = {"whole": 0, "broken": 0, "closed": 0}
def loader():
    while not load_stop.is_set():
        try:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(20)
            s.connect(SOCK)
            f = s.makefile("rb")
            for key in [b"good.test", b"nopolicy.world.test", b"manymx.test"]:
                req = b"postfix " + key
                s.sendall(b"%d:%s," % (len(req), req))
                n = b""
                while not n.endswith(b":"):
                    c = f.read(1)
                    if not c:
                        raise EOFError
                    n += c
                body = f.read(int(n[:-1]) + 1)
                if len(body) == int(n[:-1]) + 1 and body.endswith(b",") and re.match(rb"^(OK|NOTFOUND|TEMP) ", body):
                    replies["whole"] += 1
                else:
                    replies["broken"] += 1
            s.close()
        except (EOFError, OSError):
            replies["closed"] += 1
            time.sleep(0.05)
ths = [threading.Thread(target=loader) for _ in range(16)]
[t.start() for t in ths]
idle = socket.socket(socket.AF_UNIX)
idle.connect(SOCK)
idle.settimeout(120)
time.sleep(2)
rc = stop(proc)
try:
    idle_got = idle.recv(10)
except OSError as e:
    idle_got = repr(e)
idle.close()
load_stop.set()
[t.join(30) for t in ths]
emit(rc == 0, "SIGTERM under load: exit status 0", "rc %s" % rc)
emit(replies["whole"] > 0 and replies["broken"] == 0, "every reply before the stop is whole: %r" % replies, repr(replies))
emit(idle_got == b"" and not re.search(r"stopped with \d+ connections", logtext()),
     "an idle connection is closed by the stop, not left to socketmap_idle_timeout (1h)",
     "%r %s" % (idle_got, "\n".join(re.findall(r".*stopped with.*", logtext()))))
emit(not os.path.exists(SOCK), "socket removed at exit")
emit("stopping on signal 15" in logtext() and "AddressSanitizer" not in logtext(), "clean stop in the log", logtext()[-600:])

# 9. DNS outage: the policy cached, Knot paused, a fresh policyd (empty resolver cache).
knot = [p for p in os.listdir("/proc") if p.isdigit() and open("/proc/%s/comm" % p).read().strip() == "knotd"]
proc = start()
if knot:
    os.kill(int(knot[0]), signal.SIGSTOP)
rc, out, err = postmap("good.test")
if knot:
    os.kill(int(knot[0]), signal.SIGCONT)
emit(knot and rc == 0 and out == good, "Knot paused: a cached enforce policy still answers OK secure",
     "knot %r rc %d %r %r" % (knot, rc, out, err))
emit(re.search(r"key=good\.test, domain=good\.test, verdict=temporary, delay=\d+ms, reply=OK secure match=\S+ servername=hostname "
               r"\(cached MTA-STS policy, mode enforce\)", logtext()),
     "log line: verdict temporary (no MX), reply OK secure from the cached policy", logtext()[-800:])
stop(proc)
print("POLICYDLOG " + json.dumps(logtext()[-3000:]))
print("RESULTS " + json.dumps(res))
'''

if not os.access(POLICYD, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % POLICYD)
    sys.exit(1)
env = dict(os.environ, STS_WORLD_SENDER="1")
r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) + ["policyd-edge", "--", sys.executable, "-c", INSIDE, POLICYD],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=900, env=env)
results = None
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        results = json.loads(line[8:])
    elif os.environ.get("STS_VERBOSE") and line.startswith("POLICYDLOG "):
        for l in json.loads(line.split(" ", 1)[1]).splitlines():
            print("#   " + l)
if results is None:
    print("1..1\nnot ok 1 - the policyd-edge world ran the test")
    for l in (r.stdout[-2500:] + r.stderr[-2500:]).splitlines():
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
