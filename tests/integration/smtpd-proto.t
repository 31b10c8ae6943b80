#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): stsfilter-smtpd's protocol, driven on stdin/stdout
as smtpd drives it, in the `smtpd-filter` world (seeds-fetch plus slow.test) (real DNS, policy hosts, MX).

Covers, for protocol 0.6 (the OpenSMTPD 6.8 handshake, no config|protocol)
and 0.7 (the 7.6-style handshake with config|protocol|0.7):
- the registration after config|ready (rcpt-to and the reports; data-line
  only with smtpd_tagging = yes);
- malformed, truncated, overlong (70 000 bytes) and NUL-holding lines: the
  filter logs them, stays up and answers the next valid request;
- every output line well-formed (filter-result|SESSION|TOKEN|..., or
  filter-dataline|SESSION|TOKEN|..., or register|...);
- a defer (action_temporary = defer) answered "reject|451 4.4.3 ..." for a
  SERVFAIL domain, while a domain whose MTA-STS policy cannot be fetched
  (no-policy, RFC 8461 section 3.3) proceeds;
- interleaved sessions: a stalled policy host in one session does not delay
  another session's answer;
- the tag header first in the data, every line echoed, the final ".";
- link-auth in the order of each version (0.6 USER|RESULT, 0.7 RESULT|USER)
  deciding act_on = authenticated;
- a clean exit (status 0) when stdin closes.

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
import json, os, re, select, subprocess, sys, time
FILTER = sys.argv[1]
W = os.environ["STS_WORLD"]
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, diag])

base = open(os.environ["STS_WORLD_CONF"]).read()
COMMON = """
user = root
check_time_budget = 3s
recipient_time_budget = 3s
policy_fetch_timeout = 3s
policy_fetch_connect_timeout = 2s
probe_connect_timeout = 2s
probe_read_timeout = 2s
act_on = authenticated, mynetworks
mynetworks = 127.0.0.1/32
"""
conf = os.path.join(W, "smtpd-filter.conf")
with open(conf, "w") as fp:
    fp.write(base + COMMON + "action_temporary = defer\n")
conf_tag = os.path.join(W, "smtpd-filter-tag.conf")
with open(conf_tag, "w") as fp:
    fp.write(base + COMMON + "smtpd_tagging = yes\n")     # action_temporary = tag, the default

WELLFORMED = re.compile(r"^(register\|[a-z|-]+|filter-result\|[0-9a-f]{1,16}\|[0-9a-f]{1,16}\|(proceed|reject\|[45][0-9][0-9] [^\r]+)"
                        r"|filter-dataline\|[0-9a-f]{1,16}\|[0-9a-f]{1,16}\|.*)$")

class Filter:
    def __init__(self, tag, cf):
        self.err = open(os.path.join(W, "smtpd-filter-%s.err" % tag), "w+")
        self.p = subprocess.Popen([FILTER, "-f", "-c", cf], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, bufsize=0)
        self.buf = b""
        self.lines = []          # (time, line) as read
    def send(self, s):
        if isinstance(s, str):
            s = s.encode()
        self.p.stdin.write(s)
        self.p.stdin.flush()
    def read_until(self, pred, timeout):
        end = time.time() + timeout
        while time.time() < end:
            for i, (_, l) in enumerate(self.lines):
                if pred(l):
                    return l
            r, _, _ = select.select([self.p.stdout], [], [], 0.1)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    break
                self.buf += chunk
                while b"\n" in self.buf:
                    l, self.buf = self.buf.split(b"\n", 1)
                    self.lines.append((time.time(), l.decode("utf-8", "replace")))
        for _, l in self.lines:
            if pred(l):
                return l
        return None
    def when(self, line):
        for t, l in self.lines:
            if l == line:
                return t
        return None
    def stderr(self):
        self.err.flush()
        self.err.seek(0)
        return self.err.read()
    def close(self):
        self.p.stdin.close()
        try:
            rc = self.p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = -9
        rest = self.p.stdout.read() or b""
        for l in (self.buf + rest).decode("utf-8", "replace").split("\n"):
            if l:
                self.lines.append((time.time(), l))
        return rc

def handshake(f, ver):
    if ver == 6:
        hs = ["config|smtpd-version|6.8.0p2", "config|smtp-session-timeout|300", "config|subsystem|smtp-in",
              "config|admd|sender.test", "config|ready"]
    else:
        hs = ["config|smtpd-version|7.6.0", "config|protocol|0.7", "config|smtp-session-timeout|300",
              "config|subsystem|smtp-in", "config|admd|sender.test", "config|ready"]
    f.send("".join(l + "\n" for l in hs))
    f.read_until(lambda l: l == "register|ready", 10)

