/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_cache 1
 * SUMMARY
 *	libFuzzer target for the cache value decoders (cache.h VALUE
 *	FORMAT and PROBE BODY, cache_probe.h)
 * DESCRIPTION
 *	Backend data is untrusted: an LMDB file or a Redis server (or
 *	anyone who can write to it) hands back arbitrary bytes under a
 *	key. Both backends store the same value format, so one decoder,
 *	cache_decode(), reads policy, negative and probe records alike.
 *
 *	The input is one stored value. It goes through cache_decode();
 *	when that accepts it, the record must satisfy the documented
 *	invariants (kind 1-3 or 5, an id of at most 32 ALPHA/DIGIT, a body of
 *	at most CACHE_BODY_MAX octets, NUL-terminated; a policy expires at
 *	fetched + max_age; a probe record has no id, no max_age, a body of
 *	at most CACHE_PROBE_BODY_MAX and a lifetime of at most a week; the
 *	purge notices have no id, no max_age and expire after they were
 *	written),
 *	and cache_encode() of the record must give back exactly the input
 *	octets (the format has one encoding per record).
 *
 *	The input, as a string, and the body of a decoded negative record
 *	go through cache_negative_decode(). When that accepts, there are 1
 *	to VERDICT_HOSTS_MAX hosts with preferences 0-65535 and non-empty
 *	names of lowercase letters, digits, "-", "." and "_", and
 *	cache_negative_encode() of the result decodes to the same hosts;
 *	when it refuses, no host and no implicit flag are left.
 *
 *	The input, as a string, and the body of a decoded probe record go
 *	through cache_probe_decode(). When that accepts, the host fields
 *	must be printable and NUL-terminated in their sizes, reason 0
 *	exactly when passed; cache_probe_encode() of the result, when it
 *	fits, must decode again to the same fields (the body has one
 *	meaning, whatever the order of its lines).
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 70000 (past CACHE_VALUE_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_negative.h"
#include "cache_probe.h"
#include "status.h"
#include "verdict.h"

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

/* __ubsan_default_options - make UBSan findings fatal, so libFuzzer saves them */

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

/* fuzz_fail - report a broken property; libFuzzer saves the input */

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_cache: property violated: %s\n", what);
    abort();
}

/* fuzz_text_ok - NUL-terminated within size, no control octet */

static void fuzz_text_ok(const char *s, size_t size, const char *what)
{
    size_t  n = strnlen(s, size);
    size_t  i;

    if (n >= size)
	fuzz_fail(what);
    for (i = 0; i < n; i++)
	if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
	    fuzz_fail(what);
}

/* fuzz_same_host - the fields cache_probe_decode() writes are equal */

static int fuzz_same_host(const VERDICT_HOST *a, const VERDICT_HOST *b)
{
    int     i;

    if (a->passed != b->passed || a->probe_ms != b->probe_ms
	|| a->cert_not_after != b->cert_not_after
	|| a->cert_name_count != b->cert_name_count
	|| strcmp(a->detail, b->detail) != 0 || strcmp(a->address, b->address) != 0
	|| strcmp(a->tls_version, b->tls_version) != 0
	|| strcmp(a->cert_issuer, b->cert_issuer) != 0 || strcmp(a->cname, b->cname) != 0)
	return (0);
    for (i = 0; i < a->cert_name_count; i++)
	if (strcmp(a->cert_names[i], b->cert_names[i]) != 0)
	    return (0);
    return (1);
}

/* fuzz_probe_body - cache_probe_decode() and its round trip */

