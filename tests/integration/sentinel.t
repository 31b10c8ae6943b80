#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): Redis failover with Redis Sentinel (issue 14),
in the `sentinel` world (the seeds world's domains, the sending Postfix,
a Redis primary on 127.0.63.79, its replica on 127.0.63.80 and three
sentinels, quorum 2, that watch them as "stsworld"; see
tests/world/README.md).

stsfilter-milter runs in front of the world's sending Postfix
(smtpd_milters, milter_default_action = tempfail) with the world's
redis_sentinels and redis_master_name, and a stream of messages (five
SMTP sessions at a time, one recipient each) goes through it:

- failover: the primary is killed (SIGKILL) under load, while the
  sentinel that the milter asks first hangs (SIGSTOP: connections are
  accepted, nothing is answered). The two other sentinels promote the
  replica; the milter logs the loss, asks the sentinels again (the hung
  one costs it only its share of redis_connect_timeout +
  redis_command_timeout) and follows the promoted replica (one line). The stream then
  turns to domains never checked before (plain.test, dane.test), whose
  records the milter can only have written to the new primary (the old
  one is dead): d:plain.test must appear there.
- demoted: the old primary comes back (a fresh Redis; the sentinels
  make it a replica of the new one), then SENTINEL FAILOVER promotes it
  while 127.0.63.80 stays up as a replica. The milter's poll of the
  sentinels (or their closing the demoted server's clients, whichever
  comes first) drops its connection, and it follows 127.0.63.79. The stream's new domains (expired.test,
  cname.test, fetcherr.test) are then cached there.
- readonly: 127.0.63.79 is turned into a replica behind the sentinels'
  back (REPLICAOF, which closes no connection). The milter's next write
  is refused with READONLY, and it drops the connection and asks the
  sentinels again; they still name 127.0.63.79, which ROLE shows is no
  primary, so the cache stays down (seen in `stsfilter cache stats`)
  while the decisions go on.
- moved: the sentinels are pointed at 127.0.63.80 (SENTINEL REMOVE and
  MONITOR), and the milter reconnects there; then at 127.0.63.79 while
  127.0.63.80 stays a primary and keeps the milter's connection (what a
  network partition looks like from the milter's side). The milter's
  poll of the sentinels (once a second) drops that connection and it
  follows 127.0.63.79, where its new records appear.
- auth: the sentinels are given a password of their own (requirepass);
  without redis_sentinel_password, or with a wrong one, `stsfilter cache
  stats` shows the cache down with the sentinels' NOAUTH or WRONGPASS;
  with it, connected to the primary they name.

Check results are cached for 1 s (cache_success_ttl, cache_failure_ttl,
cache_negative_ttl) and TXT records looked up every time, so that the
stream reads and writes Redis all along, as a busy cluster with many
domains does (a warm answer for a few domains never leaves the process).

