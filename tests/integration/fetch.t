#!/bin/sh
# SPDX-License-Identifier: ISC
# Integration test (TAP): the RFC 8461 section 3.3 policy fetch (shared/fetch.c)
# against the world's real nginx policy hosts. Needs root.
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${STS_BUILDDIR:-$top}/tests/tools/fetch-policy
out=$(mktemp)

inside() {  # the checks, run inside the world
  f() { "$bin" --ca "$STS_WORLD_CA" --timeout-ms "${T:-4000}" "$@" 2>&1; echo "exit=$?"; }
  echo "== good";       f good.test
  echo "== private";    f --no-private good.test
  echo "== redirect";   f redirect.test
  echo "== ctype";      f ctype.test
  echo "== big";        f big.test
  echo "== webpki";     f webpki.test
  echo "== fetcherr";   f fetcherr.test
  echo "== gone";       f gone.certs.test
  echo "== stall";      T=1500 f stall.certs.test
  echo "== slow";       T=1500 f slow.certs.test
  echo "== access";     cat "$STS_WORLD/https/access.log"
}

if [ "${1:-}" = --inside ]; then inside; exit 0; fi
n=0
ok() {  # ok DESCRIPTION SECTION PATTERN...
  desc=$1 sec=$2; shift 2
  n=$((n + 1))
  body=$(awk -v s="== $sec" '$0==s{on=1;next} /^== /{on=0} on' "$out")
  for pat in "$@"; do
    if ! printf '%s\n' "$body" | grep -qE -- "$pat"; then
      echo "not ok $n - $desc"; printf '%s\n' "$body" | sed 's/^/#   /' | head -8; return
    fi
  done
  echo "ok $n - $desc"
}

if [ ! -x "$bin" ]; then echo "1..1"; echo "not ok 1 - $bin is built"; exit 1; fi
"$top/tests/world/run" seeds-fetch -- "$0" --inside > "$out" 2>&1
echo "1..12"
ok "a valid policy host: 200 text/plain, body returned" good 'reason=ok status=ok http=200 type=text/plain' 'mode: enforce' 'exit=0'
ok "a loopback policy host is refused without allow_private" private 'reason=sts-policy-fetch-error' 'loopback' 'exit=1'
ok "a redirect is not followed (RFC 8461 3.3)" redirect 'reason=sts-policy-fetch-error status=retry http=301' 'redirects are not followed'
ok "text/html is sts-policy-invalid (RFC 8461 3.2)" ctype 'reason=sts-policy-invalid status=fail http=200' 'not text/plain'
ok "a 65 KiB body is sts-policy-invalid, not truncated" big 'reason=sts-policy-invalid' 'exceeds 65536 bytes' 'len=0'
ok "an untrusted certificate is sts-webpki-invalid" webpki 'reason=sts-webpki-invalid status=fail'
ok "no address for the policy host is a fetch error" fetcherr 'reason=sts-policy-fetch-error status=retry' 'has no address'
ok "HTTP 404 is a fetch error" gone 'reason=sts-policy-fetch-error status=retry http=404' 'HTTP status 404'
ok "a stalled host ends at the timeout as a fetch error" stall 'reason=sts-policy-fetch-error status=retry' '[Tt]imeout|timed out'
ok "a slow host ends at the timeout as a fetch error" slow 'reason=sts-policy-fetch-error status=retry' '[Tt]imeout|timed out'
ok "the redirect target was never fetched" access 'mta-sts.redirect.test .*301'
n=$((n + 1))
gets=$(grep -c '^mta-sts.good.test .*GET /.well-known/mta-sts.txt' "$out")
if [ "$gets" -eq 1 ]; then echo "ok $n - the redirect target was fetched only by the direct fetch (1 GET)"
else echo "not ok $n - the redirect target was fetched only by the direct fetch"; echo "#   $gets GETs"; fi
rm -f "$out"
