#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): the SMTP STARTTLS probe (shared/probe.c) against the
# world's real Postfix MX hosts, tarpits and Knot DNS: every certificate
# profile (RFC 8461 section 4.2, RFC 8460 result types), no STARTTLS, a tarpit,
# and DANE (RFC 7672) with the world's signed TLSA records. Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${STS_BUILDDIR:-$top}/tests/tools/probe-mx
out=$(mktemp)

inside() {  # the probes, run inside the world
  p() { "$bin" --ca "$STS_WORLD_CA" "$@" 2>&1; echo "exit=$?"; }
  # spki HOST ADDRESS: SHA-256 of the public key the server presents (3 1 1)
  spki() {
    openssl s_client -starttls smtp -connect "$2:25" -servername "$1" </dev/null 2>/dev/null \
      | openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER \
      | openssl dgst -sha256 -r | cut -d' ' -f1
  }
  # issuer HOST ADDRESS: SHA-256 of the second certificate sent (2 0 1)
  issuer() {
    openssl s_client -starttls smtp -showcerts -connect "$2:25" -servername "$1" </dev/null 2>/dev/null \
      | awk '/BEGIN CERTIFICATE/{n++} n==2{print} /END CERTIFICATE/{if(n==2)exit}' \
      | openssl x509 -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1
  }
  case $STS_WORLD_SCENARIO in
  cert-profiles)
    for h in valid expired notyet wrongname selfsigned untrusted nointermediate wildcard cnonly; do
      echo "== $h"; p $h.certs.test $h.certs.test
    done
    echo "== upper";       p VALID.Certs.Test valid.certs.test
    wn=$(spki wrongname.certs.test wrongname.certs.test)
    ex=$(spki expired.certs.test expired.certs.test)
    ta=$(issuer valid.certs.test valid.certs.test)
    echo "== hashes wn=$wn ex=$ex ta=$ta"
    echo "== dane-ee-wrongname"; p --tlsa "3 1 1 $wn" wrongname.certs.test wrongname.certs.test
    echo "== dane-ee-expired";   p --tlsa "3 1 1 $ex" expired.certs.test expired.certs.test
    echo "== dane-ee-other";     p --tlsa "3 1 1 $ex" wrongname.certs.test wrongname.certs.test
    echo "== dane-ta-valid";     p --tlsa "2 0 1 $ta" valid.certs.test valid.certs.test
    echo "== dane-ta-wrongname"; p --tlsa "2 0 1 $ta" wrongname.certs.test wrongname.certs.test
    echo "== tlsa-insecure";     p --tlsa-insecure --tlsa "3 1 1 $ex" valid.certs.test valid.certs.test
    echo "== tlsa-unusable";     p --tlsa "1 1 1 $ex" --tlsa "3 1 1 00" valid.certs.test valid.certs.test
    echo "== no-private";        p --no-private valid.certs.test valid.certs.test
    echo "== fallback";          p valid.certs.test 127.9.9.9 valid.certs.test
    echo "== unreachable";       p valid.certs.test 127.9.9.9
    ;;
  no-starttls)
    echo "== plain"; p mx.plain.test mx.plain.test
    ;;
  tarpit-first)
    echo "== slow"; p --timeout-ms 1500 slow.tarpit.test slow.tarpit.test
    echo "== fast"; p --timeout-ms 1500 fast.tarpit.test fast.tarpit.test
    ;;
  dane-valid)
    rec=$(dig +short TLSA _25._tcp.mx.dane.test @"$STS_WORLD_DNS" \
      | awk '{u=$1; s=$2; m=$3; $1=$2=$3=""; gsub(/ /, ""); print u, s, m, $0; exit}')
    echo "== record $rec"
    echo "== dane";     p --tlsa "$rec" mx.dane.test mx.dane.test
    echo "== mismatch"; p --tlsa "3 1 1 $(printf '%064d' 0)" mx.dane.test mx.dane.test
    ;;
  esac
}

if [ "${1:-}" = --inside ]; then inside; exit 0; fi
n=0
ok() {  # ok DESCRIPTION SECTION PATTERN...
  desc=$1 sec=$2; shift 2
  n=$((n + 1))
  body=$(awk -v s="== $sec" '$0==s{on=1;next} /^== /{on=0} on' "$out")
  for pat in "$@"; do
    if ! printf '%s\n' "$body" | grep -qE -- "$pat"; then
      echo "not ok $n - $desc"; echo "#   missing: $pat"
      printf '%s\n' "$body" | sed 's/^/#   /' | head -12; return
    fi
  done
  echo "ok $n - $desc"
}

if [ ! -x "$bin" ]; then echo "1..1"; echo "not ok 1 - $bin is built"; exit 1; fi
: > "$out"
for w in cert-profiles no-starttls tarpit-first dane-valid; do
  "$top/tests/world/run" "$w" -- "$0" --inside >> "$out" 2>&1 || echo "== world $w failed: $?" >> "$out"
done

echo "1..27"
ok "valid: PKIX passes; names, issuer, TLS version, notAfter, banner recorded" valid \
  '^reason=ok status=ok dane=0' '^names=valid\.certs\.test$' '^issuer=.+' '^tls=TLSv1\.[23]$' \
  '^not_after=[1-9][0-9]{9}$' '^banner=valid\.certs\.test' '^address=127\.[0-9.]+:25$' 'exit=0'