static void fuzz_probe_body(const char *body)
{
    static VERDICT_HOST h;
    static VERDICT_HOST again;
    static char buf[CACHE_PROBE_BODY_MAX + 1];
    int     reason;
    int     secure;
    int     reason2;
    int     secure2;
    int     i;

    memset(&h, 0, sizeof(h));
    if (cache_probe_decode(body, &h, &reason, &secure) != STATUS_OK)
	return;
    if (reason < 0 || reason > 99 || (secure != 0 && secure != 1)
	|| (h.passed != 0 && h.passed != 1))
	fuzz_fail("probe body: reason, secure or passed out of range");
    if (h.passed != (reason == 0))
	fuzz_fail("probe body: passed and reason disagree");
    if (h.probe_ms < 0 || h.cert_not_after < 0)
	fuzz_fail("probe body: negative ms or not_after");
    if (h.cert_name_count < 0 || h.cert_name_count > 8)
	fuzz_fail("probe body: more than 8 names");
    fuzz_text_ok(h.detail, sizeof(h.detail), "probe body: detail not clean text");
    fuzz_text_ok(h.address, sizeof(h.address), "probe body: address not clean text");
    fuzz_text_ok(h.tls_version, sizeof(h.tls_version), "probe body: tls not clean text");
    fuzz_text_ok(h.cert_issuer, sizeof(h.cert_issuer), "probe body: issuer not clean text");
    fuzz_text_ok(h.cname, sizeof(h.cname), "probe body: cname not clean text");
    for (i = 0; i < h.cert_name_count; i++)
	fuzz_text_ok(h.cert_names[i], sizeof(h.cert_names[i]), "probe body: name not clean text");

    /* Encode again: it may not fit (missing optional lines are added). */
    if (cache_probe_encode(&h, reason, secure, buf, sizeof(buf)) != STATUS_OK) {
	if (strlen(body) + 64 < CACHE_PROBE_BODY_MAX)
	    fuzz_fail("probe body: a decoded body does not encode again");
	return;
    }
    if (strlen(buf) > CACHE_PROBE_BODY_MAX)
	fuzz_fail("probe body: encoding over CACHE_PROBE_BODY_MAX");
    memset(&again, 0, sizeof(again));
    if (cache_probe_decode(buf, &again, &reason2, &secure2) != STATUS_OK)
	fuzz_fail("probe body: own encoding rejected");
    if (reason2 != reason || secure2 != secure || !fuzz_same_host(&h, &again))
	fuzz_fail("probe body: round trip changed a field");
}

/* fuzz_negative_body - cache_negative_decode() and its round trip */

static void fuzz_negative_body(const char *body)
{
    static VERDICT v;
    static VERDICT again;
    static char copy[CACHE_BODY_MAX + 1];
    static char buf[VERDICT_HOSTS_MAX * 270 + 16];
    const char *p;
    int     i;

    if (strlen(body) > CACHE_BODY_MAX)
	return;
    memcpy(copy, body, strlen(body) + 1);
    v.host_count = 0;
    v.implicit_mx = 0;
    if (cache_negative_decode(copy, &v) != STATUS_OK) {
	if (v.host_count != 0 || v.implicit_mx != 0)
	    fuzz_fail("negative body: hosts left after a refusal");
	return;
    }
    if (v.host_count < 1 || v.host_count > VERDICT_HOSTS_MAX)
	fuzz_fail("negative body: host count out of 1..VERDICT_HOSTS_MAX");
    for (i = 0; i < v.host_count; i++) {
	if (v.host[i].pref < 0 || v.host[i].pref > 65535 || v.host[i].name[0] == 0)
	    fuzz_fail("negative body: bad preference or empty name");
	for (p = v.host[i].name; *p; p++)
	    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')
		  || *p == '-' || *p == '.' || *p == '_'))
		fuzz_fail("negative body: name outside LDH, dot, underscore");
    }
    if (cache_negative_encode(&v, buf, sizeof(buf)) != STATUS_OK)
	fuzz_fail("negative body: a decoded body does not encode again");
    again.host_count = 0;
    again.implicit_mx = 0;
    if (cache_negative_decode(buf, &again) != STATUS_OK)
	fuzz_fail("negative body: own encoding rejected");
    if (again.host_count != v.host_count || again.implicit_mx != v.implicit_mx)
	fuzz_fail("negative body: round trip changed the hosts");
    for (i = 0; i < v.host_count; i++)
	if (again.host[i].pref != v.host[i].pref || strcmp(again.host[i].name, v.host[i].name) != 0)
	    fuzz_fail("negative body: round trip changed a host");
}

