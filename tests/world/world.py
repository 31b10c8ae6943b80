#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""tests/world: a hermetic stand-in for the Internet, made of real servers.

Usage (as root):
    tests/world/run [--keep] SCENARIO -- COMMAND [ARG...]

SCENARIO is a file in tests/world/scenarios/ (name with or without .toml) or
a path. The runner creates private network, PID and mount namespaces, brings
up Knot DNS, nginx, Postfix (MX hosts), tarpits and, if asked, Redis, runs
COMMAND inside the namespaces with STS_WORLD_* set, tears everything down
(the kernel kills whatever is left when the namespace's init exits) and exits
with COMMAND's status. The file format is documented in tests/world/README.md.

Only the Python standard library and Debian's server packages are used.
"""

import concurrent.futures
import hashlib
import ipaddress
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO_DIR = os.path.join(HERE, "scenarios")

DNS_ADDR = "127.0.53.1"
REDIS_ADDR = "127.0.63.79"
SENDER_ADDR = "127.0.0.25"
OPENSMTPD_ADDR = "127.0.0.26"
# Debian's opensmtpd package, unpacked by tools/setup (it conflicts with postfix).
OPENSMTPD_ROOT = "/var/tmp/stsfilter-opensmtpd/root"
SENDMAIL_ADDR = "127.0.0.27"
# Debian's sendmail-bin, sendmail-base and sendmail-cf, unpacked by tools/setup
# (sendmail-bin conflicts with postfix).
SENDMAIL_ROOT = "/var/tmp/stsfilter-sendmail/root"
REDIS_PORT = 6379
# net.unix.max_dgram_qlen in the world's network namespace (default 10 there).
UNIX_DGRAM_QLEN = 512
# Redis Sentinel (scenario key sentinel): a replica of the primary above and
# three sentinels (quorum 2) that watch them under SENTINEL_MASTER.
REDIS_REPLICA_ADDR = "127.0.63.80"
SENTINEL_ADDRS = ("127.0.63.91", "127.0.63.92", "127.0.63.93")
SENTINEL_PORT = 26379
SENTINEL_MASTER = "stsworld"
SENTINEL_QUORUM = 2
SENTINEL_DOWN_AFTER_MS = 1000
SENTINEL_FAILOVER_TIMEOUT_MS = 3000
HOST_NET = ipaddress.ip_network("127.1.0.0/16")

CERT_PROFILES = ("valid", "expired", "notyet", "wrongname", "selfsigned",
                 "untrusted", "nointermediate", "wildcard", "cn-only")
DNSSEC_MODES = ("unsigned", "signed", "bogus-ds", "bogus-sig")
# RR types whose RDATA a bogus-sig zone can alter after signing (_tamper_rdata).
TAMPER_TYPES = ("A", "AAAA", "CNAME", "MX", "TLSA", "TXT")
POLICY_BEHAVIOURS = ("serve", "stall", "refuse")
MX_BEHAVIOURS = ("smtp", "tarpit", "refuse")
VERDICTS = ("no-policy", "none", "ok", "testing-fail", "enforce-fail",
            "temporary", "null-mx")


class ScenarioError(Exception):
    """A scenario file that does not follow tests/world/README.md."""


def log(msg):
    print("world: %s" % msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Scenario loading and validation

def _get(table, key, types, default=None, where=""):
    val = table.get(key, default)
    if val is not None and not isinstance(val, types):
        raise ScenarioError("%s: %s has the wrong type (%s)" % (where, key, type(val).__name__))
    return val


def _check_keys(table, allowed, where):
    for key in table:
        if key not in allowed:
            raise ScenarioError("%s: unknown key %r (allowed: %s)" % (where, key, ", ".join(sorted(allowed))))


def _fqdn(name):
    return name.rstrip(".").lower()


def scenario_path(name):
    if os.path.sep in name or name.endswith(".toml") and os.path.exists(name):
        return name
    path = os.path.join(SCENARIO_DIR, name if name.endswith(".toml") else name + ".toml")
    if not os.path.exists(path):
        raise ScenarioError("no such scenario: %s" % name)
    return path


def load_scenario(path, depth=0):
    """Read and validate one scenario file; return a normalized dict."""
    with open(path, "rb") as fp:
        try:
            raw = tomllib.load(fp)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError("%s: %s" % (path, exc)) from None
    where = os.path.basename(path)
    _check_keys(raw, {"description", "seed", "redis", "sentinel", "sender", "opensmtpd", "sendmail", "include", "zone",
                      "policy_host", "mx", "expect"}, where)
    sc = {
        "name": os.path.splitext(os.path.basename(path))[0],
        "path": os.path.abspath(path),
        "description": _get(raw, "description", str, "", where),
        "seed": _get(raw, "seed", str, "", where),
        "redis": _get(raw, "redis", bool, False, where),
        "sentinel": _get(raw, "sentinel", bool, False, where),
        "sender": _get(raw, "sender", bool, False, where),
        "opensmtpd": _get(raw, "opensmtpd", bool, False, where),
        "sendmail": _get(raw, "sendmail", bool, False, where),
        "zones": [], "policy_hosts": [], "mx": [], "tarpits": [], "expect": [],
    }
    for i, z in enumerate(raw.get("zone", [])):
        w = "%s: zone[%d]" % (where, i)
        _check_keys(z, {"name", "dnssec", "ttl", "records", "tamper"}, w)
        name = _get(z, "name", str, None, w)
        if not name:
            raise ScenarioError("%s: name is required" % w)
        dnssec = _get(z, "dnssec", str, "unsigned", w)
        if dnssec not in DNSSEC_MODES:
            raise ScenarioError("%s: dnssec must be one of %s" % (w, ", ".join(DNSSEC_MODES)))
        records = _get(z, "records", list, [], w)
        for r in records:
            if not isinstance(r, str) or "\n" in r:
                raise ScenarioError("%s: each record is one zone-file line (string)" % w)
        tamper = _parse_tamper(_fqdn(name), dnssec, _get(z, "tamper", list, None, w), w)
        sc["zones"].append({"name": _fqdn(name), "dnssec": dnssec,
                            "ttl": _get(z, "ttl", int, 300, w), "records": records, "tamper": tamper})
    for i, p in enumerate(raw.get("policy_host", [])):
        w = "%s: policy_host[%d]" % (where, i)
        _check_keys(p, {"domain", "name", "address", "a_record", "cert", "cert_names", "status",
                        "content_type", "policy", "body_size", "redirect", "behaviour", "rate"}, w)
        domain = _get(p, "domain", str, None, w)
        if not domain:
            raise ScenarioError("%s: domain is required" % w)
        ph = {
            "domain": _fqdn(domain),
            "name": _fqdn(_get(p, "name", str, "mta-sts." + _fqdn(domain), w)),
            "address": _get(p, "address", str, None, w),
            "a_record": _get(p, "a_record", bool, True, w),
            "cert": _get(p, "cert", str, "valid", w),
            "cert_names": _get(p, "cert_names", list, None, w),
            "status": _get(p, "status", int, 200, w),
            "content_type": _get(p, "content_type", str, "text/plain", w),
            "policy": _get(p, "policy", str, None, w),
            "body_size": _get(p, "body_size", int, None, w),
            "redirect": _get(p, "redirect", str, None, w),
            "behaviour": _get(p, "behaviour", str, "serve", w),
            "rate": _get(p, "rate", int, None, w),
        }
        if ph["cert"] not in CERT_PROFILES:
            raise ScenarioError("%s: cert must be one of %s" % (w, ", ".join(CERT_PROFILES)))
        if ph["behaviour"] not in POLICY_BEHAVIOURS:
            raise ScenarioError("%s: behaviour must be one of %s" % (w, ", ".join(POLICY_BEHAVIOURS)))
        if ph["behaviour"] == "serve" and ph["policy"] is None and ph["redirect"] is None:
            raise ScenarioError("%s: a serving policy host needs policy or redirect" % w)
        sc["policy_hosts"].append(ph)
    for i, m in enumerate(raw.get("mx", [])):
        w = "%s: mx[%d]" % (where, i)
        _check_keys(m, {"name", "address", "a_record", "cert", "cert_names", "starttls", "behaviour"}, w)
        name = _get(m, "name", str, None, w)
        if not name:
            raise ScenarioError("%s: name is required" % w)
        mx = {
            "name": _fqdn(name),
            "address": _get(m, "address", str, None, w),
            "a_record": _get(m, "a_record", bool, True, w),
            "cert": _get(m, "cert", str, "valid", w),
            "cert_names": _get(m, "cert_names", list, None, w),
            "starttls": _get(m, "starttls", bool, True, w),
            "behaviour": _get(m, "behaviour", str, "smtp", w),
        }
        if mx["cert"] not in CERT_PROFILES:
            raise ScenarioError("%s: cert must be one of %s" % (w, ", ".join(CERT_PROFILES)))
        if mx["behaviour"] not in MX_BEHAVIOURS:
            raise ScenarioError("%s: behaviour must be one of %s" % (w, ", ".join(MX_BEHAVIOURS)))
        sc["mx"].append(mx)
    for i, e in enumerate(raw.get("expect", [])):
        w = "%s: expect[%d]" % (where, i)
        _check_keys(e, {"domain", "verdict", "reasons", "warnings", "note"}, w)
        verdict = _get(e, "verdict", str, None, w)
        if verdict not in VERDICTS:
            raise ScenarioError("%s: verdict must be one of %s" % (w, ", ".join(VERDICTS)))
        sc["expect"].append({"domain": _fqdn(_get(e, "domain", str, "", w)), "verdict": verdict,
                             "reasons": _get(e, "reasons", list, [], w),
                             "warnings": _get(e, "warnings", list, [], w),
                             "note": _get(e, "note", str, "", w)})
    # include = ["other", ...]: merge other scenarios into this world.
    for inc in _get(raw, "include", list, [], where):
        if not isinstance(inc, str):
            raise ScenarioError("%s: include takes scenario names" % where)
        if depth > 4:
            raise ScenarioError("%s: includes nest too deep" % where)
        other = load_scenario(scenario_path(inc), depth + 1)
        for key in ("zones", "policy_hosts", "mx", "expect"):
            sc[key] += other[key]
        sc["redis"] = sc["redis"] or other["redis"]
        sc["sentinel"] = sc["sentinel"] or other["sentinel"]
        sc["sender"] = sc["sender"] or other["sender"]
        sc["opensmtpd"] = sc["opensmtpd"] or other["opensmtpd"]
        sc["sendmail"] = sc["sendmail"] or other["sendmail"]
    # Sentinel watches the world's Redis: it implies it.
    sc["redis"] = sc["redis"] or sc["sentinel"]
    names = [z["name"] for z in sc["zones"]]
    if len(names) != len(set(names)):
        raise ScenarioError("%s: a zone is declared twice" % where)
    _check_tamper(sc, where)
    return sc


RECORD_RE = re.compile(r"^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?(?:\d+\s+)?([A-Za-z][A-Za-z0-9]*)\s")


def _owner(owner, zone):
    """A record's owner, relative to zone ("@", "mx") or absolute ("mx.z.test."), as an FQDN."""
    if owner == "@":
        return zone
    if owner.endswith("."):
        return _fqdn(owner)
    return _fqdn(owner) + "." + zone


def _parse_tamper(zone, dnssec, tamper, w):
    """tamper = ["OWNER TYPE", ...] of a bogus-sig zone: [(fqdn, TYPE), ...]."""
    if dnssec != "bogus-sig":
        if tamper is not None:
            raise ScenarioError("%s: tamper needs dnssec = \"bogus-sig\"" % w)
        return []
    if not tamper:
        raise ScenarioError("%s: dnssec = \"bogus-sig\" needs tamper = [\"OWNER TYPE\", ...], "
                            "e.g. [\"_25._tcp.mx TLSA\"]" % w)
    out = []
    for t in tamper:
        f = t.split() if isinstance(t, str) else []
        if len(f) != 2:
            raise ScenarioError("%s: each tamper entry is \"OWNER TYPE\", e.g. \"_25._tcp.mx TLSA\" "
                                "(got %r)" % (w, t))
        owner, rtype = _owner(f[0], zone), f[1].upper()
        if rtype not in TAMPER_TYPES:
            raise ScenarioError("%s: tamper %r: the type must be one of %s" % (w, t, ", ".join(TAMPER_TYPES)))
        if owner != zone and not owner.endswith("." + zone):
            raise ScenarioError("%s: tamper %r: %s is not in the zone" % (w, t, owner))
        if (owner, rtype) in out:
            raise ScenarioError("%s: tamper %r is listed twice" % (w, t))
        out.append((owner, rtype))
    return out


def _check_tamper(sc, where):
    """Every tampered RRset is one the zone serves: a declared record or a host's A record."""
    for z in sc["zones"]:
        have = set()
        for r in z["records"]:
            m = RECORD_RE.match(r + " ")
            if m:
                have.add((_owner(m.group(1), z["name"]), m.group(2).upper()))
        for host in sc["policy_hosts"] + sc["mx"]:
            if host["a_record"] and zone_for(sc["zones"], host["name"]) is z:
                have.add((host["name"], "A"))
        for owner, rtype in z["tamper"]:
            if (owner, rtype) not in have:
                raise ScenarioError("%s: zone %s: tamper \"%s %s\" names no RRset of the zone "
                                    "(a record in records, or an A record of a host)"
                                    % (where, z["name"], owner, rtype))


# ---------------------------------------------------------------------------
# Helpers

def sh(argv, check=True, **kw):
    """Run a command; on failure raise with its output."""
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if check and res.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), res.returncode, res.stdout.strip()))
    return res.stdout