ok "expired: certificate-expired (RFC 8460)" expired \
  '^reason=certificate-expired status=fail' 'expired' 'exit=1'
ok "not yet valid: validation-failure, detail says not yet valid" notyet \
  '^reason=validation-failure status=fail' 'not yet valid' 'exit=1'
ok "wrong name: certificate-host-mismatch, the names are reported" wrongname \
  '^reason=certificate-host-mismatch status=fail' '^names=wrong-name\.invalid$' 'exit=1'
ok "self-signed: certificate-not-trusted" selfsigned \
  '^reason=certificate-not-trusted status=fail' 'self-signed' 'exit=1'
ok "issued by an unknown CA: certificate-not-trusted" untrusted \
  '^reason=certificate-not-trusted status=fail' 'issuer' 'exit=1'
ok "intermediate not sent: certificate-not-trusted" nointermediate \
  '^reason=certificate-not-trusted status=fail' 'exit=1'
ok "wildcard as the whole leftmost label matches (RFC 6125)" wildcard \
  '^reason=ok status=ok' '^names=\*\.certs\.test$' 'exit=0'
ok "name only in the subject CN: certificate-host-mismatch (SAN only)" cnonly \
  '^reason=certificate-host-mismatch status=fail' '^names=$' '^cn=cnonly\.certs\.test$' 'exit=1'
ok "MX names compare case-insensitively" upper '^reason=ok status=ok' 'exit=0'
hashes=$(grep '^== hashes ' "$out")
n=$((n + 1))
if printf '%s\n' "$hashes" | grep -qE '^== hashes wn=[0-9a-f]{64} ex=[0-9a-f]{64} ta=[0-9a-f]{64}$'
then echo "ok $n - the SPKI and issuer hashes were computed in the world"
else echo "not ok $n - the SPKI and issuer hashes were computed in the world"; echo "#   $hashes"; fi
ok "DANE-EE(3) ignores the names: wrong-name certificate passes (RFC 7672 3.1.1)" dane-ee-wrongname \
  '^reason=ok status=ok dane=1' 'TLSA 3 1 1 matched at depth 0' 'exit=0'
ok "DANE-EE(3) ignores the validity dates: expired certificate passes (RFC 7672 3.1.1)" dane-ee-expired \
  '^reason=ok status=ok dane=1' 'exit=0'
ok "DANE-EE(3) with another host's key: tlsa-invalid" dane-ee-other \
  '^reason=tlsa-invalid status=fail dane=0' 'no TLSA record matches' 'exit=1'
ok "DANE-TA(2) on the intermediate: passes without the WebPKI root" dane-ta-valid \
  '^reason=ok status=ok dane=1' 'TLSA 2 0 1 matched at depth 1' 'exit=0'
ok "DANE-TA(2) still checks the name: certificate-host-mismatch (RFC 7672 3.2.2)" dane-ta-wrongname \
  '^reason=certificate-host-mismatch status=fail dane=0' 'exit=1'
ok "TLSA that is not DNSSEC-secure is ignored; PKIX decides" tlsa-insecure \
  '^reason=ok status=ok dane=0' 'not DNSSEC-secure' 'exit=0'
ok "TLSA with no usable record (PKIX-EE, bad digest length): PKIX, and the detail says so" tlsa-unusable \
  '^reason=ok status=ok dane=0' 'no usable TLSA record' 'exit=0'
ok "a loopback address is refused without allow_private" no-private \
  '^reason=unreachable status=retry' 'loopback' 'exit=1'
ok "a refused address is skipped, the next one gives the result" fallback \
  '^reason=ok status=ok' '^address=127\.1\.[0-9.]+:25$' 'exit=0'
ok "nothing listening: unreachable, the detail names the address" unreachable \
  '^reason=unreachable status=retry' '127\.9\.9\.9:25: Connection refused' 'exit=1'
ok "no STARTTLS in the EHLO reply: starttls-not-supported" plain \
  '^reason=starttls-not-supported status=fail' 'STARTTLS not offered' '^banner=mx\.plain\.test' 'exit=1'
ok "tarpit: timeout while waiting for the greeting" slow \
  '^reason=timeout status=retry' 'timeout waiting for the server greeting' 'exit=1'
n=$((n + 1))
ms=$(awk '/^== slow$/{on=1;next} /^== /{on=0} on && /^reason=/{sub(/.*elapsed_ms=/, ""); print; exit}' "$out")
if [ -n "$ms" ] && [ "$ms" -ge 1400 ] && [ "$ms" -le 2500 ]; then
  echo "ok $n - the tarpit probe ends at the 1500 ms deadline (${ms} ms)"
else echo "not ok $n - the tarpit probe ends at the 1500 ms deadline"; echo "#   elapsed: ${ms:-none}"; fi
ok "the healthy second MX passes" fast '^reason=ok status=ok' 'exit=0'
ok "DANE with the world's signed TLSA 3 1 1 record: ok, dane=1" dane \
  '^reason=ok status=ok dane=1' 'TLSA 3 1 1 matched' 'exit=0'
ok "a TLSA record that matches nothing: tlsa-invalid (RFC 8460)" mismatch \
  '^reason=tlsa-invalid status=fail dane=0' 'exit=1'
if grep -q '^== world ' "$out"; then
  grep '^== world ' "$out" | sed 's/^/# /'
fi
rm -f "$out"
