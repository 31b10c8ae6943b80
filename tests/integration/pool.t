#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): the probe pool (shared/route_pool.c, issue 12),
through stsfilter-policyd's socketmap in the `tarpit-pool` world
(tests/world/scenarios/tarpit-pool.toml).

- 500 lookups of tarpit.test, whose preferred MX accepts TCP and never
  speaks, over 4 connections with a 2 s budget (the probe read timeout
  is longer, so every tarpit probe runs into the budget): every lookup
  is answered, and the daemon's thread count never goes above its
  baseline plus probe_threads plus 2 (the old engine started a thread per
  lookup that kept probing the tarpit after the answer); once the
  lookups are over and the budget has passed, the count does not grow.
- Two concurrent lookups of pool-a.test and pool-b.test, two domains
  whose only MX is that same tarpit host: the tarpit sees one connection
  (one probe for both: single flight per host), counted as the sockets
  it holds (it never closes one).
- pool-b.test asked 1.5 s after pool-a.test joins pool-a.test's job,
  which ends at pool-a.test's deadline; pool-b.test still has 1.5 s and
  probes again (a second connection).

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
import json, os, signal, socket, subprocess, sys, threading, time
POLICYD = sys.argv[1]
W = os.environ["STS_WORLD"]
world = json.load(open(os.environ["STS_WORLD_JSON"]))
res = []
notes = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, diag])