def listening(proto):
    """Set of (addr, port) sockets bound in this namespace (/proc/net/tcp|udp)."""
    out = set()
    with open("/proc/net/" + proto) as fp:
        next(fp)
        for line in fp:
            f = line.split()
            if proto == "tcp" and f[3] != "0A":
                continue
            hexaddr, hexport = f[1].split(":")
            addr = socket.inet_ntoa(bytes.fromhex(hexaddr)[::-1])
            out.add((addr, int(hexport, 16)))
    return out


def wait_for(what, cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for %s" % what)
        time.sleep(0.01)


def zone_for(zones, name):
    best = None
    for z in zones:
        if name == z["name"] or name.endswith("." + z["name"]):
            if best is None or len(z["name"]) > len(best["name"]):
                best = z
    return best


def _tamper_rdata(rtype, rdata):
    """The RDATA a bogus-sig zone serves instead of the signed one (README)."""
    rdata = rdata.strip()
    if rtype == "TLSA":
        f = rdata.split()
        data = "".join(f[3:])
        return " ".join(f[:3] + [data[:-1] + "%x" % ((int(data[-1], 16) + 1) % 16)])
    if rtype == "TXT":
        i = rdata.rfind('"')
        return rdata[:i] + "x" + rdata[i:] if i > 0 else rdata + ' "x"'
    if rtype == "MX":
        pref, host = rdata.split(None, 1)
        return "%d %s" % ((int(pref) + 1) % 65536, host)
    if rtype == "A":
        return "192.0.2.2" if rdata == "192.0.2.1" else "192.0.2.1"
    if rtype == "AAAA":
        return "2001:db8::2" if ipaddress.ip_address(rdata) == ipaddress.ip_address("2001:db8::1") else "2001:db8::1"
    if rtype == "CNAME":
        return "tampered.invalid." if rdata.lower() != "tampered.invalid." else "tampered2.invalid."
    raise ScenarioError("cannot tamper with %s records" % rtype)


# ---------------------------------------------------------------------------
# PKI: a root CA, an intermediate, a rogue CA, and one leaf per host profile

OPENSSL_CA_CONF = """
[ ca ]
default_ca = world
[ world ]
database = {db}
new_certs_dir = {dir}
serial = {serial}
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
{san}
[ inter ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
"""


class Pki:
    def __init__(self, top):
        self.dir = os.path.join(top, "pki")
        os.makedirs(self.dir)
        self.seq = 0
        self.lock = threading.Lock()

    def _key(self, name):
        path = os.path.join(self.dir, name + ".key")
        sh(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path])
        return path

    def _self_signed_ca(self, name, cn):
        key = self._key(name)
        crt = os.path.join(self.dir, name + ".pem")
        sh(["openssl", "req", "-x509", "-new", "-key", key, "-out", crt, "-days", "3650", "-subj", "/CN=" + cn,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        return key, crt

    def _sign(self, name, csr, ca_key, ca_crt, ext, san, start=None, end=None):
        with self.lock:
            self.seq += 1
            seq = self.seq
        work = os.path.join(self.dir, "ca-%d" % seq)
        os.makedirs(work)
        db = os.path.join(work, "index.txt")
        open(db, "w").close()
        serial = os.path.join(work, "serial")
        with open(serial, "w") as fp:
            fp.write("%04X\n" % (0x1000 + seq))
        conf = os.path.join(work, "ca.cnf")
        with open(conf, "w") as fp:
            fp.write(OPENSSL_CA_CONF.format(db=db, dir=work, serial=serial,
                                            san=("subjectAltName = " + san) if san else ""))
        crt = os.path.join(self.dir, name + ".crt")
        argv = ["openssl", "ca", "-batch", "-notext", "-config", conf, "-in", csr, "-out", crt,
                "-keyfile", ca_key, "-cert", ca_crt, "-extensions", ext]
        argv += ["-startdate", start] if start else []
        argv += ["-enddate", end] if end else ["-days", "825"]
        sh(argv)
        return crt

    def make_cas(self):
        self.root_key, self.root = self._self_signed_ca("root", "stsfilter world root CA")
        self.rogue_key, self.rogue = self._self_signed_ca("rogue", "stsfilter world untrusted CA")
        ikey = self._key("intermediate")
        csr = os.path.join(self.dir, "intermediate.csr")
        sh(["openssl", "req", "-new", "-key", ikey, "-out", csr, "-subj", "/CN=stsfilter world intermediate CA"])
        self.inter = self._sign("intermediate", csr, self.root_key, self.root, "inter", None)
        self.inter_key = ikey
        # The trust store the filter and the tools use: the root only.
        self.ca_file = os.path.join(self.dir, "ca.pem")
        shutil.copy(self.root, self.ca_file)

    def leaf(self, tag, host, profile, names=None):
        """Make a certificate for host with the given profile.

        Returns dict(key, chain, cert, names) where chain is what the server
        presents (leaf plus intermediate where the profile wants it)."""
        names = list(names) if names else [host]
        if profile == "wrongname":
            names = ["wrong-name.invalid"]
        elif profile == "wildcard":
            names = ["*." + host.split(".", 1)[1]]
        key = self._key(tag)
        cn = names[0]
        start = end = None
        if profile == "expired":
            start, end = "20200101000000Z", "20210101000000Z"
        elif profile == "notyet":
            start, end = "20990101000000Z", "21000101000000Z"
        san = None if profile == "cn-only" else ",".join("DNS:" + n for n in names)
        if profile == "selfsigned":
            crt = os.path.join(self.dir, tag + ".crt")
            argv = ["openssl", "req", "-x509", "-new", "-key", key, "-out", crt, "-days", "825",
                    "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:FALSE",
                    "-addext", "extendedKeyUsage=serverAuth"]
            if san:
                argv += ["-addext", "subjectAltName=" + san]
            sh(argv)
            chain_parts = [crt]
        else:
            csr = os.path.join(self.dir, tag + ".csr")
            sh(["openssl", "req", "-new", "-key", key, "-out", csr, "-subj", "/CN=" + cn])
            if profile == "untrusted":
                crt = self._sign(tag, csr, self.rogue_key, self.rogue, "leaf", san, start, end)
                chain_parts = [crt]
            else:
                crt = self._sign(tag, csr, self.inter_key, self.inter, "leaf", san, start, end)
                chain_parts = [crt] if profile == "nointermediate" else [crt, self.inter]
        chain = os.path.join(self.dir, tag + ".chain.pem")
        with open(chain, "w") as out:
            for part in chain_parts:
                with open(part) as fp:
                    out.write(fp.read())
        return {"key": key, "cert": crt, "chain": chain, "names": names, "profile": profile}

    @staticmethod
    def spki_sha256(cert):
        pub = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-pubkey"],
                             check=True, stdout=subprocess.PIPE).stdout
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                             check=True, stdout=subprocess.PIPE).stdout
        return hashlib.sha256(der).hexdigest()

    @staticmethod
    def cert_sha256(cert):
        der = subprocess.run(["openssl", "x509", "-in", cert, "-outform", "DER"],
                             check=True, stdout=subprocess.PIPE).stdout
        return hashlib.sha256(der).hexdigest()