/* fuzz_value - cache_decode() and the exact round trip */

static void fuzz_value(const uint8_t *data, size_t size)
{
    static unsigned char buf[CACHE_VALUE_MAX];
    CACHE_POLICY rec;
    size_t  len = 0;
    size_t  i;
    int     status;

    memset(&rec, 0x5a, sizeof(rec));
    status = cache_decode(data, size, &rec);
    if (status != STATUS_OK) {
	if (status != STATUS_INVAL)
	    fuzz_fail("cache_decode returned an undocumented status");
	if (rec.body != 0)
	    fuzz_fail("cache_decode left a body after an error");
	return;
    }
    if (rec.kind != CACHE_KIND_POLICY && rec.kind != CACHE_KIND_NEGATIVE
	&& rec.kind != CACHE_KIND_PROBE && rec.kind != CACHE_KIND_PURGES)
	fuzz_fail("cache_decode: kind out of range");
    if (rec.body == 0 || rec.len > CACHE_BODY_MAX || rec.body[rec.len] != 0)
	fuzz_fail("cache_decode: body missing, too long or not NUL-terminated");
    if (strnlen(rec.txt_id, sizeof(rec.txt_id)) > 32)
	fuzz_fail("cache_decode: id over 32 octets");
    for (i = 0; rec.txt_id[i]; i++) {
	char    c = rec.txt_id[i];

	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
	    fuzz_fail("cache_decode: id outside ALPHA / DIGIT");
    }
    if (rec.max_age < 0 || rec.max_age > CACHE_MAX_AGE_MAX)
	fuzz_fail("cache_decode: max_age out of range");
    if (rec.fetched < 0 || rec.checked < 0 || rec.expires < 0)
	fuzz_fail("cache_decode: negative time");
    if (rec.kind == CACHE_KIND_POLICY && rec.expires != rec.fetched + rec.max_age)
	fuzz_fail("cache_decode: policy expiry is not fetched + max_age");
    if (rec.kind == CACHE_KIND_PROBE
	&& (rec.txt_id[0] || rec.max_age || rec.len > CACHE_PROBE_BODY_MAX
	    || rec.expires < rec.fetched || rec.expires > rec.fetched + CACHE_PROBE_TTL_MAX))
	fuzz_fail("cache_decode: probe record out of its bounds");
    if (rec.kind == CACHE_KIND_PURGES && (rec.txt_id[0] || rec.max_age || rec.expires < rec.fetched))
	fuzz_fail("cache_decode: purge notices out of their bounds");

    /* One encoding per record: encoding it again gives the input back. */
    if (cache_encode(&rec, buf, sizeof(buf), &len) != STATUS_OK)
	fuzz_fail("cache_encode rejected a decoded record");
    if (len != size || memcmp(buf, data, size) != 0)
	fuzz_fail("cache_encode(cache_decode(value)) differs from the value");

    if (rec.kind == CACHE_KIND_PROBE && strlen(rec.body) == rec.len)
	fuzz_probe_body(rec.body);
    if (rec.kind == CACHE_KIND_NEGATIVE && strlen(rec.body) == rec.len)
	fuzz_negative_body(rec.body);
    cache_policy_clear(&rec);
    if (rec.body != 0)
	fuzz_fail("cache_policy_clear left the body");
}

/* LLVMFuzzerTestOneInput - one stored value; also read as a probe body */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *text;

    fuzz_value(data, size);
    if (size <= CACHE_PROBE_BODY_MAX * 2 && (text = malloc(size + 1)) != 0) {
	memcpy(text, data, size);
	text[size] = 0;
	fuzz_probe_body(text);
	fuzz_negative_body(text);
	free(text);
    }
    return (0);
}