For each phase every message sent is accounted for: delivered to the
world's Maildir exactly once, or refused at RCPT; each decision (the
milter's log) is the verdict its domain has in this world (world.json's
expect) or, when the check could not finish, the configured fallback
(verdict temporary, action_temporary), and each RCPT's reply is that
decision's action (action_enforce_fail = defer: 450). A Redis failure is
a cache miss, never a lost message. The RCPT bound, as in faults.t
(a bound, not a performance figure; recipient_time_budget is 1 s): the
milter's decision for each RCPT (its log's delay=) within the budget
plus 100 ms, and the wait at the client within twice the budget plus
100 ms (Debian's libmilter worker pool can leave a command unread for
one other callback's time; see LIBMILTER_POOL in faults.t).

STS_KEEP=1 keeps the world. Needs root."""

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
MILTER = os.path.join(BUILD, "stsfilter-milter")
STS = os.path.join(BUILD, "stsfilter")
RUN = os.path.join(TOP, "tests/world/run")

BUDGET = 1.0            # recipient_time_budget, seconds
SLACK = 0.1             # the bound: BUDGET + SLACK (see faults.t)
PARALLEL = 5
PORT = 10028
OLD = ("127.0.63.79", 6379)
NEW = ("127.0.63.80", 6379)
# The reply at RCPT for each action.
ACTION_CODE = {"accept": 250, "tag": 250, "defer": 450, "reject": 550}
BEFORE = ["good.test", "notlisted.test", "nopolicy.test", "testing.test"]
AFTER_FAILOVER = ["plain.test", "dane.test"]
AFTER_DEMOTION = ["expired.test", "cname.test", "fetcherr.test"]
KILL_AT = 10            # the primary dies when this message starts
TAIL = 10               # messages sent after the milter followed
MAX_MSGS = 1500         # a stream that never sees the follow ends here
MAX_SECS = 60.0


def cli(addr, *args):
    r = subprocess.run(["redis-cli", "-h", addr[0], "-p", str(addr[1])] + list(args),
                       capture_output=True, text=True)
    return r.stdout


def wait(cond, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


class Inside:
    def __init__(self):
        self.W = os.environ["STS_WORLD"]
        self.world = json.load(open(os.environ["STS_WORLD_JSON"]))
        self.snd = self.world["sender"]
        self.sen = self.world["sentinel"]
        self.maildir = self.world["postfix_mx"]["maildir"]
        self.base = open(os.environ["STS_WORLD_CONF"]).read()
        self.verdicts = {e["domain"]: e["verdict"] for e in self.world["expect"]}
        self.conf = os.path.join(self.W, "sentinel.conf")
        self.logpath = os.path.join(self.W, "milter.log")
        self.res = []
        self.proc = None
        self.log = None

    def emit(self, ok, desc, diag=""):
        self.res.append([bool(ok), desc, diag])

    def sentinels(self):
        return [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in self.sen["sentinels"]]

    def named(self):
        """What every sentinel names as the primary."""
        return [" ".join(cli(s, "SENTINEL", "get-master-addr-by-name", self.sen["master_name"]).split())
                for s in self.sentinels()]

    # -- the milter
    def milter_start(self):
        with open(self.conf, "w") as fp:
            fp.write(self.base)
            fp.write("""
milter_socket = inet:%d@127.0.0.1
user = root
pid_file = %s/milter.pid
check_time_budget = 1s
recipient_time_budget = %ds
dns_timeout = 1s
policy_fetch_connect_timeout = 1s
policy_fetch_timeout = 1s
probe_connect_timeout = 1s
probe_read_timeout = 1s
redis_connect_timeout = 1s
redis_command_timeout = 1s
cache_success_ttl = 1s
cache_failure_ttl = 1s
cache_negative_ttl = 1s
txt_recheck_interval = 0
act_on = authenticated, mynetworks
mynetworks = 127.0.0.1/32
""" % (PORT, self.W, int(BUDGET)))
        self.log = open(self.logpath, "a")
        self.proc = subprocess.Popen([MILTER, "-f", "-c", self.conf], stdout=self.log, stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                return True
            if ": starting: version" not in self.logtext():
                return False
            try:
                socket.create_connection(("127.0.0.1", PORT), 0.2).close()
                return True
            except OSError:
                return False
        return wait(up, 10) and self.proc.poll() is None

    def milter_stop(self):
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        self.proc = None
        self.log.close()
        return rc

    def logtext(self):
        if self.log and not self.log.closed:
            self.log.flush()
        return open(self.logpath, errors="replace").read()

    # -- one message, one session, one recipient; the RCPT's wait measured
    def send(self, token, rcpt):
        rec = {"token": token, "rcpt": rcpt, "stage": None, "code": None, "wait": None, "queued": False,
               "error": None}
        s = smtplib.SMTP(timeout=60, source_address=("127.0.0.1", 0))
        try:
            for stage, fn in (("connect", lambda: s.connect(self.snd["address"], self.snd["port"])),
                              ("ehlo", lambda: s.ehlo("client.world.test")),
                              ("mail", lambda: s.mail("alice@sender.world.test"))):
                code, msg = fn()
                if code not in (220, 250):
                    rec.update(stage=stage, code=code)
                    return rec
            t0 = time.monotonic()
            code, msg = s.rcpt(rcpt)
            rec["wait"] = time.monotonic() - t0
            rec["reply"] = msg.decode(errors="replace")
            if code not in (250, 251):
                rec.update(stage="rcpt", code=code)
                return rec
            body = ("From: alice@sender.world.test\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@sentinel.test>\r\n"
                    "\r\nfailover message %s\r\n" % (rcpt, token, token, token))
            code, msg = s.data(body)
            rec.update(stage="data", code=code, queued=(code == 250))
            return rec
        except smtplib.SMTPResponseException as exc:
            rec.update(stage=rec["stage"] or "reply", code=exc.smtp_code)
            return rec
        except (smtplib.SMTPException, OSError) as exc:
            rec["error"] = "%s: %s" % (type(exc).__name__, exc)
            return rec
        finally:
            try:
                s.quit()
            except (smtplib.SMTPException, OSError):
                s.close()

    # -- accounting (as faults.t)
    def delivered(self):
        found = {}
        for sub in ("new", "cur"):
            p = os.path.join(self.maildir, sub)
            for f in os.listdir(p) if os.path.isdir(p) else []:
                try:
                    text = open(os.path.join(p, f), errors="replace").read()
                except OSError:
                    continue
                for tok in set(re.findall(r"^Subject: (sentinel-\S+)$", text, re.M)):
                    found[tok] = found.get(tok, 0) + 1
        return found

    def account(self, phase, recs):
        queued = [r for r in recs if r["queued"]]
        refused = [r for r in recs if not r["queued"] and r["code"] is not None and r["code"] >= 400]
        other = [r for r in recs if r not in queued and r not in refused]
        end = time.time() + 60
        flushed = 0
        while True:
            got = self.delivered()
            missing = [r["token"] for r in queued if got.get(r["token"], 0) == 0]
            if not missing or time.time() > end:
                break
            if time.time() > flushed + 5:
                subprocess.run(["postqueue", "-c", self.snd["config_directory"], "-f"], capture_output=True)
                flushed = time.time()
            time.sleep(0.3)
        time.sleep(0.5)
        got = self.delivered()
        dup = [r["token"] for r in queued if got.get(r["token"], 0) > 1]
        leaked = [r["token"] for r in refused if got.get(r["token"], 0) > 0]
        ok = recs and not missing and not other and not dup and not leaked
        self.emit(ok, "%s: all %d messages sent accounted for: %d delivered, %d refused with a code"
                  % (phase, len(recs), len(queued), len(refused)),
                  "missing %s; no code %s; duplicated %s; refused but delivered %s"
                  % (missing, [(r["token"], r["stage"], r["error"]) for r in other], dup, leaked))
        # Each decision is the domain's verdict in this world, or the
        # configured fallback when its check could not finish (verdict
        # temporary: action_temporary, tag by default); and each RCPT's
        # reply is the decision's action.
        text = self.logtext()
        bad, fallback = [], 0
        for r in recs:
            m = re.search(r"to=<%s>, .*?verdict=([a-z-]+), .*?action=([a-z]+)" % re.escape(r["rcpt"]), text)
            domain = r["rcpt"].split("@")[1]
            got_code = r["code"] if r["stage"] == "rcpt" else (250 if r["wait"] is not None else r["code"])
            if not m:
                bad.append((r["rcpt"], "no decision logged"))
                continue
            verdict, action = m.group(1), m.group(2)
            fallback += verdict == "temporary"
            if verdict != self.verdicts.get(domain) and verdict != "temporary":
                bad.append((r["rcpt"], verdict, "want %s" % self.verdicts.get(domain)))
            elif got_code != ACTION_CODE.get(action):
                bad.append((r["rcpt"], action, got_code, r.get("reply")))
        self.emit(recs and not bad, "%s: each RCPT got its domain's verdict, or the configured fallback (%d), "
                  "and the reply of its action" % (phase, fallback), repr(bad[:10]))
        # The RCPT bound (see the docstring).
        waits = [r["wait"] for r in recs if r["wait"] is not None]
        text = self.logtext()
        delays = {}
        for r in recs:
            m = re.search(r"to=<%s>.*?, delay=(\d+)ms" % re.escape(r["rcpt"]), text)
            if m and r["wait"] is not None:
                delays[r["rcpt"]] = int(m.group(1))
        slow = sorted((ms, rc) for rc, ms in delays.items() if ms > (BUDGET + SLACK) * 1000)
        self.emit(len(delays) == len(waits) and waits and not slow,
                  "%s: the milter decided each RCPT within the budget + 100 ms (%d of %d decisions logged, "
                  "longest %d ms)" % (phase, len(delays), len(waits), max(delays.values()) if delays else -1),
                  repr(slow))
        late = [(r["rcpt"], round(r["wait"], 3)) for r in recs
                if r["wait"] is not None and r["wait"] > 2 * BUDGET + SLACK]
        self.emit(waits and not late, "%s: no RCPT waited past 2 x budget + 100 ms at the client "
                  "(%d RCPTs, longest %.3f s)" % (phase, len(waits), max(waits) if waits else 0), repr(late))
        over = [r for r in waits if r > BUDGET + SLACK]
        sys.stderr.write("rcpt %s: %d messages, %d of %d RCPTs past budget + 100 ms at the client, longest %.3f s\n"
                         % (phase, len(recs), len(over), len(waits), max(waits) if waits else 0))

    # -- the phases
    def failover(self):
        phase = "failover"
        pid = self.world["pids"]["redis"]
        state = {"followed": None, "killed": None}
        want = 'redis sentinels: primary "%s" is now %s:%d (was %s:%d)' % ((self.sen["master_name"],) + NEW + OLD)

        def kill():
            os.kill(pid, signal.SIGKILL)
            state["killed"] = time.monotonic()

        def followed():
            if state["followed"] is None and want in self.logtext() \
                    and "redis %s:%d: connected" % NEW in self.logtext():
                state["followed"] = time.monotonic()
            return state["followed"] is not None

        def domains():
            return AFTER_FAILOVER if followed() else BEFORE

        recs = []

        def done():
            return followed() and sum(1 for r in recs if r["rcpt"].split("@")[1] in AFTER_FAILOVER) >= TAIL
        # The sentinel the milter asked first hangs (SIGSTOP) through the failover.
        hung = self.world["pids"]["sentinel1"]
        os.kill(hung, signal.SIGSTOP)
        try:
            self.stream_into(phase, domains, {KILL_AT: kill}, done, recs)
        finally:
            os.kill(hung, signal.SIGCONT)
        text = self.logtext()
        self.emit(state["killed"], "%s: the primary %s:%d was killed (SIGKILL) under load, at message %d"
                  % ((phase,) + OLD + (KILL_AT,)))
        self.emit(re.search(r"redis %s:%d: (connection lost|unavailable)" % OLD, text),
                  "%s: the milter saw the primary go" % phase, text[-600:])
        # The hung sentinel learns the new primary from the others once it runs again.
        wait(lambda: self.named() == ["%s %d" % NEW] * 3, 20)
        named = self.named()
        self.emit(named == ["%s %d" % NEW] * 3 and "role:master" in cli(NEW, "INFO", "replication"),
                  "%s: the sentinels promoted the replica %s:%d (two of three: one hung)" % ((phase,) + NEW),
                  repr(named))
        self.emit(state["followed"] and text.count(" is now ") == 1,
                  "%s: the milter followed the promoted replica (one line: %s)" % (phase, want), text[-800:])
        n_after = sum(1 for r in recs if r["rcpt"].split("@")[1] in AFTER_FAILOVER)
        key = cli(NEW, "EXISTS", "stsfilter:d:plain.test").strip()
        self.emit(key == "1" and n_after >= TAIL, "%s: the milter writes to the new primary: stsfilter:d:plain.test "
                  "is there after %d messages to domains first seen after the follow" % (phase, n_after),
                  "EXISTS: %r" % key)
        self.account(phase, recs)
        self.emit(self.proc.poll() is None, "%s: the milter is alive" % phase)
        if state["followed"] and state["killed"]:
            sys.stderr.write("phase %s: %d messages, the milter followed %.1f s after the kill\n"
                             % (phase, len(recs), state["followed"] - state["killed"]))

    def stream_into(self, phase, domains, hooks, done, recs):
        """Messages, PARALLEL sessions at a time, into recs (visible to
        done() as they start) until done() says so, or MAX_MSGS or
        MAX_SECS. domains() gives the domains to cycle over now;
        hooks[i]() runs before message i starts."""
        lock = threading.Lock()
        state = {"next": 0}
        t_end = time.monotonic() + MAX_SECS

        def worker():
            while True:
                with lock:
                    i = state["next"]
                    if i >= MAX_MSGS or time.monotonic() > t_end or done():
                        return
                    state["next"] += 1
                    if i in hooks:
                        hooks[i]()
                    ds = domains()
                    n = sum(1 for r in recs if r["rcpt"].split("@")[1] in ds)
                    rcpt = "m%d-%s@%s" % (i, phase, ds[n % len(ds)])
                    rec = {"token": None, "rcpt": rcpt, "stage": None, "code": None, "wait": None,
                           "queued": False, "error": None}
                    recs.append(rec)
                rec.update(self.send("sentinel-%s-%d-%d" % (phase, os.getpid(), i), rcpt))
        threads = [threading.Thread(target=worker) for _ in range(PARALLEL)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return recs

    def demoted(self):
        phase = "demoted"
        d = os.path.join(self.W, "redis")
        # The old primary comes back empty; the sentinels make it a replica of the new one.
        subprocess.run(["redis-server", "--bind", OLD[0], "--port", str(OLD[1]), "--save", "", "--appendonly", "no",
                        "--dir", d, "--dbfilename", "back.rdb", "--daemonize", "yes", "--replica-announce-ip", OLD[0],
                        "--logfile", os.path.join(d, "back.log")], check=True)
        synced = wait(lambda: "master_host:%s" % NEW[0] in cli(OLD, "INFO", "replication")
                      and "master_link_status:up" in cli(OLD, "INFO", "replication"), 40)
        self.emit(synced, "%s: the old primary, back, is a replica of %s:%d in sync" % ((phase,) + NEW),
                  cli(OLD, "INFO", "replication"))
        # Every sentinel must count it as a replica that can be promoted.

        def known():
            for s in self.sentinels():
                out = cli(s, "SENTINEL", "replicas", self.sen["master_name"])
                if OLD[0] not in out or "s_down" in out:
                    return False
            return True
        wait(known, 30)
        out = cli(self.sentinels()[0], "SENTINEL", "FAILOVER", self.sen["master_name"]).strip()
        promoted = wait(lambda: self.named() == ["%s %d" % OLD] * 3, 30)
        # The sentinels make the old one a replica some seconds later (+convert-to-slave).
        demoted = wait(lambda: "role:slave" in cli(NEW, "INFO", "replication"), 30)
        self.emit(promoted, "%s: SENTINEL FAILOVER promoted %s:%d; %s:%d stays up (%s)"
                  % ((phase,) + OLD + NEW + ("a replica" if demoted else "not yet a replica",)),
                  "%s %r" % (out, self.named()))
        want = 'redis sentinels: primary "%s" is now %s:%d (was %s:%d)' % ((self.sen["master_name"],) + OLD + NEW)
        state = {"followed": False}

        def followed():
            if not state["followed"]:
                state["followed"] = want in self.logtext() and "redis %s:%d: connected" % OLD in \
                    self.logtext().split(want, 1)[1]
            return state["followed"]

        def done():
            return followed() and sum(1 for r in recs if r["rcpt"].split("@")[1] in AFTER_DEMOTION) >= TAIL
        recs = []
        # The domains seen so far (their records expire within 1 s) until it follows, then new ones.
        self.stream_into(phase, lambda: AFTER_DEMOTION if followed() else BEFORE, {}, done, recs)
        text = self.logtext()
        self.emit(re.search(r"redis %s:%d: connection lost" % NEW, text.split(want, 1)[0].split(" is now ", 1)[-1]),
                  "%s: the milter dropped its connection to the demoted primary (its poll of the sentinels, or "
                  "their CLIENT KILL)" % phase, text[-600:])
        self.emit(state["followed"] and text.count(" is now ") == 2,
                  "%s: the milter followed the new primary (one line: %s)" % (phase, want), text[-800:])
        keys = [k for k in ("stsfilter:d:expired.test", "stsfilter:d:cname.test")
                if cli(OLD, "EXISTS", k).strip() == "1"]
        self.emit(keys, "%s: the milter writes to the new primary %s:%d: %s" % ((phase,) + OLD + (keys,)))
        self.account(phase, recs)

    def readonly(self):
        """The primary turned into a replica behind the sentinels' back
        (REPLICAOF, which closes no connection): its next write is refused
        with READONLY, and a new connection finds that it is no primary."""
        phase = "readonly"
        cli(NEW, "REPLICAOF", "NO", "ONE")
        cli(OLD, "REPLICAOF", NEW[0], str(NEW[1]))
        recs = []
        self.stream_into(phase, lambda: BEFORE, {}, lambda: len(recs) >= 4 * TAIL, recs)
        text = self.logtext()
        self.emit(re.search(r"redis %s:%d: connection lost: READONLY: no longer the primary" % OLD, text),
                  "%s: a write refused with READONLY drops the connection (one line)" % phase, text[-600:])
        r = subprocess.run([STS, "-c", self.conf, "cache", "stats"], capture_output=True, text=True)
        self.emit(re.search(r"^state +down \(%s:%d \(primary \"%s\" from the sentinels\)\): "
                            r"not a primary \(ROLE: slave\)" % (OLD + (self.sen["master_name"],)), r.stdout, re.M),
                  "%s: a new connection to what the sentinels name checks ROLE: not a primary, a miss" % phase,
                  r.stdout + r.stderr)
        self.account(phase, recs)

    def remonitor(self, addr):
        """Every sentinel forgets the primary and watches addr instead
        (this closes no client connection of the servers).

        All of them forget before any of them watches again: a sentinel
        that still knows the old primary, with the config epoch of the
        earlier failovers, would announce it (hello messages) to one
        that already watches addr at epoch 0, and that one would take
        the old address back. The names must then hold for 2 s."""
        name = self.sen["master_name"]
        for sn in self.sentinels():
            cli(sn, "SENTINEL", "REMOVE", name)
        for sn in self.sentinels():
            cli(sn, "SENTINEL", "MONITOR", name, addr[0], str(addr[1]), str(self.sen["quorum"]))
            cli(sn, "SENTINEL", "SET", name, "down-after-milliseconds", str(self.sen["down_after_ms"]),
                "failover-timeout", str(self.sen["failover_timeout_ms"]))
        want = ["%s %d" % addr] * 3
        if not wait(lambda: self.named() == want, 10):
            return False
        until = time.monotonic() + 2
        while time.monotonic() < until:
            if self.named() != want:
                return False
            time.sleep(0.1)
        return True

    def moved(self):
        """The sentinels name another primary while the one the milter
        uses stays up and keeps taking writes (what a network partition
        looks like from the milter's side): the milter's poll of the
        sentinels moves it."""
        phase = "moved"
        name = self.sen["master_name"]
        # Two primaries: 127.0.63.79 stops replicating; the sentinels watch 127.0.63.80.
        start = len(self.logtext())
        cli(OLD, "REPLICAOF", "NO", "ONE")
        ok = self.remonitor(NEW)
        back = 'primary "%s" is now %s:%d (was %s:%d)' % ((name,) + NEW + OLD)
        ok = ok and wait(lambda: back in self.logtext()[start:]
                         and "redis %s:%d: connected" % NEW in self.logtext()[start:].split(back, 1)[1], 10)
        self.emit(ok, "%s: the milter, down since the ROLE check, reconnects to what the sentinels now name (%s:%d)"
                  % ((phase,) + NEW), self.logtext()[-600:])
        # Now they name 127.0.63.79 while 127.0.63.80, up, still takes the milter's writes.
        want = 'primary "%s" is now %s:%d (was %s:%d)' % ((name,) + OLD + NEW)
        state = {"followed": False}

        start = len(self.logtext())

        def followed():
            if not state["followed"]:
                text = self.logtext()[start:]
                if want in text and "redis %s:%d: connected" % OLD in text.split(want, 1)[1]:
                    state["followed"] = time.monotonic()
            return state["followed"]

        def done():
            # Load for 1.5 s more after the follow: the 1 s records are written again, to the new primary.
            return followed() and time.monotonic() > state["followed"] + 1.5 \
                and sum(1 for r in recs if r["wait"] is not None) >= 2 * TAIL
        recs = []
        self.emit(self.remonitor(OLD), "%s: the sentinels name %s:%d; %s:%d stays a primary"
                  % ((phase,) + OLD + NEW), repr(self.named()))
        self.stream_into(phase, lambda: BEFORE, {}, done, recs)
        text = self.logtext()[start:]
        self.emit(re.search(r"redis %s:%d: connection lost: the sentinels name another primary" % NEW, text),
                  "%s: the milter's poll of the sentinels drops the connection to %s:%d" % ((phase,) + NEW),
                  text[-600:])
        self.emit(state["followed"], "%s: the milter follows the primary the sentinels name (%s)" % (phase, want),
                  text[-600:])
        probes = cli(OLD, "--scan", "--pattern", "stsfilter:p:*").split()
        self.emit(probes, "%s: the milter writes to %s:%d (%d probe records of the last second)"
                  % ((phase,) + OLD + (len(probes),)))
        self.account(phase, recs)

    def auth(self):
        """The sentinels want a password of their own (requirepass, set
        here through ACL, the way Sentinel takes it at run time): without
        redis_sentinel_password no sentinel names the primary and the
        cache is down with each one's NOAUTH; a wrong password gets
        WRONGPASS; the right one finds the primary."""
        phase = "auth"
        for sn in self.sentinels():
            cli(sn, "ACL", "SETUSER", "default", "on", ">sentinel-secret")

        def stats(name, extra):
            path = os.path.join(self.W, "auth-%s.conf" % name)
            with open(path, "w") as fp:
                fp.write(open(self.conf).read() + extra)
            r = subprocess.run([STS, "-c", path, "cache", "stats"], capture_output=True, text=True, timeout=60)
            return r.stdout + r.stderr
        out = stats("none", "")
        err = re.search(r'error: cache: redis primary "%s" of redis_sentinels: unavailable: (.*)'
                        % self.sen["master_name"], out)
        self.emit(re.search(r"^state +down ", out, re.M) and err and err.group(1).count("NOAUTH") == 3,
                  "%s: sentinels that want a password, none set: the cache is down, each sentinel's NOAUTH said"
                  % phase, out)
        out = stats("wrong", "redis_sentinel_password = not-it\n")
        err = re.search(r'error: cache: redis primary "%s" of redis_sentinels: unavailable: (.*)'
                        % self.sen["master_name"], out)
        self.emit(re.search(r"^state +down ", out, re.M) and err and err.group(1).count("AUTH: WRONGPASS") == 3,
                  "%s: a wrong redis_sentinel_password: down, with the sentinels' WRONGPASS" % phase, out)
        out = stats("right", "redis_sentinel_password = sentinel-secret\n")
        self.emit(re.search(r"^state +connected to %s:%d " % OLD, out, re.M),
                  "%s: with redis_sentinel_password the sentinels name the primary (%s:%d)" % ((phase,) + OLD), out)

    def run(self):
        etc = self.snd["config_directory"]
        subprocess.run(["postconf", "-c", etc, "-e", "smtpd_milters = inet:127.0.0.1:%d" % PORT,
                        "milter_default_action = tempfail", "milter_command_timeout = 20s",
                        "milter_connect_macros = j {daemon_name} v {client_addr}"], check=True)
        subprocess.run(["postfix", "-c", etc, "reload"], check=True, capture_output=True)
        time.sleep(1.5)
        self.emit(self.named() == ["%s %d" % OLD] * 3, "the sentinels name %s:%d as primary \"%s\""
                  % (OLD + (self.sen["master_name"],)), repr(self.named()))
        up = self.milter_start()
        self.emit(up, "the milter is up with redis_sentinels", self.logtext()[-600:])
        if not up:
            return
        self.emit('redis sentinels: primary "%s" is %s:%d' % ((self.sen["master_name"],) + OLD) in self.logtext()
                  and "redis %s:%d: connected" % OLD in self.logtext(),
                  "the milter found the primary through the sentinels and connected", self.logtext()[-600:])
        r = subprocess.run([STS, "-c", self.conf, "check", "good.test"], capture_output=True, text=True)
        self.emit(re.search(r'cluster cache \(redis primary "%s" of redis_sentinels\): ' % self.sen["master_name"],
                            r.stdout), "stsfilter check names the cluster cache by the sentinels' primary",
                  r.stdout[-600:] + r.stderr[-300:])
        for name, fn in (("failover", self.failover), ("demoted", self.demoted), ("readonly", self.readonly),
                         ("moved", self.moved)):
            t0 = time.monotonic()
            try:
                fn()
            except Exception:
                import traceback
                self.emit(False, "%s: ran to the end" % name, traceback.format_exc())
            sys.stderr.write("phase %s: %.1f s\n" % (name, time.monotonic() - t0))
        rc = self.milter_stop()
        self.emit(rc == 0, "the milter stops cleanly", "exit status %s" % rc)
        try:
            self.auth()
        except Exception:
            import traceback
            self.emit(False, "auth: ran to the end", traceback.format_exc())


def inside():
    t = Inside()
    try:
        t.run()
    finally:
        if t.proc:
            t.milter_stop()
    print("RESULTS " + json.dumps(t.res))
    return 0


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inside":
        return inside()
    if not os.access(MILTER, os.X_OK):
        print("1..1\nnot ok 1 - %s is built" % MILTER)
        return 1
    t0 = time.monotonic()
    r = subprocess.run([RUN] + (["--keep"] if os.environ.get("STS_KEEP") else []) +
                       ["sentinel", "--", sys.executable, os.path.abspath(__file__), "--inside"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    results = None
    for line in r.stdout.splitlines():
        if line.startswith("RESULTS "):
            results = json.loads(line[8:])
    if results is None:
        print("1..1\nnot ok 1 - the sentinel world ran the failover test")
        for l in (r.stdout[-1500:] + r.stderr[-3000:]).splitlines():
            print("# " + l)
        return 1
    print("1..%d" % len(results))
    failed = 0
    for i, (ok, desc, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
        if not ok:
            failed += 1
            for l in str(diag).splitlines()[-12:]:
                print("#   " + l)
    for l in r.stderr.splitlines():
        if l.startswith(("phase ", "rcpt ")):
            print("# " + l)
    print("# total %.1f s" % (time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