# ---------------------------------------------------------------------------
# Tarpits: accept TCP and never speak

class Tarpit:
    def __init__(self, addr, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((addr, port))
        self.sock.listen(64)
        self.held = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)


# ---------------------------------------------------------------------------
# The world

POSTFIX_MASTER_BASE = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""


MX_MAIN = """\
virtual_mailbox_domains = {domains}
virtual_mailbox_base = {mail}
virtual_mailbox_maps = static:maildir/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
"""

SENDER_MAIN = """\
smtp_tls_security_level = may
smtp_tls_CAfile = {ca}
smtp_tls_loglevel = 1
smtp_address_preference = ipv4
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains =
bounce_queue_lifetime = 0
"""

# The sending Sendmail's sendmail.mc (tests/world/README.md): relays mail from
# 127.0.0.0/8 to the MX hosts found in the world's DNS,
# with opportunistic TLS, every file under {dir}. Tests append their
# INPUT_MAIL_FILTER lines and build their own sendmail.cf with m4.
SENDMAIL_MC = """\
divert(-1)
# Written by tests/world. Build: m4 -D_CF_DIR_=CFDIR/ CFDIR/m4/cf.m4 sendmail.mc
divert(0)dnl
OSTYPE(`linux')dnl
define(`confDOMAIN_NAME', `sendmail.world.test')dnl
define(`QUEUE_DIR', `{dir}/mqueue')dnl
define(`confPID_FILE', `{dir}/sendmail.pid')dnl
define(`STATUS_FILE', `{dir}/sendmail.st')dnl
define(`ALIAS_FILE', `{dir}/aliases')dnl
define(`HELP_FILE', `{dir}/helpfile')dnl
define(`confHOST_STATUS_DIRECTORY', `{dir}/host_status')dnl
define(`confDEAD_LETTER_DROP', `{dir}/dead.letter')dnl
define(`confSERVICE_SWITCH_FILE', `{dir}/service.switch')dnl
define(`confCW_FILE', `{dir}/local-host-names')dnl
define(`confCT_FILE', `{dir}/trusted-users')dnl
define(`confCR_FILE', `-o {dir}/relay-domains')dnl
define(`confEBINDIR', `{root}/usr/libexec/sendmail')dnl
define(`confDEF_USER_ID', `mail:mail')dnl
define(`confCACERT_PATH', `{ca_dir}')dnl
define(`confCACERT', `{ca}')dnl
define(`confDONT_PROBE_INTERFACES', `True')dnl
define(`confTO_IDENT', `0')dnl
dnl The world's folder is in /tmp (mode 1777).
define(`confDONT_BLAME_SENDMAIL', `TrustStickyBit')dnl
DAEMON_OPTIONS(`Family=inet, Name=MTA, Addr={addr}, Port=25')dnl
FEATURE(`no_default_msa')dnl
FEATURE(`nocanonify')dnl
RELAY_DOMAIN(`127')dnl
FEATURE(`accept_unresolvable_domains')dnl
FEATURE(`accept_unqualified_senders')dnl
MAILER(`smtp')dnl
"""


