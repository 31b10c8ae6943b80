#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): every scenario's world behaves as declared, and
the runner itself keeps its promises (exit status, teardown, clear errors).

Each scenario gets a fresh world: tests/world/run SCENARIO -- tests/world/verify.
Run as root. STS_SCENARIOS (space-separated names) limits the scenarios."""

import glob
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(TOP, "tests/world/run")
VERIFY = os.path.join(TOP, "tests/world/verify")
out = []


def emit(ok, desc, diag=""):
    out.append((ok, desc, diag))


def scenarios():
    names = os.environ.get("STS_SCENARIOS")
    if names:
        return names.split()
    return sorted(os.path.splitext(os.path.basename(p))[0]
                  for p in glob.glob(os.path.join(TOP, "tests/world/scenarios/*.toml")))


def world(name, *cmd, timeout=300):
    r = subprocess.run([RUN, name, "--"] + list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


for name in scenarios():
    rc, stdout, stderr = world(name, VERIFY)
    lines = stdout.splitlines()
    n = 0
    for line in lines:
        m = re.match(r"^(ok|not ok) \d+ - (.*)$", line)
        if m:
            n += 1
            emit(m.group(1) == "ok", m.group(2))
        elif line.startswith("#") and out:
            ok, desc, diag = out[-1]
            out[-1] = (ok, desc, diag + line[1:] + "\n")
    plan = re.search(r"^1\.\.(\d+)$", stdout, re.M)
    emit(rc == 0 and plan and int(plan.group(1)) == n and n > 0,
         "[%s] world came up and verify ran all %s checks" % (name, plan.group(1) if plan else "?"),
         stderr[-600:])

# A world with a sending Postfix: mail flows end to end.
os.environ["STS_WORLD_SENDER"] = "1"
rc, stdout, stderr = world("healthy-enforce", VERIFY)
del os.environ["STS_WORLD_SENDER"]
emit(rc == 0 and "delivered over SMTP" in stdout, "[healthy-enforce + sender] mail relays through the world",
     stdout[-600:] + stderr[-300:])

# The runner's own contract.
rc, stdout, stderr = world("no-policy", "sh", "-c", "exit 7")
emit(rc == 7, "run exits with the command's status", "got %d" % rc)
rc, stdout, stderr = world("no-policy", "sh", "-c", "echo $STS_WORLD; (sleep 300 &) ; exit 0")
top = stdout.strip()
emit(rc == 0 and top and not os.path.exists(top), "run removes the world directory after success", top)
ps = subprocess.run(["pgrep", "-f", "sleep 300"], stdout=subprocess.PIPE, text=True).stdout.strip()
emit(ps == "", "run leaves no process behind (the PID namespace dies with the runner)", ps)
rc, stdout, stderr = world("no-policy", "sh", "-c", "ip -4 addr show lo; ip route get 192.0.2.1 2>&1")
emit("unreachable" in stdout and "127.0.0.1" in stdout, "the world's network has only loopback", stdout)
host_qlen = open("/proc/sys/net/unix/max_dgram_qlen").read().strip()
rc, stdout, stderr = world("no-policy", "sh", "-c", "cat /proc/sys/net/unix/max_dgram_qlen")
emit(rc == 0 and stdout.strip() == "512" and open("/proc/sys/net/unix/max_dgram_qlen").read().strip() == host_qlen,
     "the world's namespace queues 512 unix datagrams (Postfix logs through one), the host's setting untouched",
     "world %r, host %r before, %r after" % (stdout.strip(), host_qlen, open("/proc/sys/net/unix/max_dgram_qlen").read().strip()))
rc, stdout, stderr = world("does-not-exist", "true")
emit(rc == 3 and "no such scenario: does-not-exist" in stderr, "an unknown scenario gets a clear error", stderr)
bad = "/tmp/sts-bad-scenario.toml"
with open(bad, "w") as fp:
    fp.write('[[mx]]\nname = "mx.bad.test"\ncert = "purple"\n')
rc, stdout, stderr = world(bad, "true")
emit(rc == 3 and "cert must be one of" in stderr and "mx[0]" in stderr,
     "a bad scenario file gets an error naming the entry and key", stderr)
os.unlink(bad)

print("1..%d" % len(out))
for i, (ok, desc, diag) in enumerate(out, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    if not ok:
        for line in diag.strip().splitlines()[-10:]:
            print("#   " + line)
