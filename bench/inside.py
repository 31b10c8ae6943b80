#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""bench/inside.py: the bench suite, run by bench/run inside the `bench` world.

Usage (inside the world): inside.py BUILDDIR OUT.md COMMAND [--smoke]
Every comparison runs interleaved (A, B, A, B, ...) in one run; every
figure is a median over the rounds with its spread (min-max)."""

import json, os, re, shutil, signal, socket, statistics, subprocess, sys, time

BUILD, OUT, CMDLINE = sys.argv[1], sys.argv[2], sys.argv[3]
SMOKE = "--smoke" in sys.argv
HERE = os.path.dirname(os.path.abspath(__file__))
W = os.environ["STS_WORLD"]
world = json.load(open(os.environ["STS_WORLD_JSON"]))
snd = world["sender"]
etc = snd["config_directory"]
LOAD0 = open("/proc/loadavg").read().split()[:3]
ROUNDS = 2 if SMOKE else 3
RCPTS = 40 if SMOKE else 2000
MSGS = 10 if SMOKE else 100
# net.unix.max_dgram_qlen: tests/world raises it in the world's namespace
# before Postfix opens its sockets (the setting is read when a socket is made).
procs = []
rows = []          # (section, name, median, spread, unit)
notes = []

def start(args, log):
    p = subprocess.Popen(args, stdout=open(os.path.join(W, log), "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    return p

def wait_sock(spec, p, secs=20):
    for _ in range(secs * 10):
        try:
            if spec.startswith("unix:"):
                s = socket.socket(socket.AF_UNIX); s.connect(spec[5:])
            else:
                port, host = spec[5:].split("@"); s = socket.create_connection((host, int(port)))
            s.close()
            return True
        except OSError:
            if p.poll() is not None:
                return False
            time.sleep(0.1)
    return False

def milter(name, backend, spec):
    conf = os.path.join(W, name + ".conf")
    with open(conf, "w") as fp:
        fp.write(open(os.environ["STS_WORLD_CONF"]).read() + """