def run(ver):
    tag = "0.%d" % ver
    f = Filter(tag, conf)
    handshake(f, ver)
    regs = [l for _, l in f.lines if l.startswith("register|")]
    emit(regs and regs[-1] == "register|ready" and "register|filter|smtp-in|rcpt-to" in regs
         and "register|filter|smtp-in|data-line" not in regs and "register|report|smtp-in|tx-rcpt" in regs
         and "register|report|smtp-in|link-auth" in regs,
         "%s: registers rcpt-to and the reports, no data-line (smtpd_tagging = no), register|ready last" % tag,
         "\n".join(regs))
    # stderr is a separate stream: the log line may follow register|ready.
    for _ in range(100):
        if "registered with smtpd, protocol 0.%d" % ver in f.stderr():
            break
        time.sleep(0.1)
    emit("registered with smtpd, protocol 0.%d" % ver in f.stderr(), "%s: the handshake's version is detected" % tag,
         f.stderr()[-400:])
    V = "0.%d" % ver
    ts = "1700000000.000001"
    def rep(sess, ev, params=None):
        return "report|%s|%s|smtp-in|%s|%s%s\n" % (V, ts, ev, sess, "" if params is None else "|" + params)
    def flt(sess, tok, phase, param):
        return "filter|%s|%s|smtp-in|%s|%s|%s|%s\n" % (V, ts, phase, sess, tok, param)

    # Garbage first: every kind of bad line, then a valid request.
    bad = [b"garbage\n", b"filter|" + V.encode() + b"\n", b"filter|" + V.encode() + b"|" + ts.encode() + b"|smtp-in|rcpt-to|aa\n",
           b"filter|" + V.encode() + b"|" + ts.encode() + b"|smtp-in|rcpt-to|zz|11|a@good.test\n",
           b"report|0.5|" + ts.encode() + b"|smtp-in|link-connect|aa|x|pass|127.0.0.1:1|127.0.0.1:25\n",
           b"filter|" + V.encode() + b"|" + ts.encode() + b"|smtp-in|rcpt-to|aa|bb|" + b"x" * 70000 + b"\n",
           b"filter|" + V.encode() + b"|" + ts.encode() + b"|smtp-in|rcpt-to|aa|bb|a\x00b@good.test\n",
           b"report|" + V.encode() + b"|" + ts.encode() + b"|smtp-in|link-connect|aa||pass|999.1.1.1:1|x\n",
           b"filter-result|aa|bb|proceed\n", b"|||||||\n", b"\n"]
    for b in bad:
        f.send(b)
    s1 = "1a" if ver == 6 else "7a"
    f.send(rep(s1, "link-connect", "client.test|pass|127.0.0.1:40000|127.0.0.1:25"))
    f.send(rep(s1, "tx-begin", "0000abcd"))
    f.send(flt(s1, "10", "rcpt-to", "<user@nosuch.example>"))
    r = f.read_until(lambda l: l.startswith("filter-result|%s|10|" % s1), 15)
    emit(f.p.poll() is None and r is not None, "%s: after malformed, truncated and overlong lines the filter is up and answers" % tag,
         f.stderr()[-800:])
    emit(r is not None and r.startswith("filter-result|%s|10|reject|451 4.4.3 " % s1),
         "%s: a defer (SERVFAIL domain, temporary) is reject|451 4.4.3 ..." % tag, str(r))
    # RFC 8461 section 3.3: a policy that cannot be fetched is no-policy, never deferred.
    f.send(flt(s1, "11", "rcpt-to", "<user@fetcherr.test>"))
    r = f.read_until(lambda l: l.startswith("filter-result|%s|11|" % s1), 15)
    emit(r == "filter-result|%s|11|proceed" % s1,
         "%s: action_temporary = defer: the fetch-error domain (no-policy) proceeds" % tag, str(r))
    err = f.stderr()
    emit("malformed input line skipped" in err and "longer than 65536" in err and "NUL byte" in err,
         "%s: bad lines are logged to stderr" % tag, err[-800:])

    # Interleaved sessions: a stalled policy host (A) and a healthy domain (B).
    sa, sb = ("2a", "2b") if ver == 6 else ("8a", "8b")
    for s in (sa, sb):
        f.send(rep(s, "link-connect", "|pass|127.0.0.1:%d|127.0.0.1:25" % (41000 + len(s))))
        f.send(rep(s, "tx-begin", "0000000%s" % s[-1]))
    t0 = time.time()
    f.send(flt(sa, "20", "rcpt-to", "user@slow.test"))
    f.send(flt(sb, "21", "rcpt-to", "user@good.test"))
    rb = f.read_until(lambda l: l.startswith("filter-result|%s|21|" % sb), 15)
    ra = f.read_until(lambda l: l.startswith("filter-result|%s|20|" % sa), 15)
    ta, tb = f.when(ra), f.when(rb)
    emit(rb == "filter-result|%s|21|proceed" % sb, "%s: good.test proceeds" % tag, str(rb))
    emit(ra is not None and ta is not None and tb is not None and tb < ta and ta - t0 >= 1.0,
         "%s: the stalled domain's session does not delay the other session's answer" % tag,
         "A=%r after %.2fs, B=%r after %.2fs" % (ra, (ta or t0) - t0, rb, (tb or t0) - t0))

    rc = f.close()
    emit(rc == 0, "%s: stdin EOF: clean exit 0" % tag, "rc %s\n%s" % (rc, f.stderr()[-600:]))
    badout = [l for _, l in f.lines if not WELLFORMED.match(l)]
    emit(not badout, "%s: every output line is well-formed (%d lines)" % (tag, len(f.lines)), "\n".join(badout[:5]))

    # Tagging (action_temporary = tag): an authenticated client outside
    # mynetworks; the recipient accepted by smtpd (tx-rcpt ok) is tagged.
    f = Filter(tag + "-tag", conf_tag)
    handshake(f, ver)
    regs = [l for _, l in f.lines if l.startswith("register|")]
    emit(regs and regs[-1] == "register|ready" and "register|filter|smtp-in|data-line" in regs,
         "%s: smtpd_tagging = yes registers data-line too" % tag, "\n".join(regs))
    sc = "3c" if ver == 6 else "9c"
    f.send(rep(sc, "link-connect", "|pass|192.0.2.9:42000|127.0.0.1:25"))
    auth = "alice|pass" if ver == 6 else "pass|alice"
    f.send(rep(sc, "link-auth", auth))
    f.send(rep(sc, "tx-begin", "0000cccc"))
    f.send(flt(sc, "30", "rcpt-to", "<bob@nosuch.example>"))
    rc_ = f.read_until(lambda l: l.startswith("filter-result|%s|30|" % sc), 15)
    f.send(rep(sc, "tx-rcpt", "0000cccc|ok|bob@nosuch.example"))
    body = ["From: a@sender.test", "Subject: x|y", "", "..leading dot", "."]
    for i, l in enumerate(body):
        f.send(flt(sc, "31", "data-line", l))
    f.read_until(lambda l: l == "filter-dataline|%s|31|." % sc, 10)
    out = [l.split("|", 3)[3] for _, l in f.lines if l.startswith("filter-dataline|%s|31|" % sc)]
    emit(rc_ == "filter-result|%s|30|proceed" % sc, "%s: an authenticated client's tagged recipient proceeds" % tag, str(rc_))
    emit(len(out) == len(body) + 1 and out[0].startswith("X-MTA-STS-Check: nosuch.example temporary") and out[1:] == body,
         "%s: tag header first, every data line echoed, the final dot too" % tag, json.dumps(out))

    # Outside mynetworks and not authenticated (0.6/0.7 auth order reversed = fail): not checked.
    sd = "4d" if ver == 6 else "ad"
    f.send(rep(sd, "link-connect", "|pass|192.0.2.10:42001|127.0.0.1:25"))
    f.send(rep(sd, "link-auth", "alice|fail" if ver == 6 else "fail|alice"))
    f.send(flt(sd, "40", "rcpt-to", "user@fetcherr.test"))
    rd = f.read_until(lambda l: l.startswith("filter-result|%s|40|" % sd), 10)
    emit(rd == "filter-result|%s|40|proceed" % sd, "%s: a failed AUTH outside mynetworks is not checked" % tag, str(rd))

    rc = f.close()
    emit(rc == 0, "%s: stdin EOF: clean exit 0" % tag, "rc %s\n%s" % (rc, f.stderr()[-600:]))
    badout = [l for _, l in f.lines if not WELLFORMED.match(l)]
    emit(not badout, "%s: every output line is well-formed (%d lines)" % (tag, len(f.lines)), "\n".join(badout[:5]))

run(6)
run(7)
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
    print("1..1\nnot ok 1 - the smtpd-filter world ran the protocol test")
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
