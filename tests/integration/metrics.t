#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): Prometheus metrics (issue 14) in the `seeds`
world. stsfilter-milter (metrics_listen) takes five recipients from
miltertest (tests/miltertest/metrics.lua) and stsfilter-policyd
(socketmap_metrics_listen), on the same host and from the same file,
answers five socketmap lookups; then GET /metrics on each shows exactly
those decisions by verdict and action, the latency histogram's count, the
kept answers read, policy fetches and probes, and `promtool check
metrics` (Debian's prometheus package, unpacked by tools/setup) accepts
both outputs; the Grafana dashboard (contrib/grafana/stsfilter.json)
names only metrics that the scrape has, and `promtool check rules`
parses its queries. Any other path or method is 404. Scrapers cannot hold
mail: with the listener's per-address connection limit taken by idle
connections, lookups are still answered and one more scrape is refused.
A metrics address in use stops stsfilter-policyd at start-up with an
error naming socketmap_metrics_listen; a unix: address is a
configuration error with file:line.

Needs root."""

import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
RUN = os.path.join(TOP, "tests/world/run")
PROMTOOL = os.environ.get("STS_PROMTOOL", "/var/tmp/stsfilter-promtool/root/usr/bin/promtool")

INSIDE = r'''
import os, re, signal, socket, subprocess, sys, time, urllib.request, urllib.error
BUILD, MT_DIR, PROMTOOL, DASH = sys.argv[1:5]
W = os.environ["STS_WORLD"]
base = open(os.environ["STS_WORLD_CONF"]).read()
res = []
def ok(cond, what, diag=""):
    res.append((bool(cond), what, diag))

MPORT, PPORT, MMET, PMET = 10051, 10052, 9469, 9470
conf = os.path.join(W, "metrics.conf")
with open(conf, "w") as fp:
    fp.write(base + "\nuser = root\npid_file =\nsocketmap_pid_file =\n"
             "milter_socket = inet:%d@127.0.0.1\nsocketmap_socket = inet:%d@127.0.0.1\n"
             "metrics_listen = inet:%d@127.0.0.1\nsocketmap_metrics_listen = inet:%d@127.0.0.1\n"
             "check_time_budget = 3s\nrecipient_time_budget = 3s\nsocketmap_time_budget = 3s\n"
             "probe_connect_timeout = 2s\nprobe_read_timeout = 2s\ncache_backend = lmdb\n" % (MPORT, PPORT, MMET, PMET))

def start(prog, logname):
    log = open(os.path.join(W, logname), "w")
    return subprocess.Popen([os.path.join(BUILD, prog), "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)

def wait_port(port, proc):
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False

def logtext(name):
    return open(os.path.join(W, name), errors="replace").read()

def get(port, path="/metrics", method="GET"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), method=method,
                                 data=b"x" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, "", ""

def lookup(key):
    req = b"postfix " + key.encode()
    s = socket.create_connection(("127.0.0.1", PPORT), 10)
    s.sendall(b"%d:%s," % (len(req), req))
    buf = b""
    while not buf.endswith(b","):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    return buf.partition(b":")[2][:-1].decode()

def value(text, series):
    for l in text.splitlines():
        if l.startswith(series + " "):
            return float(l.split()[-1])
    return None

milter = start("stsfilter-milter", "milter.log")
policyd = start("stsfilter-policyd", "policyd.log")
up = wait_port(MPORT, milter) and wait_port(PPORT, policyd) and wait_port(MMET, milter) and wait_port(PMET, policyd)
ok(up, "both daemons listen, each with its own metrics listener", logtext("milter.log")[-400:] + logtext("policyd.log")[-400:])
if up:
    # The port takes connections from listen() on, before the thread starts.
    deadline = time.time() + 30
    while time.time() < deadline and "serving metrics on inet:%d@127.0.0.1" % MMET not in logtext("milter.log"):
        time.sleep(0.1)
    ok("serving metrics on inet:%d@127.0.0.1" % MMET in logtext("milter.log"), "the milter logs its metrics address",
       logtext("milter.log")[-600:])
    st, ctype, before = get(PMET)
    ok(st == 200 and ctype.startswith("text/plain; version=0.0.4"), "GET /metrics: 200, text format 0.0.4", "%s %s" % (st, ctype))
    ok(value(before, 'stsfilter_decision_duration_seconds_count{frontend="policyd"}') == 0,
       "policyd: its latency histogram is there, empty, before any lookup", before[:600])

    env = dict(os.environ, MT_SOCKET="inet:%d@127.0.0.1" % MPORT, MT_DIR=MT_DIR)
    r = subprocess.run(["miltertest", "-s", os.path.join(MT_DIR, "metrics.lua")], capture_output=True,
                       text=True, errors="replace", env=env, timeout=120)
    ok(r.returncode == 0, "miltertest sent the five recipients", r.stdout[-600:] + r.stderr[-600:])
    replies = [lookup(k) for k in ("good.test", "good.test", "[good.test]:25", "testing.test", "nopolicy.test")]
    ok(replies[0].startswith("OK secure match=") and replies[3].startswith("NOTFOUND") and replies[4].startswith("NOTFOUND"),
       "policyd answered the five lookups", repr(replies))

    st, _, m = get(MMET)
    st2, _, p = get(PMET)
    ok(st == 200 and st2 == 200, "both scrapes answered")
    exp = [
        (m, 'stsfilter_decisions_total{frontend="milter",verdict="ok",action="accept"}', 3),
        (m, 'stsfilter_decisions_total{frontend="milter",verdict="enforce-fail",action="defer"}', 1),
        (m, 'stsfilter_decisions_total{frontend="milter",verdict="testing-fail",action="tag"}', 1),
        (m, 'stsfilter_decision_duration_seconds_count{frontend="milter"}', 5),
        (m, 'stsfilter_decision_duration_seconds_bucket{frontend="milter",le="+Inf"}', 5),
        (p, 'stsfilter_decisions_total{frontend="policyd",verdict="ok",action="secure"}', 3),
        (p, 'stsfilter_decisions_total{frontend="policyd",verdict="testing-fail",action="notfound"}', 1),
        (p, 'stsfilter_decisions_total{frontend="policyd",verdict="no-policy",action="notfound"}', 1),
        (p, 'stsfilter_decision_duration_seconds_count{frontend="policyd"}', 5),
    ]
    for text, series, want in exp:
        got = value(text, series)
        ok(got == want, "%s == %d" % (series, want), "got %r" % got)
    ok(value(m, 'stsfilter_decision_duration_seconds_count{frontend="policyd"}') is None
       and value(p, 'stsfilter_decision_duration_seconds_count{frontend="milter"}') is None,
       "each daemon shows its own front end only")
    # good.test: the first lookup makes the answer, the next two read it.
    for name, text in (("milter", m), ("policyd", p)):
        hits = value(text, 'stsfilter_cache_lookups_total{layer="answer",result="hit"}')
        miss = value(text, 'stsfilter_cache_lookups_total{layer="answer",result="miss"}')
        ok(hits is not None and hits >= 2 and miss is not None and miss >= 3,
           "%s: kept answers read (hits >= 2, misses >= 3)" % name, "hits=%r misses=%r" % (hits, miss))
    ok((value(m, 'stsfilter_policy_fetches_total{result="ok"}') or 0) >= 2
       and (value(m, 'stsfilter_cache_lookups_total{layer="lmdb",result="miss"}') or 0) >= 1,
       "milter: policy fetches (ok >= 2) after LMDB misses counted", m[-2500:])
    ok((value(m, 'stsfilter_probes_total{result="ok"}') or 0) >= 1, "milter: probes counted (ok >= 1)", m[-2500:])
    # The same LMDB cache: policyd reads what the milter fetched and probed.
    fetches = sum(float(l.split()[-1]) for l in p.splitlines() if l.startswith("stsfilter_policy_fetches_total{"))
    probes = sum(float(l.split()[-1]) for l in p.splitlines() if l.startswith("stsfilter_probes_total{"))
    ok(fetches == 0 and probes == 0 and (value(p, 'stsfilter_cache_lookups_total{layer="lmdb",result="hit"}') or 0) >= 1,
       "policyd: no fetch and no probe of its own, LMDB hits counted", p[-2500:])
    for name, text in (("milter", m), ("policyd", p)):
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
        ok(r.returncode == 0 and "stsfilter_decisions_total" in text, "%s: promtool check metrics passes" % name,
           r.stdout[-800:] + r.stderr[-800:])
    # The Grafana dashboard: every metric it names exists, every query parses.
    import json
    dash = json.load(open(DASH))
    exprs = [t["expr"] for pn in dash["panels"] for t in pn.get("targets", [])]
    names = set(re.findall(r"stsfilter_[a-z_]+", " ".join(exprs)))
    absent = [n for n in sorted(names) if not re.search(r"^%s[{ ]" % n, m, re.M)]
    ok(len(exprs) >= 10 and not absent, "the dashboard's %d metric names are all in the scrape" % len(names), repr(absent))
    rules = os.path.join(W, "dashboard-rules.yml")
    with open(rules, "w") as fp:
        fp.write("groups:\n- name: dashboard\n  rules:\n")
        for i, e in enumerate(exprs):
            e = e.replace("$__rate_interval", "5m").replace("$job", ".*").replace("$instance", ".*")
            fp.write("  - record: stsfilter:dashboard_%d\n    expr: %s\n" % (i, json.dumps(e)))
    r = subprocess.run([PROMTOOL, "check", "rules", rules], capture_output=True, text=True)
    ok(r.returncode == 0, "promtool parses the dashboard's %d queries" % len(exprs), r.stdout[-800:] + r.stderr[-800:])
    for path, method in (("/", "GET"), ("/metrics/x", "GET"), ("/metrics", "POST"), ("/metrics", "DELETE")):
        st, _, _ = get(MMET, path, method)
        ok(st == 404, "%s %s: 404" % (method, path), str(st))

    # The listener's bound: 4 idle connections from one address take its
    # share; lookups go on, one more scrape is refused; then it serves again.
    idle = [socket.create_connection(("127.0.0.1", PMET), 5) for _ in range(4)]
    ok(lookup("good.test").startswith("OK secure"), "idle scrapers: a lookup is still answered")
    try:
        st, _, _ = get(PMET)
    except Exception as e:
        st = type(e).__name__
    ok(st != 200, "idle scrapers: a fifth connection from the address is refused", str(st))
    for s in idle:
        s.close()
    deadline = time.time() + 10
    st = None
    while time.time() < deadline:
        try:
            st, _, _ = get(PMET)
            if st == 200:
                break
        except Exception:
            pass
        time.sleep(0.2)
    ok(st == 200, "idle scrapers gone: scrapes are served again", str(st))

    # A second policyd on another socketmap port, the same metrics port.
    conf2 = os.path.join(W, "metrics2.conf")
    with open(conf2, "w") as fp:
        fp.write(open(conf).read() + "socketmap_socket = inet:%d@127.0.0.1\n" % (PPORT + 10))
    r = subprocess.run([os.path.join(BUILD, "stsfilter-policyd"), "-f", "-c", conf2], capture_output=True, text=True,
                       errors="replace", timeout=60)
    ok(r.returncode != 0 and re.search(r"cannot listen on inet:%d@127\.0\.0\.1: Address already in use "
                                       r"\(socketmap_metrics_listen\)" % PMET, r.stderr),
       "metrics address in use: policyd refuses to start, naming socketmap_metrics_listen",
       "rc=%d %s" % (r.returncode, r.stderr[-600:]))
    conf3 = os.path.join(W, "metrics3.conf")
    with open(conf3, "w") as fp:
        fp.write(open(conf).read() + "metrics_listen = unix:/run/metrics.sock\n")
    nlines = len(open(conf3).read().splitlines())
    r = subprocess.run([os.path.join(BUILD, "stsfilter-milter"), "-n", "-c", conf3], capture_output=True, text=True,
                       errors="replace", timeout=60)
    ok(r.returncode != 0 and ("%s:%d" % (conf3, nlines)) in r.stderr and "inet:port" in r.stderr,
       "metrics_listen = unix:...: a configuration error with file:line", "rc=%d %s" % (r.returncode, r.stderr[-600:]))

    # stsfilter-smtpd: one RCPT over its stdin protocol, then its own scrape;
    # a metrics address in use (policyd's) is logged and mail goes on.
    import select
    def smtpd_run(port):
        c = os.path.join(W, "smtpd-%d.conf" % port)
        with open(c, "w") as fp:
            fp.write(open(conf).read() + "smtpd_metrics_listen = inet:%d@127.0.0.1\n" % port)
        f = subprocess.Popen([os.path.join(BUILD, "stsfilter-smtpd"), "-c", c], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=open(os.path.join(W, "smtpd-%d.log" % port), "w"))
        V, ts = "0.6", "1700000000.000001"
        f.stdin.write(("config|smtpd-version|6.8.0p2\nconfig|smtp-session-timeout|300\nconfig|subsystem|smtp-in\n"
                       "config|ready\nreport|%s|%s|smtp-in|link-connect|5a|client.test|pass|127.0.0.1:40000|127.0.0.1:25\n"
                       "report|%s|%s|smtp-in|tx-begin|5a|0000abcd\nfilter|%s|%s|smtp-in|rcpt-to|5a|10|<bob@good.test>\n"
                       % (V, ts, V, ts, V, ts)).encode())
        f.stdin.flush()
        out, result, deadline = b"", None, time.time() + 30
        while result is None and time.time() < deadline:
            if select.select([f.stdout], [], [], 1)[0]:
                d = os.read(f.stdout.fileno(), 65536)
                if not d:
                    break
                out += d
                for l in out.decode(errors="replace").splitlines():
                    if l.startswith("filter-result|5a|10|"):
                        result = l
        return f, result
    sm, result = smtpd_run(9471)
    ok(result == "filter-result|5a|10|proceed", "smtpd: the RCPT is answered", str(result))
    st, _, text = get(9471)
    ok(st == 200 and value(text, 'stsfilter_decisions_total{frontend="smtpd",verdict="ok",action="accept"}') == 1
       and value(text, 'stsfilter_decision_duration_seconds_count{frontend="smtpd"}') == 1,
       "smtpd: its scrape counts the decision (ok, accept) and its latency", text[:1500])
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True)
    ok(r.returncode == 0, "smtpd: promtool check metrics passes", r.stdout[-800:] + r.stderr[-800:])
    sm.stdin.close()
    sm.wait(20)
    sm, result = smtpd_run(PMET)
    ok(result == "filter-result|5a|10|proceed", "smtpd, metrics address in use: the RCPT is still answered", str(result))
    sm.stdin.close()
    sm.wait(20)
    ok(re.search(r"cannot listen on inet:%d@127\.0\.0\.1: Address already in use \(smtpd_metrics_listen\)" % PMET,
                 logtext("smtpd-%d.log" % PMET)) and "going on without the metrics listener" in logtext("smtpd-%d.log" % PMET),
       "smtpd, metrics address in use: logged, the filter goes on without it", logtext("smtpd-%d.log" % PMET)[-600:])

    # A reload with another metrics address keeps the listener and says so.
    with open(conf, "a") as fp:
        fp.write("metrics_listen = inet:%d@127.0.0.1\n" % (MMET + 100))
    milter.send_signal(signal.SIGHUP)
    deadline = time.time() + 30
    while time.time() < deadline and "configuration reloaded" not in logtext("milter.log"):
        time.sleep(0.1)
    st, _, _ = get(MMET)
    ok(re.search(r'metrics listener changed from "inet:%d@127\.0\.0\.1" to "inet:%d@127\.0\.0\.1"; restart'
                 % (MMET, MMET + 100), logtext("milter.log")) and st == 200,
       "SIGHUP with a new metrics_listen: a warning, the old listener serves on", logtext("milter.log")[-600:])

for p in (milter, policyd):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        p.kill()
ok(milter.returncode == 0 and policyd.returncode == 0, "both stop cleanly on SIGTERM",
   "%r %r" % (milter.returncode, policyd.returncode))
for good, what, diag in res:
    print("%s\t%s\t%s" % ("ok" if good else "not ok", what, diag.replace("\n", "\\n").replace("\t", " ")))
'''


def main():
    for prog in ("stsfilter-milter", "stsfilter-policyd"):
        if not os.access(os.path.join(BUILD, prog), os.X_OK):
            print("1..1\nnot ok 1 - %s is built" % prog)
            return 1
    if not os.access(PROMTOOL, os.X_OK):
        print("1..1\nnot ok 1 - promtool at %s (tools/setup unpacks it)" % PROMTOOL)
        return 1
    r = subprocess.run([RUN, "seeds", "--", sys.executable, "-c", INSIDE, BUILD, os.path.join(TOP, "tests/miltertest"),
                        PROMTOOL, os.path.join(TOP, "contrib/grafana/stsfilter.json")], capture_output=True, text=True, errors="replace", timeout=900)
    got = []
    for line in r.stdout.splitlines():
        f = line.split("\t")
        if len(f) == 3 and f[0] in ("ok", "not ok"):
            got.append((f[0] == "ok", f[1], f[2]))
    if not got:
        got = [(False, "the world ran the test", r.stdout[-1500:] + r.stderr[-1500:])]
    print("1..%d" % len(got))
    for i, (good, what, diag) in enumerate(got, 1):
        print("%s %d - %s" % ("ok" if good else "not ok", i, what))
        if not good and diag:
            for d in diag.split("\\n")[-25:]:
                print("#   " + d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
