#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): `stsfilter check` gives the declared verdict and
reason codes for every scenario's [[expect]] entries, inside that scenario's
world of real servers. Also: the JSON and text outputs agree, the time by
stage is shown, the exit status follows the verdict, and a tarpit MX does not
hold a check past its budget.

Needs root. STS_SCENARIOS (space-separated) limits the scenarios."""

import glob
import json
import os
import subprocess
import sys
import tomllib

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
CLI = os.path.join(BUILD, "stsfilter")
RUN = os.path.join(TOP, "tests/world/run")
BUDGET_S = 6
results = []


def emit(ok, desc, diag=""):
    results.append((bool(ok), desc, diag))


def scenarios():
    names = os.environ.get("STS_SCENARIOS")
    if names:
        return names.split()
    out = []
    for path in sorted(glob.glob(os.path.join(TOP, "tests/world/scenarios/*.toml"))):
        with open(path, "rb") as fp:
            sc = tomllib.load(fp)
        if sc.get("expect") and not sc.get("include"):
            out.append(os.path.splitext(os.path.basename(path))[0])
    return out


INSIDE = r'''
import json, os, subprocess, sys
conf = os.path.join(os.environ["STS_WORLD"], "check.conf")
with open(conf, "w") as fp:
    fp.write(open(os.environ["STS_WORLD_CONF"]).read())
    fp.write("check_time_budget = %ds\nprobe_read_timeout = 3s\nprobe_connect_timeout = 2s\n" % int(sys.argv[2]))
w = json.load(open(os.environ["STS_WORLD_JSON"]))
out = []
for e in w["expect"]:
    j = subprocess.run([sys.argv[1], "-c", conf, "check", "--json", e["domain"]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    t = subprocess.run([sys.argv[1], "-c", conf, "check", e["domain"]], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    out.append({"expect": e, "json_rc": j.returncode, "json": j.stdout, "json_err": j.stderr,
                "text_rc": t.returncode, "text": t.stdout, "text_err": t.stderr})
print(json.dumps(out))
'''

def path(v, *keys):
    """v[k1][k2]... or None."""
    for k in keys:
        if isinstance(v, dict):
            v = v.get(k)
        elif isinstance(v, list) and isinstance(k, int) and k < len(v):
            v = v[k]
        else:
            return None
    return v


def expect(cond, diag):
    return True if cond else diag


def lenient(line, needle):
    """A policy strict parsers refuse at line, which lenient ones enforce."""
    return [
        ("JSON: refused at line %d (%s), lenient parsers enforce it" % (line, needle),
         lambda v, t: expect(path(v, "policy", "refused", "line") == line
                             and needle in (path(v, "policy", "refused", "problem") or "")
                             and path(v, "policy", "refused", "lenient_accepts") is True
                             and path(v, "policy", "refused", "lenient_mode") == "enforce",
                             json.dumps(path(v, "policy")))),
        ("text: strict parsers ignore it, postfix-mta-sts-resolver enforces it, line %d shown" % line,
         lambda v, t: expect("refused by strict parsers: line %d" % line in t and "    line %d: \"" % line in t
                             and "lenient parsers (postfix-mta-sts-resolver) enforce it" in t, t[-900:])),
    ]


def bad_txt(needle):
    """A TXT record at _mta-sts that is not a valid MTA-STS record."""
    return [
        ("JSON: txt.problem names it (%s) and the record is shown" % needle,
         lambda v, t: expect(needle in (path(v, "txt", "problem") or "") and path(v, "txt", "present") is False
                             and len(path(v, "txt", "records") or []) >= 1, json.dumps(path(v, "txt")))),
        ("text: the TXT line says NOT VALID, not none",
         lambda v, t: expect("NOT VALID (" in t and needle in t and ": none\n" not in t.split("TLS-RPT")[0]
                             and "    record: \"" in t, t[:700])),
    ]


# Assertions beyond [[expect]] for some domains: (description, f(json, text) -> True or a diagnosis).
EXTRA = {
    # Seed 001 as it happened: RFC 8461 says ok, Outlook.com fails it.
    "seed001.test": [
        ("JSON: senders.rfc is ok, senders.outlook is enforce-fail (mx-not-listed)",
         lambda v, t: expect(path(v, "senders", "rfc", "verdict") == "ok"
                             and path(v, "senders", "outlook", "verdict") == "enforce-fail"
                             and path(v, "senders", "outlook", "reason") == "mx-not-listed"
                             and path(v, "senders", "outlook", "differs") is True
                             and path(v, "senders", "outlook", "hosts", 0, "checks") == "smol.seed001.test",
                             json.dumps(path(v, "senders")))),
        ("JSON: the outlook fix names both ways and RFC 2181 section 10.3",
         lambda v, t: expect("point the MX record at smol.seed001.test" in (path(v, "senders", "outlook", "fix") or "")
                             and "mx: smol.seed001.test" in path(v, "senders", "outlook", "fix")
                             and "add smol.seed001.test to the certificate" in path(v, "senders", "outlook", "fix")
                             and "RFC 2181 section 10.3" in path(v, "senders", "outlook", "fix"),
                             path(v, "senders", "outlook", "fix"))),
        ("text: both senders and the fix are shown",
         lambda v, t: expect("    rfc: ok: " in t and "    outlook: enforce-fail mx-not-listed: " in t
                             and "      fix: point the MX record at smol.seed001.test" in t, t[-1200:])),
        ("JSON: empty values are null (no empty strings anywhere)",
         lambda v, t: expect('""' not in json.dumps(v), [k for k in v if v[k] == ""])),
    ],
    # The reverse of seed 001: the certificate names only the alias's target.
    "cname.test": [
        ("JSON: senders.rfc is enforce-fail, senders.outlook delivers via smol.cname.test",
         lambda v, t: expect(path(v, "senders", "rfc", "verdict") == "enforce-fail"
                             and path(v, "senders", "rfc", "reason") == "certificate-host-mismatch"
                             and path(v, "senders", "outlook", "verdict") == "ok"
                             and path(v, "senders", "outlook", "fix") is None,
                             json.dumps(path(v, "senders")))),
    ],
    # RFC 8460 section 3: the TLS-RPT record as parsed fields.
    "good.test": [
        ("JSON: tlsrpt is the parsed record (rua kind and uri)",
         lambda v, t: expect(path(v, "tlsrpt", "rua") == [{"kind": "mailto", "uri": "mailto:tlsrpt@good.test"}]
                             and path(v, "tlsrpt", "error") is None
                             and path(v, "tlsrpt", "record") == "v=TLSRPTv1; rua=mailto:tlsrpt@good.test",
                             json.dumps(path(v, "tlsrpt")))),
    ],
    "blank.diag.test": lenient(3, "empty line"),
    "cr.diag.test": lenient(2, "CR not followed by LF"),
    "bom.diag.test": lenient(1, "byte-order mark"),
    "dup.diag.test": lenient(5, "mode given more than once"),
    "wrongver.diag.test": bad_txt("the version is not STSv1"),
    "swapped.diag.test": bad_txt("not the first field"),
    "garbage.diag.test": bad_txt("not an MTA-STS record"),
    "two.diag.test": bad_txt("multiple v=STSv1 records"),
}

EXIT = {"ok": 0, "no-policy": 0, "none": 0, "testing-fail": 1, "enforce-fail": 1, "null-mx": 1, "temporary": 2}

if not os.access(CLI, os.X_OK):
    print("1..1\nnot ok 1 - %s is built" % CLI)
    sys.exit(1)

for name in scenarios():
    r = subprocess.run([RUN, name, "--", sys.executable, "-c", INSIDE, CLI, str(BUDGET_S)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    try:
        runs = json.loads(r.stdout)
    except ValueError:
        emit(False, "[%s] world ran the checks" % name, r.stdout[-500:] + r.stderr[-500:])
        continue
    for run in runs:
        e = run["expect"]
        d = e["domain"]
        try:
            doc = json.loads(run["json"])
            v = doc["results"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            emit(False, "[%s] check --json %s prints JSON" % (name, d), run["json"][-300:] + run["json_err"][-300:])
            continue
        emit(doc.get("version") == 1 and len(doc["results"]) == 1 and v.get("domain") == d.rstrip("."),
             "[%s] check --json %s: one document shape (version 1, one result)" % (name, d), run["json"][:300])
        # The deciding reason is never "none" on a failure; empty values are null.
        emit(v.get("reason") not in ("none", "") and (v.get("verdict") in ("ok", "no-policy", "none", "null-mx")
                                                      or v.get("reason") is not None),
             "[%s] check %s: the top-level reason names the deciding reason" % (name, d),
             "verdict %s reason %r" % (v.get("verdict"), v.get("reason")))
        for key, want in EXTRA.get(d.rstrip("."), []):
            got = want(v, run["text"])
            emit(got is True, "[%s] check %s: %s" % (name, d, key), got if got is not True else "")
        emit(v.get("verdict") == e["verdict"], "[%s] check %s: verdict %s" % (name, d, e["verdict"]),
             "got %s: %s" % (v.get("verdict"), v.get("explanation")))
        seen = {v.get("reason")} | {h.get("reason") for h in v.get("hosts", [])} | \
               {h.get("result") for h in v.get("hosts", [])}
        for reason in e["reasons"]:
            emit(reason in seen, "[%s] check %s: reason %s" % (name, d, reason),
                 "got %s; %s" % (sorted(x for x in seen if x), v.get("explanation")))
        for warn in e.get("warnings", []):
            emit(any(warn in w for w in v.get("warnings", [])), "[%s] check %s: warning \"%s\"" % (name, d, warn),
                 "got %s" % v.get("warnings"))
        emit(run["json_rc"] == EXIT[e["verdict"]] and run["text_rc"] == run["json_rc"],
             "[%s] check %s exits %d" % (name, d, EXIT[e["verdict"]]),
             "json exit %d, text exit %d" % (run["json_rc"], run["text_rc"]))
        text = run["text"]
        emit(("verdict: %s:" % e["verdict"]) in text and v.get("explanation", "?") in text
             and "time: dns" in text and "fetch" in text and "probe" in text,
             "[%s] check %s text output shows the verdict, explanation and time by stage" % (name, d),
             text[-600:] + run["text_err"][-200:])
        tm = v.get("time_ms", {})
        emit(all(k in tm for k in ("dns", "fetch", "probe", "total")) and tm["total"] <= BUDGET_S * 1000 + 500,
             "[%s] check %s stays within its %d s budget (stage times in JSON)" % (name, d, BUDGET_S),
             json.dumps(tm))

# What the cluster will do now (the configured shared cache, read without
# changing it). Trust on first use: after the TXT record is gone, the cached
# policy keeps applying (RFC 8461 sections 5.1 and 10.2), and check says so.
CACHED = r'''
import hashlib, json, os, subprocess, sys
cli, steps, domain, edit = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
conf = os.path.join(os.environ["STS_WORLD"], "check.conf")
with open(conf, "w") as fp:
    fp.write(open(os.environ["STS_WORLD_CONF"]).read())
    fp.write("check_time_budget = 6s\ntxt_recheck_interval = 0\n")
def digest():
    lmdb = os.path.join(os.environ["STS_WORLD"], "cache.lmdb")
    return hashlib.sha256(open(lmdb, "rb").read()).hexdigest() if os.path.exists(lmdb) else None
def check():
    r = subprocess.run([cli, "-c", conf, "check", "--json", domain], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    t = subprocess.run([cli, "-c", conf, "check", domain], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    return {"json": r.stdout, "err": r.stderr, "text": t.stdout}
out = {"empty": check()}
subprocess.run([steps, conf, domain], stdout=subprocess.DEVNULL, timeout=120)
out["before"] = digest()
out["same"] = check()
if edit:
    subprocess.run(edit, shell=True, stdout=subprocess.DEVNULL, timeout=60)
out["gone"] = check()
out["after"] = digest()
print(json.dumps(out))
'''

STEPS = os.path.join(BUILD, "tests/tools/route-steps")
KNOT_RM = ("knotc -c $STS_WORLD/dns/knot.conf zone-begin tofu.test && knotc -c $STS_WORLD/dns/knot.conf "
           "zone-unset tofu.test _mta-sts TXT && knotc -c $STS_WORLD/dns/knot.conf zone-commit tofu.test")
for name, domain, edit, backend in (("tofu", "tofu.test", KNOT_RM, "lmdb"), ("redis", "good.test", "", "redis")):
    if name not in scenarios():
        continue
    r = subprocess.run([RUN, name, "--", sys.executable, "-c", CACHED, CLI, STEPS, domain, edit],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    try:
        o = json.loads(r.stdout)
        runs = {k: json.loads(o[k]["json"])["results"][0] for k in ("empty", "same", "gone")}
    except (ValueError, KeyError, IndexError, TypeError):
        emit(False, "[%s] cluster cache: the checks ran" % name, r.stdout[-500:] + r.stderr[-500:])
        continue
    c = {k: runs[k].get("cache") or {} for k in runs}
    emit(c["empty"].get("backend") == backend and c["empty"].get("state") == "none"
         and c["empty"].get("differs") is False,
         "[%s] check %s: an empty %s cache is shown as no entry" % (name, domain, backend), json.dumps(c["empty"]))
    emit(c["same"].get("state") == "policy" and c["same"].get("mode") == "enforce" and c["same"].get("id")
         and c["same"].get("fetched") and c["same"].get("expires") and c["same"].get("fresh") is True
         and c["same"].get("differs") is False and "same policy" in (c["same"].get("note") or ""),
         "[%s] check %s: the cached entry the cluster applies (id, mode, fetched, expires), same as fresh"
         % (name, domain), json.dumps(c["same"]))
    emit("cluster cache (%s " % backend in o["same"]["text"] and "policy id=" in o["same"]["text"],
         "[%s] check %s: text shows the cluster cache" % (name, domain), o["same"]["text"][-700:])
    if not edit:
        continue
    emit(runs["gone"].get("verdict") == "no-policy" and c["gone"].get("state") == "policy"
         and c["gone"].get("differs") is True and "TXT record is gone" in (c["gone"].get("note") or "")
         and c["gone"].get("mode") == "enforce",
         "[%s] check %s: TXT removed: fresh no-policy, but the cached enforce policy still applies (TOFU)"
         % (name, domain), json.dumps(c["gone"]) + " verdict " + str(runs["gone"].get("verdict")))
    emit("DIFFERS: the _mta-sts TXT record is gone" in o["gone"]["text"],
         "[%s] check %s: text says the cluster differs from the fresh result" % (name, domain),
         o["gone"]["text"][-700:])
    emit(o["before"] is not None and o["before"] == o["after"],
         "[%s] check %s: the LMDB cache file is unchanged by check" % (name, domain),
         "%s -> %s" % (o["before"], o["after"]))

# One JSON shape whatever the number of domains; an invalid one is an entry
# with an error, never dropped.
MULTI = r'''
import json, os, subprocess, sys
r = subprocess.run([sys.argv[1], "-c", os.environ["STS_WORLD_CONF"], "check", "--json"] + sys.argv[2:],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
print(json.dumps({"rc": r.returncode, "out": r.stdout, "err": r.stderr}))
'''
if "check-diagnosis" in scenarios():
    args = ["seed001.test", "bad..name", "two.diag.test"]
    r = subprocess.run([RUN, "check-diagnosis", "--", sys.executable, "-c", MULTI, CLI] + args,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    try:
        o = json.loads(r.stdout)
        doc = json.loads(o["out"])
    except (ValueError, KeyError, TypeError):
        o, doc = {}, {}
    res = doc.get("results") or []
    emit(doc.get("version") == 1 and [x.get("domain") for x in res] == args
         and res[1].get("error") and res[1].get("verdict") is None
         and res[0].get("error") is None and res[0].get("verdict") == "ok"
         and res[2].get("verdict") == "no-policy" and o.get("rc") == 65,
         "[check-diagnosis] check --json with three domains, one invalid: one document, the invalid one"
         " an entry with an error, exit 65", (r.stdout + r.stderr)[-600:])

print("1..%d" % len(results))
for i, (ok, desc, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, desc))
    if not ok:
        for line in str(diag).strip().splitlines()[-10:]:
            print("#   " + line)
