#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): the dns module (shared/dns.c) against the test
# world's Knot DNS, through the driver tests/tools/dns-lookup.
#
# One world is brought up: a scenario generated here that includes
# healthy-enforce, dane-valid, dane-bogus, dane-bogus-sig, cert-profiles,
# cname-cert-mismatch, null-mx and implicit-mx. Every lookup runs inside it
# in one shell command (this script re-invoked with --inside); the checks
# then read the recorded output. Covered: DNSSEC secure / insecure / BOGUS
# (RFC 7672 section 2.1.1: BOGUS is a temporary failure), one BOGUS RRset
# (a bad signature) in an otherwise secure zone, split TXT strings
# joined without spaces (RFC 8461 section 3.1), MX sorted by preference,
# CNAME reporting, null MX (RFC 7505), implicit MX (RFC 5321 section 5.1),
# NXDOMAIN and NODATA, TLSA records, a forwarder that never answers
# (STATUS_RETRY at the caller's deadline), concurrent lookups on one
# handle, invalid names, and dns_create() errors.
#
# Needs root (tests/world/run). The driver is $STS_BUILDDIR/tests/tools/
# dns-lookup (STS_BUILDDIR defaults to the top of the source tree); a
# missing driver is a failure, never a skip.

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${STS_BUILDDIR:-$top}
bin=$build/tests/tools/dns-lookup