PROBE_THREADS = 4
LOOKUPS = 500
CONNS = 4
slow = [t for t in world["tarpits"] if t["name"] == "slow.tarpit.test"][0]
SOCK = os.path.join(W, "policyd.sock")
conf = os.path.join(W, "policyd.conf")
with open(conf, "w") as fp:
    fp.write(open(os.environ["STS_WORLD_CONF"]).read() + """
user = root
check_time_budget = 2s
socketmap_time_budget = 2s
probe_connect_timeout = 5s
probe_read_timeout = 30s
probe_threads = %d
socketmap_socket = unix:%s
socketmap_pid_file =
socketmap_idle_timeout = 1h
""" % (PROBE_THREADS, SOCK))
logpath = os.path.join(W, "policyd.log")
log = open(logpath, "a")
proc = subprocess.Popen([POLICYD, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)

def connect():
    for _ in range(100):
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(SOCK)
            s.settimeout(30)
            return s
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("policyd does not listen")

def netstring(s):
    b = s.encode()
    return b"%d:%s," % (len(b), b)

def read_netstring(f):
    n = b""
    while True:
        c = f.read(1)
        if not c:
            return None
        if c == b":":
            break
        n += c
    data = f.read(int(n))
    if f.read(1) != b",":
        return None
    return data.decode()

def lookup(s, f, key):
    s.sendall(netstring("policy " + key))
    return read_netstring(f)

def threads():
    with open("/proc/%d/status" % proc.pid) as fp:
        for line in fp:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return -1

def tarpit_sockets():
    """Sockets the tarpit holds (it closes none): connections it ever got."""
    out = subprocess.run(["ss", "-Htan"], capture_output=True, text=True).stdout
    me = "%s:%d" % (slow["address"], slow["port"])
    return sum(1 for l in out.splitlines() if len(l.split()) >= 5 and l.split()[0] != "LISTEN" and l.split()[3] == me)

conns = [connect() for _ in range(CONNS)]
files = [s.makefile("rb") for s in conns]
# A domain that needs no probe: every client thread exists, the pool is not started yet.
for s, f in zip(conns, files):
    lookup(s, f, "nothing.invalid")
base = threads()
peak = [base]
sampling = [True]
def sampler():
    while sampling[0]:
        peak[0] = max(peak[0], threads())
        time.sleep(0.005)
smp = threading.Thread(target=sampler)
smp.start()
replies = [[] for _ in range(CONNS)]
def client(i):
    for _ in range(LOOKUPS // CONNS):
        try:
            replies[i].append(lookup(conns[i], files[i], "tarpit.test"))
        except OSError as e:
            replies[i].append(None)
workers = [threading.Thread(target=client, args=(i,)) for i in range(CONNS)]
for t in workers:
    t.start()
for t in workers:
    t.join()
sampling[0] = False
smp.join()
all_replies = [r for rs in replies for r in rs]
answered = [r for r in all_replies if r]
bound = base + PROBE_THREADS + 2
emit(len(all_replies) == LOOKUPS and len(answered) == LOOKUPS, "every one of %d lookups of tarpit.test got an answer" % LOOKUPS,
     "%d answers of %d" % (len(answered), len(all_replies)))
emit(all(r.startswith("OK ") for r in answered), "each answer is OK (the healthy second MX passes)",
     sorted(set(r[:80] for r in answered))[:5])
emit(peak[0] <= bound, "threads during the lookups: at most baseline %d + probe_threads %d + 2" % (base, PROBE_THREADS),
     "peak %d > %d" % (peak[0], bound))
notes.append("threads: baseline %d, peak %d during %d lookups" % (base, peak[0], LOOKUPS))
for s in conns:
    s.close()
time.sleep(2 + 1.5 + 1)                 # the budget, the grace, a margin
t1 = threads()
time.sleep(3)
t2 = threads()
emit(t2 <= t1 and t2 <= bound, "after the lookups, the thread count does not grow (%d, then %d; bound %d)" % (t1, t2, bound))

# Single flight per MX host across domains.
n0 = tarpit_sockets()
notes.append("tarpit connections during the %d lookups: %d" % (LOOKUPS, n0))
a, b = connect(), connect()
fa, fb = a.makefile("rb"), b.makefile("rb")
got = {}
go = threading.Barrier(2)
def one(s, f, key):
    go.wait()
    try:
        got[key] = lookup(s, f, key)
    except OSError as e:
        got[key] = None
ta = threading.Thread(target=one, args=(a, fa, "pool-a.test"))
tb = threading.Thread(target=one, args=(b, fb, "pool-b.test"))
ta.start(); tb.start(); ta.join(); tb.join()
n1 = tarpit_sockets()
emit(got.get("pool-a.test") and got.get("pool-b.test"), "two concurrent lookups of two domains sharing the tarpit MX are answered", got)
emit(n1 - n0 == 1, "the tarpit MX got one connection for both domains (single flight per host)",
     "%d connections (before %d, after %d)" % (n1 - n0, n0, n1))
a.close(); b.close()

# A request that joined a job cut short by the budget of the request that
# made it, with at least 1 s of its own left, probes again (as before the
# pool): pool-b.test asks 1.5 s after pool-a.test, both with 2 s budgets.
n0 = tarpit_sockets()
a, b = connect(), connect()
fa, fb = a.makefile("rb"), b.makefile("rb")
got = {}
ta = threading.Thread(target=lambda: got.__setitem__("a", lookup(a, fa, "pool-a.test")))
ta.start()
time.sleep(1.5)
got["b"] = lookup(b, fb, "pool-b.test")
ta.join()
n1 = tarpit_sockets()
emit(got.get("a") and got.get("b") and n1 - n0 == 2,
     "a request that joined a job its maker's budget cut short probes again within its own budget",
     "%d connections; %r" % (n1 - n0, got))
a.close(); b.close()

proc.send_signal(signal.SIGTERM)
try:
    rc = proc.wait(60)
except subprocess.TimeoutExpired:
    proc.kill()
    rc = -9
emit(rc == 0, "policyd stops cleanly (the probe pool is joined)", "exit %r" % rc)
log.flush()
print("POLICYDLOG " + json.dumps(open(logpath).read()[-3000:]))
print("NOTES " + json.dumps(notes))
print("RESULTS " + json.dumps(res))
'''

if not os.access(POLICYD, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % POLICYD)
    sys.exit(1)
r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) + ["tarpit-pool", "--", sys.executable, "-c", INSIDE, POLICYD],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=900)
results = None
notes = []
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        results = json.loads(line[8:])
    elif line.startswith("NOTES "):
        notes = json.loads(line[6:])
    elif os.environ.get("STS_VERBOSE") and line.startswith("POLICYDLOG "):
        for l in json.loads(line.split(" ", 1)[1]).splitlines():
            print("#   " + l)
if results is None:
    print("1..1\nnot ok 1 - the tarpit-pool world ran the test")
    for l in (r.stdout[-2500:] + r.stderr[-2500:]).splitlines():
        print("# " + l)
    sys.exit(1)
print("1..%d" % len(results))
for n in notes:
    print("# " + n)
failed = 0
for i, (ok, desc, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    if not ok:
        failed += 1
        for l in str(diag).splitlines()[-12:]:
            print("#   " + l)
sys.exit(1 if failed else 0)