cache_backend = %s
cache_path = %s/%s.lmdb
milter_socket = %s
user = root
pid_file =
act_on = mynetworks
mynetworks = 127.0.0.0/8
""" % (backend, W, name, spec))
    p = start([os.path.join(BUILD, "stsfilter-milter"), "-f", "-c", conf], name + ".log")
    if not wait_sock(spec, p):
        raise SystemExit("%s did not come up: %s" % (name, open(os.path.join(W, name + ".log")).read()[-800:]))
    return p

def med(xs):
    return statistics.median(xs)

def spread(xs):
    return "%s-%s" % (fmt(min(xs)), fmt(max(xs)))

def fmt(x):
    return "%.3g" % x if x < 100 else "%.0f" % x

def rtt(spec, rcpt, n, conns):
    r = subprocess.run([os.path.join(BUILD, "bench/milter-rtt"), spec, rcpt, str(n), str(conns)], capture_output=True, text=True)
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit("milter-rtt failed: %s %s" % (r.stdout[-300:], r.stderr[-500:]))
    if j["errors"] or j["n"] == 0:
        raise SystemExit("milter-rtt errors: %r" % j)
    return j

# --- (a) milter RCPT round trips, warm, LMDB and Redis, 1 and 8 connections,
# interleaved with the no-op libmilter milter (noop-milter.c: same callbacks,
# same negotiation, no work): the protocol's floor on this machine.
noop_bin = os.path.join(W, "noop-milter")
subprocess.run(["gcc", "-O2", "-o", noop_bin, os.path.join(HERE, "noop-milter.c"), "-lmilter", "-lpthread"], check=True)
noop_inet = start([noop_bin, "inet:10041@127.0.0.1"], "noop-inet.log")
noop_unix_path = "%s/noop.sock" % W
noop_unix = start([noop_bin, "unix:" + noop_unix_path], "noop-unix.log")
wait_sock("inet:10041@127.0.0.1", noop_inet); wait_sock("unix:" + noop_unix_path, noop_unix)
m_lmdb = milter("m-lmdb", "lmdb", "inet:10031@127.0.0.1")
m_redis = milter("m-redis", "redis", "inet:10032@127.0.0.1")
m_unix = milter("m-unix", "lmdb", "unix:%s/m-unix.sock" % W)
for spec in ("inet:10031@127.0.0.1", "inet:10032@127.0.0.1", "unix:%s/m-unix.sock" % W):
    for rc in ("u@good.test", "u@nopolicy.test", "u@testing.test"):
        rtt(spec, rc, 4, 1)                       # warm the cache
for dom in ("good.test", "nopolicy.test"):
    for conns in (1, 8):
        res = {"lmdb": [], "redis": [], "noop": []}
        for _ in range(ROUNDS):
            res["lmdb"].append(rtt("inet:10031@127.0.0.1", "u@" + dom, RCPTS, conns))
            res["redis"].append(rtt("inet:10032@127.0.0.1", "u@" + dom, RCPTS, conns))
            res["noop"].append(rtt("inet:10041@127.0.0.1", "u@" + dom, RCPTS, conns))
        for be in ("lmdb", "redis"):
            for q in ("p50_us", "p99_us"):
                xs = [a[q] / b[q] for a, b in zip(res[be], res["noop"])]
                rows.append(("milter RCPT round trip (µs), warm", "%s, %s, %d conn, %s ÷ no-op milter's" % (dom, be, conns, q[:3]),
                             med(xs), spread(xs), "ratio"))
        for be in ("lmdb", "redis", "noop"):
            for q in ("p50_us", "p99_us"):
                xs = [j[q] for j in res[be]]
                rows.append(("milter RCPT round trip (µs), warm", "%s, %s, %d conn, %s" % (dom, be if be != "noop" else "no-op milter", conns, q[:3]),
                             med(xs), spread(xs), "µs"))
            xs = [j["rcpt_per_s"] for j in res[be]]
            rows.append(("milter RCPT round trip (µs), warm", "%s, %s, %d conn, RCPT/s" % (dom, be if be != "noop" else "no-op milter", conns),
                         med(xs), spread(xs), "/s"))
replies = rtt("inet:10031@127.0.0.1", "u@good.test", 4, 1)["replies"]
notes.append("milter replies seen for good.test: %r (c = continue)" % replies)
for name in ("m-lmdb", "m-unix"):
    tags = len(re.findall(r"domain=testing\.test, verdict=[^,]*, reasons=[^,]*, action=tag", open(os.path.join(W, name + ".log")).read()))
    notes.append("%s: testing.test RCPTs decided 'tag': %d" % (name, tags))

# --- (f) in-process warm decisions (bench/decide): one domain per verdict
# class, LMDB and Redis interleaved per round; each run warms every domain,
# times N decisions one by one, and counts the clone/clone3 calls of N more
# under strace -f (see bench/decide.c).
CLASSES = [("ok", "good.test", "ok", 0), ("enforce-fail", "expired.test", "enforce-fail", 0),
           ("testing-fail", "testing.test", "testing-fail", 0), ("no-policy", "nopolicy.test", "no-policy", 0),
           ("DANE", "dane.test", "ok", 1)]
N_DECIDE = 20 if SMOKE else 1000
def decide_conf(backend):
    conf = os.path.join(W, "decide-%s.conf" % backend)
    with open(conf, "w") as fp:
        fp.write(open(os.environ["STS_WORLD_CONF"]).read() + "\ncache_backend = %s\ncache_path = %s/decide.lmdb\n"
                 % (backend, W))
    return conf
def decide(conf):
    r = subprocess.run([os.path.join(BUILD, "bench/decide"), conf, str(N_DECIDE)] + [c[1] for c in CLASSES],
                       capture_output=True, text=True, timeout=900)
    res = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            j = json.loads(line)
            res[j["domain"]] = j
    if r.returncode != 0 or len(res) != len(CLASSES):
        raise SystemExit("bench/decide failed: %s %s" % (r.stdout[-500:], r.stderr[-800:]))
    return res
dec = {"lmdb": [], "redis": []}
dconf = {be: decide_conf(be) for be in dec}
for _ in range(ROUNDS):
    for be in dec:
        dec[be].append(decide(dconf[be]))
for cls, dom, want, want_dane in CLASSES:
    for be in dec:
        for q in ("p50_us", "p99_us", "mean_us"):
            xs = [res[dom][q] for res in dec[be]]
            rows.append(("in-process warm decision (µs)", "%s (%s), %s, %s" % (cls, dom, be, q[:-3]), med(xs), spread(xs), "µs"))
for cls, dom, want, want_dane in CLASSES:
    for be in dec:
        xs = [res[dom]["clones_per_decision"] for res in dec[be]]
        if min(xs) >= 0:
            rows.append(("threads created per warm decision", "in-process, %s (%s), %s (%d decisions)" % (cls, dom, be, N_DECIDE),
                         med(xs), spread(xs), "clone/decision"))
for be in dec:
    seen = []
    for cls, dom, want, want_dane in CLASSES:
        got = sorted(set("%s%s" % (res[dom]["verdict"], " (dane)" if res[dom]["dane"] else "") for res in dec[be]))
        changed = sum(res[dom]["changed"] for res in dec[be])
        seen.append("%s: %s=%s%s" % (cls, dom, "/".join(got), ", %d timed decisions changed verdict" % changed if changed else ""))
    notes.append("bench/decide verdicts, %s: %s" % (be, "; ".join(seen)))

# --- (d) threads created per warm decision (strace -f -c counts clone/clone3).
n_dec = 50 if SMOKE else 1000
if shutil.which("strace"):
    tr = subprocess.Popen(["strace", "-f", "-c", "-e", "trace=clone,clone3", "-p", str(m_lmdb.pid)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    rtt("inet:10031@127.0.0.1", "u@good.test", n_dec, 1)
    tr.send_signal(signal.SIGINT)
    err = tr.communicate(timeout=30)[1]
    calls = sum(int(m.group(1)) for m in re.finditer(r"^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?clone3?\s*$", err, re.M))
    rows.append(("threads created per warm decision", "stsfilter-milter, good.test, LMDB (%d decisions)" % n_dec,
                 calls / n_dec, "-", "clone/decision"))

# --- (b) Postfix throughput: alone, + stsfilter-milter, + no-op milter; inet: and unix:.
# The sending Postfix is checked for its banner after every reload; a restart
# it needed is counted in the notes (expected 0: tests/world raises
# net.unix.max_dgram_qlen, without which it wedged on postlogd's socket).
for path in (noop_unix_path, "%s/m-unix.sock" % W):
    os.chmod(path, 0o666)
# name: (smtpd_milters, recipient); testing.test's messages are tagged.
setups = {
    "alone": ("", "u@good.test"),
    "sts-inet": ("inet:127.0.0.1:10031", "u@good.test"),
    "noop-inet": ("inet:127.0.0.1:10041", "u@good.test"),
    "sts-unix": ("unix:%s/m-unix.sock" % W, "u@good.test"),
    "noop-unix": ("unix:" + noop_unix_path, "u@good.test"),
    "sts-inet-tagged": ("inet:127.0.0.1:10031", "u@testing.test"),
}
restarts = [0]
def use(milters):
    subprocess.run(["postconf", "-c", etc, "-e", "smtpd_milters = " + milters, "milter_default_action = tempfail",
                    "smtpd_client_connection_rate_limit = 0", "smtpd_client_message_rate_limit = 0",
                    "smtpd_client_connection_count_limit = 0"], check=True)
    subprocess.run(["postfix", "-c", etc, "reload"], capture_output=True)
    time.sleep(1.2)
    # The sending Postfix answers with its banner before a run (a reload
    # has been seen to leave it without a master: start it again).
    for attempt in range(20):
        try:
            with socket.create_connection((snd["address"], 25), timeout=5) as c:
                if c.recv(512).startswith(b"220"):
                    c.sendall(b"QUIT\r\n")
                    return
        except OSError:
            pass
        restarts[0] += 1
        try:
            subprocess.run(["postfix", "-c", etc, "start"], capture_output=True, timeout=15)
        except subprocess.TimeoutExpired:
            pass
        time.sleep(0.5)
    raise SystemExit("the sending Postfix does not answer after a reload")
def source(sessions, rcpt):
    t0 = time.perf_counter()
    r = subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(MSGS), "-c", "-f", "alice@sender.test",
                        "-t", rcpt, "%s:25" % snd["address"]], capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise SystemExit("smtp-source failed: %s" % r.stderr[-500:])
    return MSGS / (time.perf_counter() - t0)
tput = {}
for rnd in range(ROUNDS):
    for name, (milters, rcpt) in setups.items():
        use(milters)
        for s in (1, 9):
            tput.setdefault((name, s), []).append(source(s, rcpt))
use("")
notes.append("sending Postfix: banner checks that failed after a reload (and started it again): %d" % restarts[0])
for s in (1, 9):
    for name in setups:
        xs = tput[(name, s)]
        rows.append(("Postfix throughput (smtp-source, messages/s)", "%s, %d sessions" % (name, s), med(xs), spread(xs), "msg/s"))
    for sock in ("inet", "unix"):
        r1 = [a / b for a, b in zip(tput[("sts-" + sock, s)], tput[("noop-" + sock, s)])]
        r2 = [a / b for a, b in zip(tput[("sts-" + sock, s)], tput[("alone", s)])]
        rows.append(("Postfix throughput ratios", "sts ÷ no-op milter, %s:, %d sessions" % (sock, s), med(r1), spread(r1), "ratio"))
        rows.append(("Postfix throughput ratios", "sts ÷ Postfix alone, %s:, %d sessions" % (sock, s), med(r2), spread(r2), "ratio"))
    r4 = [a / b for a, b in zip(tput[("sts-inet-tagged", s)], tput[("noop-inet", s)])]
    rows.append(("Postfix throughput ratios", "sts tagged ÷ no-op milter, inet:, %d sessions" % s, med(r4), spread(r4), "ratio"))
    r3 = [a / b for a, b in zip(tput[("sts-unix", s)], tput[("sts-inet", s)])]
    rows.append(("Postfix throughput ratios", "sts unix: ÷ sts inet:, %d sessions" % s, med(r3), spread(r3), "ratio"))

# --- (c) stsfilter-policyd vs postfix-mta-sts-resolver (mta-sts-daemon), warm
# enforce domain, unix sockets, 1, 8 and 64 connections, interleaved.
def policyd_start():
    conf = os.path.join(W, "policyd.conf")
    with open(conf, "w") as fp:
        fp.write(open(os.environ["STS_WORLD_CONF"]).read() + """
