#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): OpenDKIM's miltertest drives stsfilter-milter
directly, without an MTA, through the scripts in tests/miltertest/: the
default decisions and the tag header (decisions.lua), monitor mode
(monitor.lua) and action_temporary = defer (temporary.lua: a fetch-error
domain accepted, a SERVFAIL one deferred) in the `seeds` world, the null MX
reject (nullmx.lua) in the `null-mx` world, whose 556 5.1.10 reply is read
from the milter's log, and the recipient's domain read from the raw address
(rcpt.lua, issue 11: long local parts, SMTPUTF8, quoted local parts, source
routes, literals, unreadable domains with action_internal_error accept and
defer) in the `rcpt-syntax` world, with the log lines naming the right
domain, and the new-domain rate limit (ratelimit.lua, issue 11:
new_domain_rate = 1 lets one new domain be checked; the next new ones get
action_temporary, known ones are still checked; one log line).
Every "PASS:" line of a script is one test; an error ends the script with
one failing test.

Needs root."""

import json
import os
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
MILTER = os.path.join(BUILD, "stsfilter-milter")
RUN = os.path.join(TOP, "tests/world/run")
MT_DIR = os.path.join(TOP, "tests/miltertest")

INSIDE = r'''
import json, os, re, signal, subprocess, sys, time
MILTER, MT_DIR = sys.argv[1], sys.argv[2]
scripts = sys.argv[3:]
W = os.environ["STS_WORLD"]
base = open(os.environ["STS_WORLD_CONF"]).read()
res = []
port = 10030
for script in scripts:
    name, _, extra = script.partition(":")
    port += 1
    conf = os.path.join(W, "mt-%s.conf" % name)
    with open(conf, "w") as fp:
        fp.write(base + "\nmilter_socket = inet:%d@127.0.0.1\nuser = root\npid_file =\n"
                 "check_time_budget = 3s\nrecipient_time_budget = 3s\nprobe_connect_timeout = 2s\n"
                 "probe_read_timeout = 2s\n%s\n" % (port, extra.replace(";", "\n")))
    logp = os.path.join(W, "mt-%s.log" % name)
    log = open(logp, "w")
    proc = subprocess.Popen([MILTER, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT)
    env = dict(os.environ, MT_SOCKET="inet:%d@127.0.0.1" % port, MT_DIR=MT_DIR,
               MT_STRICT="1" if "action_internal_error = defer" in extra else "0")
    r = subprocess.run(["miltertest", "-s", os.path.join(MT_DIR, name + ".lua")], capture_output=True, errors="replace",
                       text=True, env=env, timeout=120)
    for l in r.stdout.splitlines():
        if l.startswith("PASS: "):
            res.append([True, "%s: %s" % (name, l[6:]), ""])
    if r.returncode != 0:
        res.append([False, "%s: script ran to the end" % name, r.stderr[-600:] + "\n".join(l for l in r.stdout.splitlines() if not l.startswith("PASS"))[-600:] + " rc=%d" % r.returncode])
    proc.send_signal(signal.SIGTERM)
    proc.wait(15)
    log.close()
    text = open(logp, errors="replace").read()
    if name == "decisions":
        res.append([bool(re.search(r"MT0001: client=127\.0\.0\.1, from=<alice@sender\.test>, to=<bob@notlisted\.test>, "
                                   r"domain=notlisted\.test, verdict=enforce-fail, reasons=\S+, action=defer, delay=\d+ms, "
                                   r"reply=450 4\.7\.5 ", text)),
                    "decisions: log line with the queue id, the sender (no sasl_username) and the 450 4.7.5 reply",
                    text[-600:]])
        # Issue 14: the SASL user ({auth_authen} at MAIL FROM) in the decision line.
        res.append([bool(re.search(r"NOQUEUE: client=192\.0\.2\.1, from=<alice@sender\.test>, sasl_username=alice, "
                                   r"to=<bob@plain\.test>, domain=plain\.test, verdict=enforce-fail, reasons=\S+, "
                                   r"action=defer, delay=\d+ms, reply=450 4\.7\.5 ", text)),
                    "decisions: the authenticated client's line has sasl_username=alice", text[-600:]])
    if name == "temporary":
        res.append([bool(re.search(r"client=127\.0\.0\.1, from=<alice@sender\.test>, to=<bob@fetcherr\.test>, domain=fetcherr\.test, "
                                   r"verdict=no-policy, reasons=sts-policy-fetch-error, action=accept", text))
                    and bool(re.search(r"domain=nosuch\.example, verdict=temporary, reasons=\S+, action=defer, "
                                       r"delay=\d+ms, reply=451 4\.4\.3 ", text)),
                    "temporary: fetcherr.test logged no-policy/accept, nosuch.example temporary/451 4.4.3", text[-800:]])
    if name == "nullmx":
        res.append([bool(re.search(r"domain=nullmx\.test, verdict=null-mx, reasons=\S+, action=reject, "
                                   r"delay=\d+ms, reply=556 5\.1\.10 <bob@nullmx\.test>: nullmx\.test accepts no mail", text)),
                    "nullmx: 556 5.1.10 reply (RFC 7505 section 4.3)", text[-600:]])
    if name == "rcpt" and "action_internal_error = defer" not in extra:
        res.append([bool(re.search(r"MT0002: client=127\.0\.0\.1, from=<[^>]*>, to=<a{200,}\.\.\.@xn--bcher-kva\.test>, "
                                   r"domain=xn--bcher-kva\.test, verdict=enforce-fail, .*reply=450 4\.7\.5 "
                                   r"<a+\.\.\.@xn--bcher-kva\.test>: mail to xn--bcher-kva\.test cannot be", text)),
                    "rcpt: the 300-byte local part's log line and reply name xn--bcher-kva.test", text[-1500:]])
        res.append([bool(re.search(r"to=<b+\.\.\.@notlisted\.test\.example>, domain=notlisted\.test\.example, "
                                   r"verdict=(temporary|no-policy)", text))
                    and not re.search(r"to=<b+[^>]*>, domain=notlisted\.test,", text),
                    "rcpt: the 240-byte local part's log line names notlisted.test.example, never notlisted.test",
                    "\n".join(l for l in text.splitlines() if "bbbb" in l)])
        res.append([bool(re.search(r"to=<bob@b\?\?cher\.test>, domain=xn--bcher-kva\.test, verdict=enforce-fail", text)),
                    "rcpt: bob@bücher.test is checked as xn--bcher-kva.test (shown sanitized)", text[-1500:]])
        res.append([bool(re.search(r"to=<bob@\[192\.0\.2\.1\]>, not checked: no domain \(address literal\)", text)),
                    "rcpt: the address literal is logged as not checked", text[-1500:]])
        res.append([bool(re.search(r"to=<bob@bad_domain\.test>: cannot read the recipient's domain: .*applying action_internal_error", text))
                    and bool(re.search(r"to=<bob@bad_domain\.test>, domain=unreadable, verdict=internal-error, "
                                       r"reasons=-, action=accept", text)),
                    "rcpt: the unreadable domain is logged and gets action_internal_error (accept)", text[-1500:]])
    if name == "rcpt" and "action_internal_error = defer" in extra:
        res.append([bool(re.search(r"to=<bob@bad_domain\.test>, domain=unreadable, verdict=internal-error, "
                                   r"reasons=-, action=defer, delay=\d+ms, reply=451 4\.3\.0 <bob@bad_domain\.test>: "
                                   r"the TLS route to the recipient's domain could not be checked", text)),
                    "rcpt (strict): the unreadable domain gets 451 4.3.0", text[-1500:]])
    if name == "ratelimit":
        res.append([bool(re.search(r"MT0003: client=\S+, from=<[^>]*>, to=<bob@nopolicy\.test>, domain=nopolicy\.test, verdict=no-policy", text))
                    and bool(re.search(r"MT0003: client=\S+, from=<[^>]*>, to=<carol@nopolicy\.test>, domain=nopolicy\.test, verdict=no-policy", text)),
                    "ratelimit: the first new domain and the known one are checked", text[-1500:]])
        res.append([bool(re.search(r"to=<bob@notlisted\.test>, domain=notlisted\.test, verdict=temporary, "
                                   r"reasons=not-probed, action=defer, delay=\d+ms, reply=451 4\.4\.3 .*new_domain_rate reached", text))
                    and bool(re.search(r"domain=xn--bcher-kva\.test, verdict=temporary, reasons=not-probed, action=defer", text)),
                    "ratelimit: past the limit, new domains are not checked: temporary, action_temporary (451 4.4.3)", text[-1500:]])
        res.append([len(re.findall(r"new-domain rate limit reached \(new_domain_rate = 1 a minute, new_domain_burst = 1\): "
                                   r"1 check\(s\) of new domains not started", text)) == 1
                    and text.count("new-domain rate limit reached") == 1,
                    "ratelimit: the limit is logged once (at most once a minute)", text[-1500:]])
    res.append([proc.returncode == 0, "%s: milter stopped cleanly" % name, "rc %s" % proc.returncode])
print("RESULTS " + json.dumps(res))
'''

results = []
for world, scripts in (("seeds", ["decisions", "monitor:monitor_mode = yes", "temporary:action_temporary = defer"]),
                       ("null-mx", ["nullmx"]),
                       ("rcpt-syntax", ["ratelimit:new_domain_rate = 1;new_domain_burst = 1;action_temporary = defer",
                                        "rcpt", "rcpt:action_internal_error = defer"])):
    r = subprocess.run([RUN, world, "--", sys.executable, "-c", INSIDE, MILTER, MT_DIR] + scripts,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace", timeout=600)
    got = None
    for line in r.stdout.splitlines():
        if line.startswith("RESULTS "):
            got = json.loads(line[8:])
    if got is None:
        got = [[False, "[%s] the world ran miltertest" % world, r.stdout[-1000:] + r.stderr[-1000:]]]
    results += got
print("1..%d" % len(results))
failed = 0
for i, (ok, desc, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    if not ok:
        failed += 1
        for l in str(diag).splitlines()[-12:]:
            print("#   " + l)
sys.exit(1 if failed else 0)