# --inside: run every lookup and print "=== LABEL" before each result. ---
if [ "$1" = "--inside" ]; then
    bin=$2
    set -- --forwarder "$STS_WORLD_DNS" --anchors "$STS_WORLD_ANCHORS" \
	--option 'local-zone: "test." nodefault'
    for z in $(python3 -c 'import json, os
print(" ".join(json.load(open(os.environ["STS_WORLD_JSON"]))["insecure_zones"]))'); do
	set -- "$@" --option "domain-insecure: \"$z\""
    done
    look() {
	label=$1; shift
	echo "=== $label"
	"$bin" "$@" 2>&1
	echo "exit: $?"
    }
    look txt-good		"$@" txt _mta-sts.good.test
    look mx-good		"$@" mx good.test
    look addr-good		"$@" addr mx1.good.test
    look nodata-txt		"$@" txt good.test
    look nxdomain-mx		"$@" mx nonexistent.good.test
    look nxdomain-txt		"$@" txt _mta-sts.nullmx.test
    look tlsa-dane		"$@" tlsa mx.dane.test 25
    look mx-dane		"$@" mx dane.test
    look tlsa-none		"$@" tlsa mx1.good.test 25
    look tlsa-bogus		"$@" tlsa mx.danebogus.test 25
    look mx-bogus		"$@" mx danebogus.test
    look tlsa-bogus-sig		"$@" tlsa mx.danesig.test 25
    look mx-bogus-sig		"$@" mx danesig.test
    look addr-bogus-sig		"$@" addr mx.danesig.test
    look txt-split		"$@" txt split.certs.test
    look txt-sts-split		"$@" txt _mta-sts.certs.test
    look mx-insecure		"$@" mx certs.test
    look addr-cname		"$@" addr mxi1.cname.test
    look mx-cname		"$@" mx cname.test
    look mx-null		"$@" mx nullmx.test
    look mx-implicit		"$@" mx implicit.test
    look mx-none		"$@" mx split.certs.test
    look threads		"$@" --threads 16 mx good.test
    look bad-name		"$@" txt 'bad..name.test'
    look long-name		"$@" mx "$(printf 'a%.0s' $(seq 1 64)).test"
    look too-long		"$@" mx "$(printf 'abcdefghi.%.0s' $(seq 1 26))test"
    look bad-port		"$@" tlsa mx.dane.test 0
    look bad-option		"$@" --option 'no-such-option: 1' mx good.test
    look bad-anchors		--forwarder "$STS_WORLD_DNS" --anchors /nonexistent/anchors mx good.test
    # A forwarder that receives queries and never answers.
    python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.9", 53))
time.sleep(60)' &
    sink=$!
    sleep 0.3
    look timeout		--forwarder 127.0.0.9 --option 'local-zone: "test." nodefault' \
				--timeout 1500 mx good.test
    kill $sink 2>/dev/null
    exit 0
fi

# The checks. -------------------------------------------------------------
n=0
fails=0
ok() {
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
	echo "ok $n - $2"
    else
	echo "not ok $n - $2"
	fails=$((fails + 1))
	if [ -n "$3" ]; then
	    block "$3" | sed 's/^/#   /'
	fi
    fi
}
# block LABEL: the recorded output of one lookup.
block() {
    awk -v want="=== $1" '$0 == want { on = 1; next } /^=== / { on = 0 } on' "$out"
}
# has LABEL LINE...: every LINE appears, exactly, in the block.
has() {
    label=$1; shift
    for line in "$@"; do
	block "$label" | grep -qxF -- "$line" || return 1
    done
    return 0
}
# lacks LABEL PATTERN: no line of the block matches the extended regex.
lacks() {
    ! block "$1" | grep -qE -- "$2"
}
# check DESCRIPTION LABEL LINE...
check() {
    desc=$1; label=$2; shift 2
    has "$label" "$@"
    ok $? "$desc" "$label"
}

if [ ! -x "$bin" ]; then
    echo "1..1"
    echo "not ok 1 - the driver $bin is built (make tests/tools/dns-lookup)"
    exit 1
fi

scenario=$(mktemp /tmp/sts-dns-XXXXXX.toml) || exit 1
out=$(mktemp /tmp/sts-dns-out-XXXXXX) || exit 1
trap 'rm -f "$scenario" "$out"' EXIT
cat >"$scenario" <<'EOF'
description = "dns.t: the DNS cases of several scenarios in one world"
include = ["healthy-enforce", "dane-valid", "dane-bogus", "dane-bogus-sig", "cert-profiles",
           "cname-cert-mismatch", "null-mx", "implicit-mx"]
EOF

"$top/tests/world/run" "$scenario" -- sh "$top/tests/integration/dns.t" --inside "$bin" \
    >"$out" 2>"$out.err"
rc=$?
[ $rc -eq 0 ] && grep -q '^=== timeout' "$out"
ok $? "the world came up and every lookup ran (run exit $rc)"
[ $rc -eq 0 ] || sed 's/^/#   /' "$out.err" | tail -15
rm -f "$out.err"

# Signed zone (healthy-enforce): secure data.
check "TXT in a signed zone: ok, secure, the record" txt-good \
    "status: ok" "security: secure" "txt: v=STSv1; id=20261101T000000"
check "MX in a signed zone: ok, secure" mx-good "status: ok" "security: secure"
block mx-good | grep '^mx: ' | tr '\n' '|' | grep -qxF 'mx: 10 mx1.good.test|mx: 20 mx2.good.test|'
ok $? "MX sorted by preference, targets without the trailing dot" mx-good
check "A lookup: ok, secure, the host's address" addr-good "status: ok" "security: secure"
block addr-good | grep -qE '^addr: 127\.[0-9]+\.[0-9]+\.[0-9]+$'
ok $? "A lookup returns an IPv4 address" addr-good
lacks addr-good '^cname:'
ok $? "no cname reported for a name that is not an alias" addr-good
block addr-good | grep -qE '^ttl: [1-9][0-9]*$'
ok $? "the answer's TTL is reported" addr-good

# NODATA and NXDOMAIN.
check "NODATA: notfound, \"no TXT record\"" nodata-txt \
    "status: notfound" "why: good.test: no TXT record"
check "NXDOMAIN in a signed zone: notfound, why says NXDOMAIN" nxdomain-mx \
    "status: notfound" "why: nonexistent.good.test: NXDOMAIN"
check "NXDOMAIN in an unsigned zone: notfound" nxdomain-txt \
    "status: notfound" "why: _mta-sts.nullmx.test: NXDOMAIN"

# DANE (dane-valid): secure TLSA 3 1 1 with a SHA-256.
check "TLSA in a signed zone: ok, secure" tlsa-dane "status: ok" "security: secure"
block tlsa-dane | grep -qE '^tlsa: 3 1 1 [0-9a-f]{64}$'
ok $? "TLSA record parsed: usage 3, selector 1, mtype 1, 32 octets" tlsa-dane
check "MX of the DANE domain: secure" mx-dane "status: ok" "security: secure" "mx: 10 mx.dane.test"
check "no TLSA record: notfound" tlsa-none "status: notfound"

# BOGUS (dane-bogus): retry, never data, why_bogus in the reason.
check "BOGUS TLSA: retry, security bogus" tlsa-bogus "status: retry" "security: bogus"
lacks tlsa-bogus '^tlsa:'
ok $? "BOGUS TLSA: no records returned" tlsa-bogus
check "BOGUS MX: retry, security bogus" mx-bogus "status: retry" "security: bogus"
block mx-bogus | grep -qE '^why: .*DNSSEC validation failed \(BOGUS\): .+[a-z]'
ok $? "BOGUS MX: the reason carries unbound's why_bogus text" mx-bogus
lacks mx-bogus '^mx:'
ok $? "BOGUS MX: no hosts returned" mx-bogus

# One bad signature (dane-bogus-sig): the TLSA RRset of danesig.test was
# changed after signing; the rest of the zone validates.
check "TLSA with a bad signature: retry, security bogus" tlsa-bogus-sig "status: retry" "security: bogus"
lacks tlsa-bogus-sig '^tlsa:'
ok $? "TLSA with a bad signature: no records returned" tlsa-bogus-sig
block tlsa-bogus-sig | grep -qE '^why: .*DNSSEC validation failed \(BOGUS\): .*signature'
ok $? "TLSA with a bad signature: why_bogus names the signature failure" tlsa-bogus-sig
check "MX of the same zone: ok, secure" mx-bogus-sig "status: ok" "security: secure" "mx: 10 mx.danesig.test"
check "A of the MX host in the same zone: ok, secure" addr-bogus-sig "status: ok" "security: secure"

# Unsigned zone (cert-profiles): insecure, split TXT strings joined.
check "split TXT \"part one, \" \"part two\" joined without spaces" txt-split \
    "status: ok" "txt: part one, part two"
check "split _mta-sts TXT joined: \"v=STSv1; id=9\"" txt-sts-split \
    "status: ok" "txt: v=STSv1; id=9"
check "MX in an unsigned zone: ok, insecure" mx-insecure \
    "status: ok" "security: insecure" "mx: 10 valid.certs.test"

# CNAME (cname-cert-mismatch): mxi1.cname.test CNAME smol.cname.test.
check "A via CNAME: ok, cname reported" addr-cname "status: ok" "cname: smol.cname.test"
check "MX target is the alias, not expanded" mx-cname "status: ok" "mx: 10 mxi1.cname.test"

# Null MX and implicit MX.
check "null MX (RFC 7505): ok, null_mx" mx-null "status: ok" "null_mx: 1"
lacks mx-null '^mx:'
ok $? "null MX: no hosts" mx-null
check "implicit MX (RFC 5321 section 5.1): the domain itself, preference 0" mx-implicit \
    "status: ok" "implicit: 1" "mx: 0 implicit.test"
check "no MX and no address: notfound" mx-none "status: notfound"
block mx-none | grep -q '^why: .*no MX record and no address record'
ok $? "no MX and no address: the reason says so" mx-none

# One handle, many threads.
check "16 concurrent lookups on one handle agree" threads "status: ok" "threads: agree"

# Invalid input: STATUS_INVAL, no crash.
check "empty label: inval" bad-name "status: inval" "exit: 0"
check "label of 64 octets: inval" long-name "status: inval" "exit: 0"
check "name longer than 253 octets: inval" too-long "status: inval" "exit: 0"
check "TLSA port 0: inval" bad-port "status: inval" "exit: 0"

# dns_create() errors name the cause.
block bad-option | grep -q 'no-such-option: 1' && has bad-option "exit: 2"
ok $? "a rejected resolver option is named, dns_create fails" bad-option
block bad-anchors | grep -q 'trust anchor file /nonexistent/anchors' && has bad-anchors "exit: 2"
ok $? "a missing trust anchor file is named, dns_create fails" bad-anchors

# A forwarder that never answers: retry at our deadline.
check "silent forwarder: retry" timeout "status: retry"
block timeout | grep -q '^why: .*timed out'
ok $? "silent forwarder: the lookup gave up at its deadline" timeout

echo "1..$n"
[ $fails -eq 0 ]
