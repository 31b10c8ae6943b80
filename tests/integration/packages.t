#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): the release and the packages, as a packager and
an admin meet them.

  0. make install (DESTDIR) puts the daemons in sbin, the sample as the
     configuration file (kept on a second install once changed), units,
     sysusers.d and tmpfiles.d files, and manual pages that name the
     configuration file the programs use.
  1. make distcheck passes; its tarball is the release.
  2. packaging/build-packages builds the .debs (dpkg-buildpackage -us -uc)
     and the .rpms (rpmbuild -ba) from it; lintian reports no error and no
     warning (overrides: packaging/debian/*.lintian-overrides), rpmlint no
     error (filters: packaging/rpm/stsfilter.rpmlintrc).
  3. The units: systemd-analyze security rates each 2.0 or lower and
     systemd-analyze verify is silent (both recorded in the test names).
  4. The .debs are installed on this machine: the stsfilter user, the
     state and runtime directories, the conffile equal to
     "stsfilter config --sample".
  5. Inside the seeds world, the milter and policyd are started exactly as
     their units do: under systemd when it is PID 1 (systemctl start, with
     a drop-in that only moves the unit into the world's network
     namespace), otherwise by the units' ExecStart= lines as the units'
     User=/Group=, with the units' RuntimeDirectory=/StateDirectory=/UMask=
     and a NOTIFY_SOCKET that must receive READY=1 (Type=notify). One RCPT
     decision through the milter with miltertest (tests/miltertest/
     packages.lua), one socketmap lookup with postmap -q, a reload
     (RELOADING=1, READY=1), a stop (STOPPING=1, exit 0).
  6. The packages are purged: nothing of theirs is left on the machine
     (files, /etc/stsfilter, /var/lib/stsfilter, /run/stsfilter, dpkg
     state); the stsfilter user stays, as Debian keeps system users.

The world's settings (resolver, trust anchors, CA) are added to the
conffile the way an admin edits it; the CA and anchor files are copied to
/etc/stsfilter (the units' PrivateTmp= hides the world's folder) and
removed before the purge. Needs root; installs and purges packages named
stsfilter* on this machine."""

import glob
import json
import os
import pwd
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
RUN = os.path.join(TOP, "tests/world/run")
PKGS = ["stsfilter-smtpd", "stsfilter-policyd", "stsfilter-milter", "stsfilter"]
UNITS = ["stsfilter-milter", "stsfilter-policyd"]
UNIT_DIR = "/lib/systemd/system"

results = []


def emit(ok, desc, diag=""):
    results.append((bool(ok), desc, diag))


def run(cmd, timeout=600, **kw):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(cmd, 124, e.stdout or "", "timeout after %ds" % timeout)


def tail(r, n=1500):
    return ((r.stdout or "")[-n:] + "\n" + (r.stderr or "")[-n:]).strip()


def purge():
    return run(["dpkg", "--purge"] + PKGS, timeout=300)


def finish():
    print("1..%d" % len(results))
    failed = 0
    for i, (ok, desc, diag) in enumerate(results, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
        if not ok:
            failed += 1
            for line in str(diag).splitlines()[-25:]:
                print("#   " + line)
    sys.exit(1 if failed else 0)


# The inside of the world: configure, start as the units do, decide, stop.
INSIDE = r'''
import json, os, pwd, re, shlex, socket, subprocess, sys, time
MT_DIR, MODE, TOKEN = sys.argv[1], sys.argv[2], sys.argv[3]
UNITS = ["stsfilter-milter", "stsfilter-policyd"]
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, str(diag)[-1500:]])

# The admin's edit: the world's resolver, anchors and CA; the socketmap on.
for src, dst in ((os.environ["STS_WORLD_ANCHORS"], "/etc/stsfilter/test-anchors"),
                 (os.environ["STS_WORLD_CA"], "/etc/stsfilter/test-ca.pem")):
    with open(src) as i, open(dst, "w") as o:
        o.write(i.read())
    os.chmod(dst, 0o644)
lines = []
for l in open(os.environ["STS_WORLD_CONF"]):
    if l.startswith(("dns_forwarders", "dns_resolver_options", "allow_private_addresses")):
        lines.append(l)
lines += ["dns_trust_anchor_file = /etc/stsfilter/test-anchors\n",
          "tls_ca_file = /etc/stsfilter/test-ca.pem\n",
          "socketmap_socket = unix:/run/stsfilter/policyd.sock\n",
          "check_time_budget = 5s\n", "recipient_time_budget = 5s\n"]
with open("/etc/stsfilter/stsfilter.conf", "a") as fp:
    fp.write("\n# packages.t\n" + "".join(lines))

def unit(name):
    d = {}
    sect = None
    for l in open("/lib/systemd/system/%s.service" % name):
        l = l.strip()
        if l.startswith("["):
            sect = l
        elif "=" in l and not l.startswith("#") and sect == "[Service]":
            k, v = l.split("=", 1)
            d[k] = v
    return d

def notify_wait(sock, want, deadline):
    got = []
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        sock.settimeout(max(0.1, end - time.monotonic()))
        try:
            msg = sock.recv(4096).decode()
        except socket.timeout:
            break
        got.append(msg)
        if want in msg.split("\n"):
            return True, got
    return False, got

procs = {}
socks = {}
if MODE == "exec":
    for name in UNITS:
        u = unit(name)
        pw = pwd.getpwnam(u["User"])
        for key, base in (("RuntimeDirectory", "/run"), ("StateDirectory", "/var/lib")):
            path = os.path.join(base, u[key])
            os.makedirs(path, exist_ok=True)
            os.chmod(path, int(u.get(key + "Mode", "0755"), 8))
            os.chown(path, pw.pw_uid, pw.pw_gid)
        ns = "/run/packages-t-%s.notify" % name
        if os.path.exists(ns):
            os.unlink(ns)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(ns)
        os.chmod(ns, 0o666)
        socks[name] = s
        argv = ["setpriv", "--reuid", u["User"], "--regid", u["Group"], "--init-groups",
                "--no-new-privs", "--bounding-set", "-all", "--inh-caps", "-all"] + shlex.split(u["ExecStart"])
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "NOTIFY_SOCKET": ns, "LANG": "C"}
        log = open(os.path.join(os.environ["STS_WORLD"], "logs", name + ".pkg.log"), "w")
        old = os.umask(int(u.get("UMask", "0022"), 8))
        procs[name] = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        os.umask(old)
        ok, got = notify_wait(s, "READY=1", 60)
        emit(ok and procs[name].poll() is None, "%s: started by ExecStart= as %s, READY=1 on NOTIFY_SOCKET" % (name, u["User"]),
             "notify %r; %s" % (got, open(log.name).read()))
        st = open("/proc/%d/status" % procs[name].pid).read()
        uid = re.search(r"^Uid:\s+(\d+)", st, re.M).group(1)
        emit(int(uid) == pw.pw_uid, "%s runs as uid %d (%s)" % (name, pw.pw_uid, u["User"]), st[:300])
else:
    # systemd: the outer test puts the units into this network namespace.
    print("NETNS-READY %s" % TOKEN, flush=True)
    go = "/run/packages-t-%s.go" % TOKEN
    end = time.monotonic() + 300
    while not os.path.exists(go) and time.monotonic() < end:
        time.sleep(0.2)
    emit(os.path.exists(go) and open(go).read().strip() == "started",
         "systemctl start %s (Type=notify: returns after READY=1)" % " ".join(UNITS),
         open(go).read() if os.path.exists(go) else "no answer from the outer test")

# One RCPT decision through the milter.
env = dict(os.environ, MT_SOCKET="unix:/run/stsfilter/milter.sock", MT_DIR=MT_DIR)
r = subprocess.run(["miltertest", "-s", os.path.join(MT_DIR, "packages.lua")], capture_output=True, text=True,
                   env=env, timeout=120)
passes = [l[6:] for l in r.stdout.splitlines() if l.startswith("PASS: ")]
emit(r.returncode == 0 and any("notlisted.test" in p for p in passes),
     "miltertest: RCPT bob@notlisted.test deferred by the packaged milter (%d checks)" % len(passes),
     r.stdout[-800:] + r.stderr[-800:])

# One socketmap lookup.
etc = os.path.join(os.environ["STS_WORLD"], "postmap-etc")
os.makedirs(etc, exist_ok=True)
open(os.path.join(etc, "main.cf"), "w").close()
r = subprocess.run(["postmap", "-c", etc, "-q", "good.test", "socketmap:unix:/run/stsfilter/policyd.sock:postfix"],
                   capture_output=True, text=True, timeout=120)
emit(r.returncode == 0 and r.stdout.startswith("secure match="),
     "postmap -q good.test through the packaged policyd: %s" % r.stdout.strip(), r.stderr)

if MODE == "exec":
    for name in UNITS:
        procs[name].send_signal(1)
        ok1, got1 = notify_wait(socks[name], "RELOADING=1", 60)
        ok2, got2 = notify_wait(socks[name], "READY=1", 60)
        emit(ok1 and ok2 and procs[name].poll() is None, "%s: SIGHUP (ExecReload=) gives RELOADING=1 then READY=1" % name,
             "%r %r" % (got1, got2))
    for name in UNITS:
        procs[name].send_signal(15)
        ok, got = notify_wait(socks[name], "STOPPING=1", 60)
        try:
            rc = procs[name].wait(60)
        except subprocess.TimeoutExpired:
            procs[name].kill()
            rc = "timeout"
        emit(ok and rc == 0, "%s: SIGTERM gives STOPPING=1 and exit 0" % name, "rc %s notify %r" % (rc, got))
        socks[name].close()
        os.unlink("/run/packages-t-%s.notify" % name)
print("RESULTS " + json.dumps(res), flush=True)
'''


def systemd_pid1():
    try:
        return os.readlink("/proc/1/exe").endswith("/systemd")
    except OSError:
        return False


def systemd_world(token, proc):
    """PID 1 is systemd: when the world is ready, move both units into its
    network namespace with a runtime drop-in and start them."""
    # A process of the world's: its command line has the token (so has
    # tests/world/run's, out here) and its network namespace is not ours.
    pid = None
    ours = os.readlink("/proc/self/ns/net")
    for p in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            if token.encode() in open(p, "rb").read() \
                    and os.readlink(p.replace("cmdline", "ns/net")) != ours:
                pid = int(p.split("/")[2])
        except OSError:
            pass
    if pid is None:
        with open("/run/packages-t-%s.go" % token, "w") as fp:
            fp.write("failed: no process of the world found\n")
        return []
    msgs = []
    for name in UNITS:
        d = "/run/systemd/system/%s.service.d" % name
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "packages-t.conf"), "w") as fp:
            fp.write("[Service]\nNetworkNamespacePath=/proc/%d/ns/net\n" % pid)
    run(["systemctl", "daemon-reload"])
    r = run(["systemctl", "start"] + UNITS, timeout=120)
    state = "started" if r.returncode == 0 else "failed: " + tail(r)
    with open("/run/packages-t-%s.go" % token, "w") as fp:
        fp.write(state + "\n")
    return msgs


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root")
        return
    purge()                                  # leftovers of an earlier run
    work = tempfile.mkdtemp(prefix="stsfilter-packages-")

    # 0. make install into a staging directory, twice: the sample becomes
    # stsfilter.conf once and never replaces an admin's file; the installed
    # manual pages name the file the programs use.
    stage = os.path.join(work, "stage")
    r = run(["make", "-C", BUILD, "install", "DESTDIR=" + stage], timeout=900)
    h = run([os.path.join(BUILD, "stsfilter-milter"), "--help"])
    m = re.search(r"default (\S+)\)", h.stdout)
    conf = m.group(1) if m else "?"
    sbin = glob.glob(stage + "/**/sbin/stsfilter-milter", recursive=True)
    units = glob.glob(stage + "/**/systemd/system/stsfilter-*.service", recursive=True)
    extra = glob.glob(stage + "/**/sysusers.d/stsfilter.conf", recursive=True) + \
        glob.glob(stage + "/**/tmpfiles.d/stsfilter.conf", recursive=True)
    staged = stage + conf
    sample = run([os.path.join(BUILD, "stsfilter"), "config", "--sample"]).stdout
    emit(r.returncode == 0 and len(sbin) == 1 and len(units) == 2 and len(extra) == 2
         and os.path.isfile(staged) and open(staged).read() == sample,
         "make install: daemons in sbin, %s from the sample, 2 units, sysusers.d, tmpfiles.d" % conf, tail(r))
    man8 = glob.glob(stage + "/**/man8/stsfilter-milter.8", recursive=True)
    emit(man8 and ("%s" % conf) in open(man8[0]).read(),
         "installed stsfilter-milter(8) names %s" % conf, str(man8))
    if os.path.isfile(staged):
        with open(staged, "a") as fp:
            fp.write("dns_timeout = 7s\n")
    r = run(["make", "-C", BUILD, "install", "DESTDIR=" + stage], timeout=900)
    emit(r.returncode == 0 and os.path.isfile(staged) and open(staged).read().endswith("dns_timeout = 7s\n"),
         "make install again keeps the changed %s" % conf, tail(r))
    shutil.rmtree(stage, ignore_errors=True)

    # 1. The release.
    for old in glob.glob(os.path.join(BUILD, "stsfilter-*.tar.gz")):
        os.unlink(old)
    r = run(["make", "-C", BUILD, "distcheck"], timeout=2400)
    tarballs = glob.glob(os.path.join(BUILD, "stsfilter-*.tar.gz"))
    emit(r.returncode == 0 and len(tarballs) == 1, "make distcheck passes", tail(r))
    if not tarballs:
        return finish()
    tarball = os.path.join(work, os.path.basename(tarballs[0]))
    shutil.move(tarballs[0], tarball)
    out = os.path.join(work, "out")

    # 2. Packages and their linters.
    build = os.path.join(TOP, "packaging/build-packages")
    r = run([build, tarball, out, "deb"], timeout=2400)
    debs = sorted(glob.glob(os.path.join(out, "deb", "*.deb")))
    debs = [d for d in debs if "-dbgsym_" not in d]
    emit(r.returncode == 0 and len(debs) == 4, "dpkg-buildpackage -us -uc: %s" % " ".join(os.path.basename(d) for d in debs),
         tail(r))
    r = run([build, tarball, out, "rpm"], timeout=2400)
    rpms = sorted(glob.glob(os.path.join(out, "rpmbuild", "RPMS", "*", "*.rpm")))
    srpms = glob.glob(os.path.join(out, "rpmbuild", "SRPMS", "*.rpm"))
    emit(r.returncode == 0 and len(rpms) >= 4 and len(srpms) == 1,
         "rpmbuild -ba --nodeps: %s" % " ".join(os.path.basename(p) for p in rpms + srpms), tail(r))

    changes = glob.glob(os.path.join(out, "deb", "*.changes"))
    if changes:
        r = run(["lintian", "--fail-on", "none", changes[0]], timeout=900)
        bad = [l for l in r.stdout.splitlines() if re.match(r"^[EW]: ", l)]
        ov = sum(1 for f in glob.glob(os.path.join(TOP, "packaging/debian/*.lintian-overrides"))
                 for l in open(f) if l.strip() and not l.startswith("#"))
        emit(r.returncode == 0 and not bad, "lintian: no errors, no warnings (%d override with its reason)" % ov,
             "\n".join(bad) + r.stderr[-500:])
    else:
        emit(False, "lintian: no .changes file")
    if rpms:
        r = run(["rpmlint", "-r", os.path.join(TOP, "packaging/rpm/stsfilter.rpmlintrc")] + rpms + srpms, timeout=600)
        m = re.search(r"(\d+) errors, (\d+) warnings", r.stdout)
        emit(m is not None and m.group(1) == "0",
             "rpmlint: %s" % (m.group(0) if m else "no summary"),
             "\n".join(l for l in r.stdout.splitlines() if ": E: " in l) or tail(r))
    else:
        emit(False, "rpmlint: no packages")

    # 3, 4. Install, then look at what the packages made.
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = run(["dpkg", "-i"] + debs, timeout=600, env=env)
    emit(r.returncode == 0, "dpkg -i the four packages", tail(r))
    if r.returncode != 0:
        purge()
        return finish()
    try:
        pw = pwd.getpwnam("stsfilter")
        emit(pw.pw_uid < 1000 and pw.pw_dir == "/var/lib/stsfilter" and "nologin" in pw.pw_shell,
             "user stsfilter: system uid %d, home /var/lib/stsfilter, no login" % pw.pw_uid, str(pw))
    except KeyError:
        pw = None
        emit(False, "user stsfilter exists")
    st = os.stat("/var/lib/stsfilter") if os.path.isdir("/var/lib/stsfilter") else None
    emit(st is not None and pw is not None and st.st_uid == pw.pw_uid and stat.S_IMODE(st.st_mode) == 0o750,
         "/var/lib/stsfilter: stsfilter, 0750 (tmpfiles.d)", str(st))
    r = run(["dpkg-query", "-W", "-f", "${Conffiles}", "stsfilter"])
    sample = run(["/usr/bin/stsfilter", "config", "--sample"]).stdout
    emit("/etc/stsfilter/stsfilter.conf" in r.stdout and sample
         and open("/etc/stsfilter/stsfilter.conf").read() == sample,
         "/etc/stsfilter/stsfilter.conf is a conffile equal to stsfilter config --sample", r.stdout)
    for name in ("stsfilter-milter", "stsfilter-policyd", "stsfilter-smtpd"):
        h = run(["/usr/sbin/" + name, "--help"])
        emit(h.returncode == 0 and "default /etc/stsfilter/stsfilter.conf" in h.stdout,
             "/usr/sbin/%s --help: default file /etc/stsfilter/stsfilter.conf" % name, tail(h))

    for name in UNITS:
        path = os.path.join(UNIT_DIR, name + ".service")
        r = run(["systemd-analyze", "security", "--offline=yes", "--no-pager", path])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        level = float(m.group(1)) if m else 99.0
        emit(m is not None and level <= 2.0, "systemd-analyze security %s: exposure %s (at most 2.0)"
             % (name, m.group(1) if m else "?"), tail(r))
        r = run(["systemd-analyze", "verify", path])
        emit(r.returncode == 0 and not (r.stdout + r.stderr).strip(), "systemd-analyze verify %s: clean" % name, tail(r))

    # 5. Inside the world.
    mode = "systemd" if systemd_pid1() else "exec"
    token = "packages-t-%d-%d" % (os.getpid(), int(time.time()))
    proc = subprocess.Popen([RUN, "seeds", "--", sys.executable, "-c", INSIDE, os.path.join(TOP, "tests/miltertest"),
                             mode, token], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    got = None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("NETNS-READY ") and mode == "systemd":
            systemd_world(token, proc)
        if line.startswith("RESULTS "):
            got = json.loads(line[8:])
    err = proc.stderr.read()
    proc.wait()
    if mode == "systemd":
        for name in UNITS:
            r = run(["systemctl", "reload", name], timeout=120)
            emit(r.returncode == 0 and run(["systemctl", "is-active", name]).stdout.strip() == "active",
                 "systemctl reload %s: still active" % name, tail(r))
            r = run(["systemctl", "stop", name], timeout=120)
            res = run(["systemctl", "show", "-p", "Result", "--value", name]).stdout.strip()
            emit(r.returncode == 0 and res == "success", "systemctl stop %s: result %s" % (name, res), tail(r))
            shutil.rmtree("/run/systemd/system/%s.service.d" % name, ignore_errors=True)
        run(["systemctl", "daemon-reload"])
        for f in glob.glob("/run/packages-t-*.go"):
            os.unlink(f)
    if got is None:
        got = [[False, "[seeds] the world ran the packaged daemons", "".join(lines)[-1500:] + err[-1500:]]]
    for ok, desc, diag in got:
        emit(ok, desc, diag)

    # 6. Purge.
    files = []
    for d in debs:
        for l in run(["dpkg-deb", "-c", d]).stdout.splitlines():
            p = l.split(None, 5)[5].split(" -> ")[0].lstrip(".")
            if not l.startswith("d"):
                files.append(p)
    for f in ("/etc/stsfilter/test-anchors", "/etc/stsfilter/test-ca.pem"):
        if os.path.exists(f):
            os.unlink(f)
    r = purge()
    left = [f for f in files + ["/etc/stsfilter", "/var/lib/stsfilter", "/run/stsfilter",
                                "/usr/share/doc/stsfilter"] if os.path.lexists(f)]
    status = run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev} ${Package}\n"] + PKGS).stdout.split("\n")
    status = [s for s in status if s.strip() and not s.startswith("un ")]
    emit(r.returncode == 0 and not left and not status,
         "dpkg --purge leaves none of %d files, no directory, no dpkg state" % len(files),
         "left: %r; dpkg: %r; %s" % (left, status, tail(r)))
    emit(run(["getent", "passwd", "stsfilter"]).returncode == 0, "the stsfilter user stays after purge (Debian keeps system users)")
    shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