cache_backend = lmdb
cache_path = %s/policyd.lmdb
socketmap_socket = unix:%s/policyd.sock
socketmap_pid_file =
socketmap_max_clients = 512
user = root
""" % (W, W))
    p = start([os.path.join(BUILD, "stsfilter-policyd"), "-f", "-c", conf], "policyd.log")
    if not wait_sock("unix:%s/policyd.sock" % W, p):
        raise SystemExit("policyd did not come up: %s" % open(os.path.join(W, "policyd.log")).read()[-800:])
    return p
def peer_start():
    conf = os.path.join(W, "mta-sts-daemon.yml")
    with open(conf, "w") as fp:
        fp.write('path: "%s/peer.sock"\nmode: 0666\nshutdown_timeout: 5\ncache:\n  type: internal\n'
                 '  options:\n    cache_size: 10000\ndefault_zone:\n  strict_testing: false\n  timeout: 4\n' % W)
    env = dict(os.environ, SSL_CERT_FILE=os.environ["STS_WORLD_CA"])
    p = subprocess.Popen(["mta-sts-daemon", "-c", conf, "-v", "warn"], env=env,
                         stdout=open(os.path.join(W, "peer.log"), "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    if not wait_sock("unix:%s/peer.sock" % W, p):
        raise SystemExit("mta-sts-daemon did not come up: %s" % open(os.path.join(W, "peer.log")).read()[-800:])
    return p
def qps(spec, conns, secs):
    r = subprocess.run([os.path.join(BUILD, "bench/socketmap-qps"), spec, "postfix", "good.test", str(conns), str(secs)],
                       capture_output=True, text=True)
    try:
        j = json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise SystemExit("socketmap-qps failed: %s %s" % (r.stdout[-300:], r.stderr[-500:]))
    if j["errors"]:
        raise SystemExit("socketmap-qps errors: %r" % j)
    return j
def floor_start(reply):
    p = subprocess.Popen([os.path.join(BUILD, "bench/socketmap-floor"), os.path.join(W, "floor.sock"), reply],
                         stdout=open(os.path.join(W, "floor.log"), "w"), stderr=subprocess.STDOUT)
    procs.append(p)
    if not wait_sock("unix:%s/floor.sock" % W, p):
        raise SystemExit("socketmap-floor did not come up: %s" % open(os.path.join(W, "floor.log")).read()[-800:])
    return p
if shutil.which("mta-sts-daemon"):
    policyd_start()
    peer_start()
    ours, peer = "unix:%s/policyd.sock" % W, "unix:%s/peer.sock" % W
    floor = "unix:%s/floor.sock" % W
    for spec in (ours, peer):
        for _ in range(3):
            j = qps(spec, 1, 0.5)                 # warm: fetch and cache the policy
            if j["reply"].startswith("OK"):
                break
            time.sleep(1)
        notes.append("socketmap reply for good.test from %s: %s" % ("stsfilter-policyd" if spec == ours else
                                                                     "mta-sts-daemon", j["reply"][:160]))
    # The floor: a server that answers policyd's reply without looking.
    floor_start(qps(ours, 1, 0.2)["reply"])
    secs = 0.5 if SMOKE else 3
    for conns in (1, 8, 64):
        a, b, f = [], [], []
        for _ in range(ROUNDS):
            a.append(qps(ours, conns, secs)["qps"])
            b.append(qps(peer, conns, secs)["qps"])
            f.append(qps(floor, conns, secs)["qps"])
        rows.append(("socketmap queries/s, warm enforce domain (good.test)", "stsfilter-policyd, %d conn" % conns,
                     med(a), spread(a), "q/s"))
        rows.append(("socketmap queries/s, warm enforce domain (good.test)", "mta-sts-daemon, %d conn" % conns,
                     med(b), spread(b), "q/s"))
        rows.append(("socketmap queries/s, warm enforce domain (good.test)",
                     "floor (socketmap-floor: answers without looking), %d conn" % conns, med(f), spread(f), "q/s"))
        r = [x / y for x, y in zip(a, b)]
        rows.append(("socketmap queries/s, warm enforce domain (good.test)", "policyd ÷ mta-sts-daemon, %d conn" % conns,
                     med(r), spread(r), "ratio"))
        r = [x / y for x, y in zip(a, f)]
        rows.append(("socketmap queries/s, warm enforce domain (good.test)", "policyd ÷ floor, %d conn" % conns,
                     med(r), spread(r), "ratio"))
        r = [x / y for x, y in zip(b, f)]
        rows.append(("socketmap queries/s, warm enforce domain (good.test)", "mta-sts-daemon ÷ floor, %d conn" % conns,
                     med(r), spread(r), "ratio"))
else:
    notes.append("mta-sts-daemon not installed (postfix-mta-sts-resolver): socketmap comparison skipped")

# --- (e) scale: 1M policies + 1M negative entries into LMDB (default map);
# Redis: distinct lookups in chunks of 250k, anonymous memory per chunk.
scale = os.path.join(BUILD, "bench/cache-scale")
N = 2000 if SMOKE else 1000000
r = subprocess.run([scale, "fill", "lmdb", os.path.join(W, "scale.lmdb"), str(N)], capture_output=True, text=True)
try:
    j = json.loads(r.stdout.strip().splitlines()[-1])
except (ValueError, IndexError):
    raise SystemExit("cache-scale fill failed: %s %s" % (r.stdout[-300:], r.stderr[-800:]))
rows.append(("scale: %d policies + %d negative entries, LMDB, default lmdb_map_size (4g)" % (N, N),
             "process anonymous memory (RssAnon, L1 at its defaults)", j["rss_anon_kib"] / 1024.0, "-", "MiB"))
rows.append(("scale: %d policies + %d negative entries, LMDB, default lmdb_map_size (4g)" % (N, N),
             "LMDB file", j["file_bytes"] / 1048576.0, "-", "MiB"))
rows.append(("scale: %d policies + %d negative entries, LMDB, default lmdb_map_size (4g)" % (N, N),
             "records in LMDB", j["backend_entries"], "-", "records"))
rows.append(("scale: %d policies + %d negative entries, LMDB, default lmdb_map_size (4g)" % (N, N),
             "failed puts", j["failed_puts"], "-", "puts"))
rows.append(("scale: %d policies + %d negative entries, LMDB, default lmdb_map_size (4g)" % (N, N),
             "fill time (2N puts, N/10 gets of each kind)", j["seconds"], "-", "s"))
CH = 2000 if SMOKE else 250000
r = subprocess.run([scale, "distinct", "redis", os.environ["STS_WORLD_REDIS"], str(CH), "3"], capture_output=True, text=True)
chunks = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
if len(chunks) != 3:
    raise SystemExit("cache-scale distinct failed: %s %s" % (r.stdout[-300:], r.stderr[-800:]))
for c in chunks:
    rows.append(("Redis: distinct lookups (miss + negative put), chunks of %d" % CH,
                 "anonymous memory after chunk %d (%d lookups)" % (c["chunk"], c["lookups"]), c["rss_anon_kib"] / 1024.0,
                 "-", "MiB"))
d = (chunks[2]["rss_anon_kib"] - chunks[1]["rss_anon_kib"]) / float(chunks[1]["rss_anon_kib"])
rows.append(("Redis: distinct lookups (miss + negative put), chunks of %d" % CH, "last two chunks differ by",
             100.0 * d, "-", "%"))

for p in procs:
    if p.poll() is None:
        p.terminate()
for p in procs:
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        p.kill()

# --- RESULTS.md
cpu = ""
for line in open("/proc/cpuinfo"):
    if line.startswith("model name"):
        cpu = line.split(":", 1)[1].strip()
        break
with open(OUT, "w") as fp:
    fp.write("# bench results%s\n\n" % (" (smoke run: tiny counts, figures meaningless)" if SMOKE else ""))
    fp.write("- date: %s\n- machine: %d CPUs (nproc), %s, %s\n- command: `%s`\n- rounds: %d (interleaved), %d RCPTs per round, %d messages per smtp-source run, %d in-process decisions per domain per round\n"
             "- load average (1, 5, 15 min) at the start: %s; at the end: %s (the machine is shared: other jobs add noise)\n\n"
             % (os.environ.get("STS_BENCH_DATE") or time.strftime("%Y-%m-%d %H:%M:%S %Z"), os.cpu_count(), cpu, os.uname().release,
                CMDLINE.strip(), ROUNDS, RCPTS, MSGS, N_DECIDE, " ".join(LOAD0), " ".join(open("/proc/loadavg").read().split()[:3])))
    sect = None
    order = []
    for r in rows:
        if r[0] not in order:
            order.append(r[0])
    rows.sort(key=lambda r: order.index(r[0]))
    for s, name, m, sp, unit in rows:
        if s != sect:
            fp.write("\n## %s\n\n| measure | median | spread (min-max) | unit |\n|---|---|---|---|\n" % s)
            sect = s
        fp.write("| %s | %s | %s | %s |\n" % (name, fmt(m), sp, unit))
    if notes:
        fp.write("\n## notes\n\n" + "".join("- %s\n" % n for n in notes))
print("wrote %s (%d figures)" % (OUT, len(rows)))