class World:
    def __init__(self, sc, top):
        self.sc = sc
        self.top = top
        self.procs = []
        self.tarpits = []
        self.next_host = 1
        self.want_tcp = set()  # (address, port) that must listen before tests run
        self.info = {"scenario": sc["name"], "description": sc["description"], "dir": top,
                     "dns": DNS_ADDR, "zones": [], "policy_hosts": [], "mx": [], "tarpits": [],
                     "expect": sc["expect"], "redis": None, "sentinel": None, "pids": {}}

    # -- addresses
    def alloc(self, want=None):
        if want:
            return want
        addr = str(HOST_NET.network_address + self.next_host)
        self.next_host += 1
        if addr.endswith(".0") or addr.endswith(".255"):
            return self.alloc()
        return addr

    def spawn(self, name, argv, **kw):
        logf = open(os.path.join(self.top, "logs", name + ".out"), "w")
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)
        self.procs.append((name, p))
        self.info["pids"][name] = p.pid   # as seen inside the world's PID namespace
        return p

    # -- bring-up
    def up(self):
        t0 = time.monotonic()
        os.makedirs(os.path.join(self.top, "logs"))
        sh(["ip", "link", "set", "lo", "up"])
        self._unix_dgram_qlen()
        self._resolv_conf()
        self.pki = Pki(self.top)
        self.pki.make_cas()
        self._assign_hosts()
        self._make_certs()
        self._start_dns()
        self._start_tarpits()
        self._start_https()
        self._start_smtp()
        if self.sc["redis"]:
            self._start_redis()
        if self.sc["sentinel"]:
            self._start_sentinel()
        if self.sc["sender"] or os.environ.get("STS_WORLD_SENDER"):
            self._start_sender()
        if self.sc["opensmtpd"] or os.environ.get("STS_WORLD_OPENSMTPD"):
            self._prepare_opensmtpd()
        if self.sc["sendmail"] or os.environ.get("STS_WORLD_SENDMAIL"):
            self._prepare_sendmail()
        self._wait_ready()
        if self.sc["sentinel"]:
            self._wait_sentinel()
        self._finish_dns()
        self._write_configs()
        self.info["startup_seconds"] = round(time.monotonic() - t0, 3)
        with open(os.path.join(self.top, "world.json"), "w") as fp:
            json.dump(self.info, fp, indent=2)

    def _unix_dgram_qlen(self):
        # A new network namespace starts with net.unix.max_dgram_qlen = 10.
        # Postfix logs through postlogd (and postdrop/pickup talk) over unix
        # datagram sockets: under load (smtp-source, reloads) ten queued
        # datagrams block every Postfix process in sendto(), master
        # included, and the world's Postfix wedges. This is the world's own
        # namespace's setting; the host's is untouched.
        path = "/proc/sys/net/unix/max_dgram_qlen"
        try:
            with open(path, "w") as fp:
                fp.write("%d\n" % UNIX_DGRAM_QLEN)
            with open(path) as fp:
                self.info["unix_max_dgram_qlen"] = int(fp.read())
        except (OSError, ValueError) as e:
            print("world: cannot raise %s: %s" % (path, e), file=sys.stderr)
            self.info["unix_max_dgram_qlen"] = None

    def _resolv_conf(self):
        # Tools that use the system resolver (dig without @, curl, Postfix)
        # must see the world's DNS. The mount namespace is private, so this
        # bind mount is invisible outside.
        path = os.path.join(self.top, "resolv.conf")
        with open(path, "w") as fp:
            fp.write("nameserver %s\noptions timeout:1 attempts:1\n" % DNS_ADDR)
        sh(["mount", "--bind", path, "/etc/resolv.conf"])
        hosts = os.path.join(self.top, "hosts")
        with open(hosts, "w") as fp:
            fp.write("127.0.0.1 localhost\n")
        sh(["mount", "--bind", hosts, "/etc/hosts"])

    def _assign_hosts(self):
        for ph in self.sc["policy_hosts"]:
            ph["addr"] = self.alloc(ph["address"])
        for mx in self.sc["mx"]:
            mx["addr"] = self.alloc(mx["address"])

    def _make_certs(self):
        jobs = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
            for i, ph in enumerate(self.sc["policy_hosts"]):
                if ph["behaviour"] != "refuse":
                    jobs.append((ph, ex.submit(self.pki.leaf, "https-%d" % i, ph["name"], ph["cert"], ph["cert_names"])))
            for i, mx in enumerate(self.sc["mx"]):
                if mx["behaviour"] == "smtp":
                    jobs.append((mx, ex.submit(self.pki.leaf, "mx-%d" % i, mx["name"], mx["cert"], mx["cert_names"])))
            for host, fut in jobs:
                host["tls"] = fut.result()

    # -- DNS (Knot)
    def _zone_text(self, z):
        lines = ["$ORIGIN %s." % z["name"], "$TTL %d" % z["ttl"],
                 "@ SOA ns.world.test. hostmaster.world.test. 1 3600 600 86400 300",
                 "@ NS ns.world.test."]
        lines += [self._subst(r) for r in z["records"]]
        for host in self.sc["policy_hosts"] + self.sc["mx"]:
            if not host["a_record"]:
                continue
            if zone_for(self.sc["zones"], host["name"]) is z:
                lines.append("%s. A %s" % (host["name"], host["addr"]))
        return "\n".join(lines) + "\n"

    def _subst(self, record):
        # {spki:HOST} / {cert:HOST}: SHA-256 of the host's SPKI or whole cert
        # (for TLSA 3 1 1 / 3 0 1); {spki:ca} {spki:intermediate}.
        def repl(m):
            kind, host = m.group(1), _fqdn(m.group(2))
            if host in ("ca", "root"):
                cert = self.pki.root
            elif host == "intermediate":
                cert = self.pki.inter
            else:
                cands = [h for h in self.sc["mx"] + self.sc["policy_hosts"] if h["name"] == host and "tls" in h]
                if not cands:
                    raise ScenarioError("record %r names unknown TLS host %s" % (record, host))
                cert = cands[0]["tls"]["cert"]
            return Pki.spki_sha256(cert) if kind == "spki" else Pki.cert_sha256(cert)
        return re.sub(r"\{(spki|cert):([^}]+)\}", repl, record)

    def _start_dns(self):
        d = os.path.join(self.top, "dns")
        for sub in ("zones", "db", "run"):
            os.makedirs(os.path.join(d, sub))
        conf = os.path.join(d, "knot.conf")
        zones_cf = []
        for z in self.sc["zones"]:
            if z["dnssec"] == "bogus-sig":
                self._sign_offline(z, d)
            else:
                with open(os.path.join(d, "zones", z["name"] + ".zone"), "w") as fp:
                    fp.write(self._zone_text(z))
            entry = "  - domain: %s\n" % z["name"]
            if z["dnssec"] in ("signed", "bogus-ds"):
                entry += "    dnssec-signing: on\n    dnssec-policy: world\n"
            zones_cf.append(entry)
        with open(conf, "w") as fp:
            fp.write("""server:
    rundir: "{d}/run"
    listen: {dns}@53
database:
    storage: "{d}/db"
log:
  - target: "{d}/knot.log"
    any: info
policy:
  - id: world
    algorithm: ecdsap256sha256
    single-type-signing: on
    ksk-lifetime: 0
    zsk-lifetime: 0
    nsec3: off
    rrsig-lifetime: 14d
    rrsig-refresh: 7d
template:
  - id: default
    storage: "{d}/zones"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
{zones}""".format(d=d, dns=DNS_ADDR, zones="".join(zones_cf) or "  []\n"))
        self.knot_conf = conf
        self.spawn("knotd", ["knotd", "-c", conf])

    def _sign_offline(self, z, d):
        """bogus-sig: sign the zone with ldns-signzone (one ECDSA P-256 key,
        NSEC), then change the RDATA of the tampered RRsets and keep their
        RRSIGs. Knot serves the file as it is (signing off, no semantic
        checks); validators answer BOGUS for those RRsets only."""
        keys = os.path.join(d, "keys-" + z["name"])
        os.makedirs(keys)
        src = os.path.join(keys, z["name"] + ".unsigned")
        with open(src, "w") as fp:
            fp.write(self._zone_text(z))
        base = sh(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", z["name"]], cwd=keys).strip()
        now = int(time.time())
        signed = src + ".signed"
        sh(["ldns-signzone", "-i", str(now - 3600), "-e", str(now + 14 * 86400), "-f", signed,
            "-o", z["name"], src, base], cwd=keys)
        with open(os.path.join(keys, base + ".ds")) as fp:
            z["ds"] = [" ".join(l.split()) for l in fp if " DS " in " ".join(l.split())]
        out, done = [], set()
        with open(signed) as fp:
            for line in fp:
                f = line.rstrip("\n").split(None, 4)
                if len(f) == 5 and (_fqdn(f[0]), f[3]) in z["tamper"]:
                    new = _tamper_rdata(f[3], f[4])
                    line = "%s\t%s\t%s\t%s\t%s\n" % (f[0], f[1], f[2], f[3], new)
                    done.add((_fqdn(f[0]), f[3]))
                out.append(line)
        for owner, rtype in z["tamper"]:
            if (owner, rtype) not in done:
                raise ScenarioError("zone %s: tamper \"%s %s\": the signed zone has no such RRset"
                                    % (z["name"], owner, rtype))
        with open(os.path.join(d, "zones", z["name"] + ".zone"), "w") as fp:
            fp.write("".join(out))

    def _finish_dns(self):
        # Wait until every signed zone is served signed, then write the
        # trust anchors (one DS set per signed zone; no root anchor).
        anchors = []
        for z in self.sc["zones"]:
            if z["dnssec"] == "unsigned":
                continue

            def signed(name=z["name"]):
                out = subprocess.run(["kdig", "@" + DNS_ADDR, "+dnssec", "+norec", "+time=1", "+retry=0",
                                      "SOA", name], stdout=subprocess.PIPE, text=True).stdout
                return "RRSIG" in out
            wait_for("zone %s to be signed" % z["name"], signed)
            if z["dnssec"] == "bogus-sig":
                anchors += z["ds"]
                continue
            ds = sh(["keymgr", "-c", self.knot_conf, z["name"], "ds"]).strip().splitlines()
            ds = [l for l in ds if " DS " in l]
            if not ds:
                raise RuntimeError("keymgr printed no DS for %s" % z["name"])
            if z["dnssec"] == "bogus-ds":
                # A DS that matches no key: validators answer BOGUS.
                ds = [re.sub(r"[0-9A-Fa-f]{8}$", "DEADBEEF", l) for l in ds]
            anchors += ds
        self.anchors = os.path.join(self.top, "dns", "anchors")
        with open(self.anchors, "w") as fp:
            fp.write("".join(l + "\n" for l in anchors))
        for z in self.sc["zones"]:
            self.info["zones"].append({"name": z["name"], "dnssec": z["dnssec"],
                                       "records": [self._subst(r) for r in z["records"]],
                                       "tamper": [list(t) for t in z["tamper"]]})

    # -- HTTPS policy hosts (nginx)
    def _start_tarpits(self):
        for ph in self.sc["policy_hosts"]:
            if ph["behaviour"] == "stall":
                ph["upstream"] = self.alloc()
                self.tarpits.append(Tarpit(ph["upstream"], 8080))
        for mx in self.sc["mx"]:
            if mx["behaviour"] == "tarpit":
                self.tarpits.append(Tarpit(mx["addr"], 25))
                self.info["tarpits"].append({"name": mx["name"], "address": mx["addr"], "port": 25})

    def _start_https(self):
        serving = [ph for ph in self.sc["policy_hosts"] if ph["behaviour"] != "refuse"]
        for ph in self.sc["policy_hosts"]:
            self.info["policy_hosts"].append(self._policy_info(ph))
        if not serving:
            return
        d = os.path.join(self.top, "https")
        os.makedirs(os.path.join(d, "tmp"))
        servers = []
        for i, ph in enumerate(serving):
            root = os.path.join(d, "site-%d" % i)
            os.makedirs(root)
            body = self._policy_body(ph)
            ph["body_file"] = os.path.join(root, "mta-sts.txt")
            with open(ph["body_file"], "wb") as fp:
                fp.write(body)
            ph_info = self.info["policy_hosts"][self.sc["policy_hosts"].index(ph)]
            ph_info["body_sha256"] = hashlib.sha256(body).hexdigest()
            ph_info["body_size"] = len(body)
            if ph["redirect"]:
                action = "return 301 %s;" % ph["redirect"]
            elif ph["behaviour"] == "stall":
                action = "proxy_pass http://%s:8080; proxy_read_timeout 3600s;" % ph["upstream"]
            else:
                action = ("types { } default_type \"%s\"; alias %s; %s" %
                          (ph["content_type"].replace('"', '\\"'), ph["body_file"],
                           "limit_rate %d;" % ph["rate"] if ph["rate"] else ""))
            status_block = ""
            if ph["status"] != 200 and not ph["redirect"] and ph["behaviour"] == "serve":
                # Serve the body with the declared status.
                status_block = ("location = /.well-known/mta-sts.txt { types { } default_type \"%s\"; "
                                "return %d '%s'; }" % (ph["content_type"], ph["status"],
                                                      body.decode("ascii", "replace").replace("'", "")
                                                      .replace("\n", "\\n")))
            loc = status_block or "location = /.well-known/mta-sts.txt { %s }" % action
            servers.append("""
    server {
        listen %s:443 ssl;
        server_name %s;
        ssl_certificate %s;
        ssl_certificate_key %s;
        ssl_protocols TLSv1.2 TLSv1.3;
        %s
        location / { return 404; }
    }""" % (ph["addr"], ph["name"], ph["tls"]["chain"], ph["tls"]["key"], loc))
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as fp:
            fp.write("""user root;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 512; }}
http {{
    log_format world '$server_name $remote_addr "$request" $status $body_bytes_sent';
    access_log {d}/access.log world;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server_tokens off;
    {servers}
}}
""".format(d=d, servers="".join(servers)))
        self.info["https_access_log"] = os.path.join(d, "access.log")
        self.spawn("nginx", ["nginx", "-e", os.path.join(d, "error.log"), "-c", conf, "-g", "daemon off;"])

    def _policy_body(self, ph):
        body = (ph["policy"] or "").encode()
        if ph["body_size"]:
            if ph["body_size"] < len(body):
                raise ScenarioError("policy_host %s: body_size is smaller than the policy" % ph["name"])
            pad = ph["body_size"] - len(body)
            # Pad with extension fields, which a parser must ignore: the
            # body stays a valid policy except for its size.
            filler = b""
            while len(filler) < pad:
                filler += b"x_pad: " + b"p" * 60 + b"\n"
            body += filler[:pad - 1] + b"\n" if pad else b""
        return body

    def _policy_info(self, ph):
        return {"name": ph["name"], "domain": ph["domain"], "address": ph["addr"], "cert": ph["cert"],
                "cert_names": ph.get("tls", {}).get("names"), "status": ph["status"],
                "content_type": ph["content_type"], "redirect": ph["redirect"], "behaviour": ph["behaviour"],
                "rate": ph["rate"], "a_record": ph["a_record"]}

    # -- SMTP MX hosts (one Postfix with a listener per host)
    def _start_smtp(self):
        for mx in self.sc["mx"]:
            self.info["mx"].append({"name": mx["name"], "address": mx["addr"], "cert": mx["cert"],
                                    "cert_names": mx.get("tls", {}).get("names"), "starttls": mx["starttls"],
                                    "behaviour": mx["behaviour"], "a_record": mx["a_record"]})
        smtp = [mx for mx in self.sc["mx"] if mx["behaviour"] == "smtp"]
        if not smtp:
            return
        self.postfix_mx = self._postfix_instance("mx", smtp, MX_MAIN)

    def _start_sender(self):
        """The sending side: a Postfix that relays mail from 127.0.0.0/8 to
        the world's MX hosts through the world's DNS. Tests add
        smtpd_milters etc. with postconf -c and postfix reload."""
        etc = self._postfix_instance("sender", [], SENDER_MAIN.replace("{ca}", self.pki.ca_file),
                                     "%s:25 inet n - n - - smtpd\n" % SENDER_ADDR)
        self.want_tcp.add((SENDER_ADDR, 25))
        os.makedirs(os.path.join(self.top, "postfix-sender", "mail"), exist_ok=True)
        self.info["sender"] = {"address": SENDER_ADDR, "port": 25, "config_directory": etc,
                               "maillog": self.info["postfix_sender"]["maillog"]}

    def _prepare_opensmtpd(self):
        """Make the world ready for an OpenSMTPD 6.8 sending instance; the
        test starts it (smtpd -d -f CONF) with its own filter lines. Its
        queue, chroot, helper and control-socket paths are compiled in, so
        private folders are bind-mounted over them in this mount namespace."""
        root = os.environ.get("STS_OPENSMTPD_ROOT", OPENSMTPD_ROOT)
        smtpd = os.path.join(root, "usr/sbin/smtpd")
        if not os.access(smtpd, os.X_OK):
            raise RuntimeError("OpenSMTPD is not unpacked at %s (run tools/setup)" % root)
        for user in ("opensmtpd", "opensmtpq"):
            try:
                pwd.getpwnam(user)
            except KeyError:
                raise RuntimeError("OpenSMTPD needs the system user %s (run tools/setup)" % user) from None
        d = os.path.join(self.top, "opensmtpd")
        spool, run, empty = (os.path.join(d, x) for x in ("spool", "run", "empty"))
        for x in (spool, run, empty):
            os.makedirs(x)
        os.chmod(spool, 0o711)          # smtpd insists on root:root 0711
        # /run: the control socket /var/run/smtpd.sock stays in the world.
        for src, dst in ((spool, "/var/spool/smtpd"), (os.path.join(root, "usr/libexec/opensmtpd"),
                         "/usr/libexec/opensmtpd"), (empty, "/var/lib/opensmtpd/empty"), (run, "/run")):
            os.makedirs(dst, exist_ok=True)     # the mountpoint, on the host
            sh(["mount", "--bind", src, dst])
        # smtpd resolves MX hosts with getaddrinfo(AI_ADDRCONFIG), which
        # finds no IPv4 address while lo holds only 127.0.0.1: give lo one more.
        sh(["ip", "addr", "add", OPENSMTPD_ADDR + "/32", "dev", "lo"])
        conf = os.path.join(d, "smtpd.conf")
        with open(conf, "w") as fp:
            fp.write("# Written by tests/world: relay mail from 127.0.0.0/8 to the world's MX hosts.\n"
                     "# Tests copy it and add a filter line and 'filter NAME' to the listen line.\n"
                     "listen on %s port 25\n"
                     "action \"relay\" relay helo opensmtpd.world.test\n"
                     "match from src 127.0.0.0/8 for any action \"relay\"\n" % OPENSMTPD_ADDR)
        r = subprocess.run([smtpd, "-n", "-f", conf], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("smtpd -n -f %s failed: %s" % (conf, (r.stdout + r.stderr).strip()))
        self.info["opensmtpd"] = {"smtpd": smtpd, "smtpctl": os.path.join(root, "usr/sbin/smtpctl"),
                                  "address": OPENSMTPD_ADDR, "port": 25, "dir": d, "config": conf,
                                  "spool": spool}

    def _prepare_sendmail(self):
        """Make the world ready for a Sendmail 8.17 sending instance, built
        from Debian's sendmail-cf macros; the test adds its milter lines to
        sendmail.mc, builds its own sendmail.cf with m4 and starts
        sendmail -bD -C CF itself. Every path the configuration names (queue,
        pid file, status file, aliases, help file, host status, service
        switch) is under sendmail/ in the world's folder; nothing under
        /etc/mail is read (-C names the configuration)."""
        root = os.environ.get("STS_SENDMAIL_ROOT", SENDMAIL_ROOT)
        binary = os.path.join(root, "usr/libexec/sendmail/sendmail")
        cf_dir = os.path.join(root, "usr/share/sendmail/cf")
        if not os.access(binary, os.X_OK) or not os.path.isfile(os.path.join(cf_dir, "m4/cf.m4")):
            raise RuntimeError("Sendmail is not unpacked at %s (run tools/setup)" % root)
        try:
            # DefaultUser, as Debian's ostype/debian.m4 sets it (base-passwd).
            pwd.getpwnam("mail")
        except KeyError:
            raise RuntimeError("Sendmail needs the system user mail (DefaultUser)") from None
        d = os.path.join(self.top, "sendmail")
        queue, hoststat = os.path.join(d, "mqueue"), os.path.join(d, "host_status")
        os.makedirs(queue)
        os.makedirs(hoststat)
        os.chmod(queue, 0o700)          # sendmail refuses an unsafe queue
        os.chmod(d, 0o755)
        for name, text in (("aliases", "postmaster: root\n"), ("helpfile", ""), ("local-host-names", ""),
                           ("trusted-users", ""), ("relay-domains", ""),
                           ("service.switch", "hosts\tdns files\naliases\tfiles\n")):
            with open(os.path.join(d, name), "w") as fp:
                fp.write(text)
        mc = os.path.join(d, "sendmail.mc")
        with open(mc, "w") as fp:
            fp.write(SENDMAIL_MC.format(dir=d, root=root, addr=SENDMAIL_ADDR, ca=self.pki.ca_file,
                                        ca_dir=os.path.dirname(self.pki.ca_file)))
        m4 = ["m4", "-D_CF_DIR_=%s/" % cf_dir, os.path.join(cf_dir, "m4/cf.m4")]
        cf = os.path.join(d, "sendmail.cf")
        with open(cf, "w") as out:
            r = subprocess.run(m4 + [mc], stdout=out, stderr=subprocess.PIPE, text=True, cwd=d)
        if r.returncode != 0 or "ERROR" in r.stderr:
            raise RuntimeError("m4 %s failed: %s" % (mc, r.stderr.strip()))
        # The alias database (aliases.db) and a check that the binary takes
        # the configuration: -bi reads it and reports any error on stderr.
        r = subprocess.run([binary, "-C", cf, "-bi"], capture_output=True, text=True, cwd=d)
        said = (r.stdout + r.stderr).strip()
        if r.returncode != 0 or "aliases: 1 aliases, " not in said or "WARNING" in said:
            raise RuntimeError("sendmail -C %s -bi failed: %s" % (cf, said))
        self.info["sendmail"] = {"sendmail": binary, "m4": m4, "cf_dir": cf_dir, "address": SENDMAIL_ADDR,
                                 "port": 25, "dir": d, "mc": mc, "config": cf, "queue": queue,
                                 "pid_file": os.path.join(d, "sendmail.pid")}

    def _postfix_instance(self, tag, listeners, extra_main="", extra_master=""):
        d = os.path.join(self.top, "postfix-" + tag)
        etc, spool, data, mail = (os.path.join(d, x) for x in ("etc", "spool", "data", "mail"))
        for x in (etc, spool, data, mail):
            os.makedirs(x)
        shutil.chown(data, "postfix")
        shutil.chown(mail, "nobody", "nogroup")
        domains = " ".join(z["name"] for z in self.sc["zones"]) or "world.test"
        with open(os.path.join(etc, "main.cf"), "w") as fp:
            fp.write("""compatibility_level = 3.6
queue_directory = {spool}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = {tag}.world.test
mydomain = world.test
myorigin = $myhostname
inet_protocols = ipv4
inet_interfaces = all
mydestination =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = {d}/maillog
maillog_file_prefixes = {top}
""".format(spool=spool, data=data, tag=tag, d=d, top=self.top)
                     + extra_main.format(domains=domains, mail=mail, etc=etc))
        master = POSTFIX_MASTER_BASE + extra_master
        for mx in listeners:
            master += ("%s:25 inet n - n - - smtpd -o myhostname=%s -o smtpd_tls_cert_file=%s "
                       "-o smtpd_tls_key_file=%s -o smtpd_tls_security_level=%s\n" %
                       (mx["addr"], mx["name"], mx["tls"]["chain"], mx["tls"]["key"],
                        "may" if mx["starttls"] else "none"))
        with open(os.path.join(etc, "master.cf"), "w") as fp:
            fp.write(master)
        # Postfix waits for config files younger than a few seconds.
        past = time.time() - 10
        for f in ("main.cf", "master.cf"):
            os.utime(os.path.join(etc, f), (past, past))
        with open(os.path.join(self.top, "logs", "postfix-%s-start.out" % tag), "w") as out:
            rc = subprocess.call(["postfix", "-c", etc, "start"], stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL)
        if rc != 0:
            raise RuntimeError("postfix (%s) failed to start; see %s and %s/maillog" %
                               (tag, out.name, d))
        # Every message an MX host accepts lands in one Maildir: mail/maildir/new.
        self.info["postfix_" + tag] = {"config_directory": etc, "maillog": os.path.join(d, "maillog"),
                                       "maildir": os.path.join(mail, "maildir"),
                                       "spool": spool,
                                       "mail": mail}
        return etc

    # -- Redis
    def _start_redis(self):
        d = os.path.join(self.top, "redis")
        os.makedirs(d)
        self.spawn("redis", ["redis-server", "--bind", REDIS_ADDR, "--port", str(REDIS_PORT), "--save", "",
                             "--appendonly", "no", "--dir", d, "--daemonize", "no",
                             "--logfile", os.path.join(d, "redis.log")])
        self.info["redis"] = {"address": REDIS_ADDR, "port": REDIS_PORT}

    def _start_sentinel(self):
        """A replica of the world's Redis and three sentinels. Every one
        announces its own address: on lo, connections leave from 127.0.0.1
        whatever address the server listens on."""
        d = os.path.join(self.top, "redis")
        self.spawn("redis-replica", ["redis-server", "--bind", REDIS_REPLICA_ADDR, "--port", str(REDIS_PORT),
                                     "--save", "", "--appendonly", "no", "--dir", d, "--daemonize", "no",
                                     "--dbfilename", "replica.rdb",
                                     "--replicaof", REDIS_ADDR, str(REDIS_PORT),
                                     "--replica-announce-ip", REDIS_REPLICA_ADDR,
                                     "--logfile", os.path.join(d, "replica.log")])
        self.want_tcp.add((REDIS_REPLICA_ADDR, REDIS_PORT))
        sentinels = []
        for i, addr in enumerate(SENTINEL_ADDRS, 1):
            conf = os.path.join(d, "sentinel%d.conf" % i)   # Sentinel rewrites it: its own file
            with open(conf, "w") as fp:
                fp.write("bind %s\nport %d\nprotected-mode no\ndaemonize no\ndir %s\nlogfile %s\n"
                         "sentinel announce-ip %s\nsentinel resolve-hostnames no\n"
                         "sentinel monitor %s %s %d %d\n"
                         "sentinel down-after-milliseconds %s %d\n"
                         "sentinel failover-timeout %s %d\n"
                         "sentinel parallel-syncs %s 1\n"
                         % (addr, SENTINEL_PORT, d, os.path.join(d, "sentinel%d.log" % i), addr,
                            SENTINEL_MASTER, REDIS_ADDR, REDIS_PORT, SENTINEL_QUORUM,
                            SENTINEL_MASTER, SENTINEL_DOWN_AFTER_MS,
                            SENTINEL_MASTER, SENTINEL_FAILOVER_TIMEOUT_MS, SENTINEL_MASTER))
            self.spawn("sentinel%d" % i, ["redis-sentinel", conf])
            self.want_tcp.add((addr, SENTINEL_PORT))
            sentinels.append("%s:%d" % (addr, SENTINEL_PORT))
        self.info["sentinel"] = {"master_name": SENTINEL_MASTER, "sentinels": sentinels,
                                 "quorum": SENTINEL_QUORUM, "down_after_ms": SENTINEL_DOWN_AFTER_MS,
                                 "failover_timeout_ms": SENTINEL_FAILOVER_TIMEOUT_MS,
                                 "primary": "%s:%d" % (REDIS_ADDR, REDIS_PORT),
                                 "replica": "%s:%d" % (REDIS_REPLICA_ADDR, REDIS_PORT)}

    def _wait_sentinel(self):
        """Ready when the replica is in sync and every sentinel knows the
        replica and the other sentinels (hello messages, every 2 s)."""
        def field(out, name):
            lines = out.split("\n")
            for k, v in zip(lines, lines[1:]):
                if k.strip() == name:
                    return v.strip()
            return ""

        def ready():
            r = subprocess.run(["redis-cli", "-h", REDIS_REPLICA_ADDR, "-p", str(REDIS_PORT), "INFO", "replication"],
                               capture_output=True, text=True)
            if "master_link_status:up" not in r.stdout:
                return False
            for addr in SENTINEL_ADDRS:
                r = subprocess.run(["redis-cli", "-h", addr, "-p", str(SENTINEL_PORT), "SENTINEL", "master",
                                    SENTINEL_MASTER], capture_output=True, text=True)
                if (field(r.stdout, "num-slaves") != "1"
                        or field(r.stdout, "num-other-sentinels") != str(len(SENTINEL_ADDRS) - 1)):
                    return False
            return True
        wait_for("the sentinels to know the replica and each other", lambda: ready() or time.sleep(0.1), 30.0)

    def _wait_ready(self):
        want_tcp = self.want_tcp
        for ph in self.sc["policy_hosts"]:
            if ph["behaviour"] != "refuse":
                want_tcp.add((ph["addr"], 443))
        for mx in self.sc["mx"]:
            if mx["behaviour"] != "refuse":
                want_tcp.add((mx["addr"], 25))
        if self.sc["redis"]:
            want_tcp.add((REDIS_ADDR, REDIS_PORT))

        def ready():
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError("%s exited with %s; see %s/logs/%s.out" % (name, p.returncode, self.top, name))
            return (DNS_ADDR, 53) in listening("udp") and want_tcp <= listening("tcp")
        wait_for("servers to listen", ready)

    def _write_configs(self):
        """Files for the clients inside the world: an unbound.conf for the
        tools (unbound-host) and the filter's stsfilter.conf fragment."""
        unsigned = [z["name"] for z in self.sc["zones"] if z["dnssec"] == "unsigned"]
        ub = os.path.join(self.top, "dns", "unbound.conf")
        with open(ub, "w") as fp:
            fp.write("server:\n    local-zone: \"test.\" nodefault\n")
            if os.path.getsize(self.anchors):
                fp.write("    trust-anchor-file: \"%s\"\n" % self.anchors)
            for z in unsigned:
                fp.write("    domain-insecure: \"%s\"\n" % z)
            fp.write("forward-zone:\n    name: \".\"\n    forward-addr: %s\n" % DNS_ADDR)
        self.info["unbound_conf"] = ub
        self.info["anchors"] = self.anchors
        self.info["ca_file"] = self.pki.ca_file
        self.info["insecure_zones"] = unsigned
        conf = os.path.join(self.top, "stsfilter.conf")
        opts = ['local-zone: "test." nodefault'] + ['domain-insecure: "%s"' % z for z in unsigned]
        with open(conf, "w") as fp:
            fp.write("# Written by tests/world for scenario %s\n" % self.sc["name"])
            fp.write("dns_forwarders = %s\n" % DNS_ADDR)
            fp.write("dns_trust_anchor_file = %s\n" % self.anchors)
            fp.write("dns_resolver_options = %s\n" % "; ".join(opts))
            fp.write("tls_ca_file = %s\n" % self.pki.ca_file)
            fp.write("allow_private_addresses = yes\n")
            # Tests run the daemons as root (user = root) inside the world.
            fp.write("allow_root = yes\n")
            fp.write("cache_path = %s\n" % os.path.join(self.top, "cache.lmdb"))
            if self.sc["redis"]:
                fp.write("redis_server = %s:%d\n" % (REDIS_ADDR, REDIS_PORT))
                fp.write("cache_backend = redis\n")
            if self.sc["sentinel"]:
                fp.write("redis_sentinels = %s\n" % ", ".join(self.info["sentinel"]["sentinels"]))
                fp.write("redis_master_name = %s\n" % SENTINEL_MASTER)
        self.info["stsfilter_conf"] = conf

    def env(self):
        e = dict(os.environ)
        e.update({"STS_WORLD": self.top, "STS_WORLD_SCENARIO": self.sc["name"],
                  "STS_WORLD_JSON": os.path.join(self.top, "world.json"),
                  "STS_WORLD_CONF": self.info["stsfilter_conf"], "STS_WORLD_CA": self.pki.ca_file,
                  "STS_WORLD_ANCHORS": self.anchors, "STS_WORLD_DNS": DNS_ADDR,
                  "STS_WORLD_UNBOUND_CONF": self.info["unbound_conf"]})
        if self.sc["redis"]:
            e["STS_WORLD_REDIS"] = "%s:%d" % (REDIS_ADDR, REDIS_PORT)
        if self.sc["sentinel"]:
            e["STS_WORLD_SENTINELS"] = ",".join(self.info["sentinel"]["sentinels"])
        return e

    def down(self):
        for etc in [self.info.get("postfix_" + t, {}).get("config_directory") for t in ("mx", "sender")]:
            if etc:
                subprocess.call(["postfix", "-c", etc, "stop"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        for name, p in self.procs:
            if p.poll() is None:
                p.terminate()
        for name, p in self.procs:
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()


# ---------------------------------------------------------------------------
# Entry points

def init_main(argv):
    """PID 1 of the world's PID namespace: start the world manager, reap
    every orphan (daemons double-fork), exit with the manager's status. When
    this exits, the kernel kills whatever is left in the namespace."""
    child = os.fork()
    if child == 0:
        os.execv(sys.executable, [sys.executable, os.path.abspath(__file__), "inner"] + argv)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: os.kill(child, s))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            sys.exit(1)
        except InterruptedError:
            continue
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            sys.exit(code if code >= 0 else 128 - code)


def inner_main(argv):
    keep = False
    if argv and argv[0] == "--keep":
        keep, argv = True, argv[1:]
    if len(argv) < 3 or argv[1] != "--":
        log("usage: tests/world/run [--keep] SCENARIO -- COMMAND [ARG...]")
        return 64
    name, cmd = argv[0], argv[2:]
    sc = load_scenario(scenario_path(name))
    top = tempfile.mkdtemp(prefix="stsworld-%s-" % sc["name"], dir=os.environ.get("STS_WORLD_TMP", "/tmp"))
    os.chmod(top, 0o755)
    world = World(sc, top)
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(128 + s))
    rc = 1
    try:
        try:
            world.up()
        except (RuntimeError, ScenarioError, subprocess.SubprocessError, OSError) as exc:
            log("scenario %s failed to come up: %s" % (sc["name"], exc))
            keep = True
            return 3
        log("scenario %s up in %.2fs (%s)" % (sc["name"], world.info["startup_seconds"], top))
        rc = subprocess.call(cmd, env=world.env())
        return rc
    finally:
        world.down()
        if keep or rc != 0:
            log("world kept at %s" % top)
        else:
            shutil.rmtree(top, ignore_errors=True)


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "init":
        init_main(argv[1:])
    if argv and argv[0] == "inner":
        try:
            sys.exit(inner_main(argv[1:]))
        except ScenarioError as exc:
            log(str(exc))
            sys.exit(3)
    if argv and argv[0] == "validate":
        # Check scenario files without starting anything.
        bad = 0
        for path in argv[1:]:
            try:
                load_scenario(scenario_path(path))
            except ScenarioError as exc:
                log(str(exc))
                bad += 1
        sys.exit(1 if bad else 0)
    print(__doc__, file=sys.stderr)
    sys.exit(64)


if __name__ == "__main__":
    main()
