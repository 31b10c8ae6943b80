/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_cache_probe 1
 * SUMMARY
 *	unit tests for cached probe results (issue 4)
 * DESCRIPTION
 *	- cache_probe_encode()/cache_probe_decode(): a round trip, and
 *	  every defect of an untrusted body rejected;
 *	- cache_encode()/cache_decode() of a probe record: round trip and
 *	  the kind's own checks (no id, no max_age, a bounded lifetime);
 *	- the in-process cache: a probe record lives its ttl (injectable
 *	  clock), keys differ by port and DANE flag, a policy lookup does
 *	  not see it, a ttl out of range is refused;
 *	- LMDB: a record stored by one cache is read by another (what a
 *	  second process sees), and a corrupt value is a counted miss;
 *	- cache_negative_decode()/cache_negative_encode(): the body of a
 *	  negative record, table-driven from cache-negative.txt, and a
 *	  round trip.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cache.h"
#include "cache_negative.h"
#include "cache_probe.h"
#include "clock.h"
#include "status.h"
#include "str.h"
#include "testdata.h"
#include "verdict.h"

static time_t fake_now = 1700000000;
static char dir[64];
static char path[128];

static time_t fake_clock(void)
{
    return (fake_now);
}

static void sample(VERDICT_HOST *h)
{
    memset(h, 0, sizeof(*h));
    (void) str_copy(h->name, sizeof(h->name), "mx1.example");
    h->passed = 1;
    h->probe_ms = 42;
    (void) str_copy(h->address, sizeof(h->address), "192.0.2.1");
    (void) str_copy(h->tls_version, sizeof(h->tls_version), "TLSv1.3");
    (void) str_copy(h->cert_issuer, sizeof(h->cert_issuer), "CN=Test CA, O=a=b");
    h->cert_not_after = 1800000000;
    h->cert_name_count = 2;
    (void) str_copy(h->cert_names[0], sizeof(h->cert_names[0]), "mx1.example");
    (void) str_copy(h->cert_names[1], sizeof(h->cert_names[1]), "*.example");
}

static void test_body_round_trip(void **state)
{
    VERDICT_HOST h, got;
    char    buf[CACHE_PROBE_BODY_MAX + 1];
    int     reason, secure;

    (void) state;
    sample(&h);
    assert_int_equal(cache_probe_encode(&h, 0, 1, buf, sizeof(buf)), STATUS_OK);
    memset(&got, 0, sizeof(got));
    assert_int_equal(cache_probe_decode(buf, &got, &reason, &secure), STATUS_OK);
    assert_int_equal(got.passed, 1);
    assert_int_equal(reason, 0);
    assert_int_equal(secure, 1);
    assert_int_equal(got.probe_ms, 42);
    assert_string_equal(got.address, "192.0.2.1");
    assert_string_equal(got.tls_version, "TLSv1.3");
    assert_string_equal(got.cert_issuer, "CN=Test CA, O=a=b");
    assert_int_equal(got.cert_not_after, 1800000000);
    assert_int_equal(got.cert_name_count, 2);
    assert_string_equal(got.cert_names[1], "*.example");

    /* A failure: reason and detail. */
    sample(&h);
    h.passed = 0;
    (void) str_copy(h.detail, sizeof(h.detail), "certificate has expired");
    assert_int_equal(cache_probe_encode(&h, 3, 0, buf, sizeof(buf)), STATUS_OK);
    assert_int_equal(cache_probe_decode(buf, &got, &reason, &secure), STATUS_OK);
    assert_int_equal(got.passed, 0);
    assert_int_equal(reason, 3);
    assert_int_equal(secure, 0);
    assert_string_equal(got.detail, "certificate has expired");

    /* Too small a buffer, and a reason out of range, are refused. */
    assert_int_equal(cache_probe_encode(&h, 3, 0, buf, 16), STATUS_INVAL);
    assert_int_equal(cache_probe_encode(&h, 100, 0, buf, sizeof(buf)), STATUS_INVAL);
}

static void test_body_rejects(void **state)
{
    static const char *bad[] = {
	"",
	"passed=1\nreason=0\nsecure=0\n",		/* no version */
	"v=2\npassed=1\nreason=0\nsecure=0\n",		/* unknown version */
	"v=1\npassed=1\nreason=0\n",			/* no secure */
	"v=1\nreason=0\nsecure=0\n",			/* no passed */
	"v=1\npassed=1\nsecure=0\n",			/* no reason */
	"v=1\npassed=1\nreason=0\nsecure=0",		/* no final newline */
	"v=1\npassed=1\nreason=3\nsecure=0\n",		/* a pass with a reason */
	"v=1\npassed=0\nreason=0\nsecure=0\n",		/* a failure without one */
	"v=1\npassed=2\nreason=0\nsecure=0\n",
	"v=1\npassed=1\nreason=0\nsecure=0\npassed=1\n",	/* twice */
	"v=1\npassed=1\nreason=0\nsecure=0\ncolor=red\n",	/* unknown name */
	"v=1\npassed=1\nreason=0\nsecure=0\nnoequals\n",
	"v=1\npassed=1\nreason=-1\nsecure=0\n",
	"v=1\npassed=1\nreason=0\nsecure=0\nms=x\n",
	"v=1\npassed=1\nreason=0\nsecure=0\ndetail=a\tb\n",	/* control character */
	"v=1\npassed=1\nreason=0\nsecure=0\ntls=TLSv1.3-with-a-very-long-name\n",	/* too long */
	"passed=1\nv=1\nreason=0\nsecure=0\n",		/* v not first */
	"v=1\npassed=1\nreason=0\nsecure=0\nname=a\nname=b\nname=c\nname=d\nname=e\nname=f\nname=g\nname=h\nname=i\n",
    };
    VERDICT_HOST got;
    size_t  i;
    int     reason, secure;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
	memset(&got, 0, sizeof(got));
	if (cache_probe_decode(bad[i], &got, &reason, &secure) != STATUS_INVAL)
	    fail_msg("accepted bad body %lu: %s", (unsigned long) i, bad[i]);
    }
    assert_int_equal(cache_probe_decode("v=1\npassed=1\nreason=0\nsecure=0\n", &got, &reason, &secure), STATUS_OK);
}

static void test_value_kind(void **state)
{
    CACHE_POLICY rec, got;
    unsigned char buf[CACHE_VALUE_MAX];
    size_t  len;
    static char body[] = "v=1\npassed=1\nreason=0\nsecure=0\n";

    (void) state;
    memset(&rec, 0, sizeof(rec));
    rec.kind = CACHE_KIND_PROBE;
    rec.fetched = fake_now;
    rec.checked = fake_now;
    rec.expires = fake_now + 3600;
    rec.body = body;
    rec.len = strlen(body);
    assert_int_equal(cache_encode(&rec, buf, sizeof(buf), &len), STATUS_OK);
    assert_int_equal(cache_decode(buf, len, &got), STATUS_OK);
    assert_int_equal(got.kind, CACHE_KIND_PROBE);
    assert_int_equal(got.expires, fake_now + 3600);
    assert_string_equal(got.body, body);
    cache_policy_clear(&got);

    /* Lifetime over a week. */
    rec.expires = fake_now + CACHE_PROBE_TTL_MAX + 1;
    assert_int_equal(cache_encode(&rec, buf, sizeof(buf), &len), STATUS_OK);
    assert_int_equal(cache_decode(buf, len, &got), STATUS_INVAL);
    /* Expires before fetched. */
    rec.expires = fake_now - 1;
    assert_int_equal(cache_encode(&rec, buf, sizeof(buf), &len), STATUS_OK);
    assert_int_equal(cache_decode(buf, len, &got), STATUS_INVAL);
    /* An id. */
    rec.expires = fake_now + 60;
    (void) str_copy(rec.txt_id, sizeof(rec.txt_id), "abc");
    assert_int_equal(cache_encode(&rec, buf, sizeof(buf), &len), STATUS_OK);
    assert_int_equal(cache_decode(buf, len, &got), STATUS_INVAL);
    /* A max_age. */
    rec.txt_id[0] = 0;
    rec.max_age = 60;
    assert_int_equal(cache_encode(&rec, buf, sizeof(buf), &len), STATUS_OK);
    assert_int_equal(cache_decode(buf, len, &got), STATUS_INVAL);
    /* Kind 4 does not exist. */
    rec.max_age = 0;
    assert_int_equal(cache_encode(&rec, buf, sizeof(buf), &len), STATUS_OK);
    buf[2] = 4;
    assert_int_equal(cache_decode(buf, len, &got), STATUS_INVAL);
}

static void test_memory_ttl_and_keys(void **state)
{
    CACHE  *c = 0;
    CACHE_POLICY got;
    char    key[CACHE_KEY_MAX];
    static const char body[] = "v=1\npassed=1\nreason=0\nsecure=0\n";

    (void) state;
    assert_int_equal(cache_create(100, &c, 0), STATUS_OK);
    assert_int_equal(cache_probe_key(key, sizeof(key), "mx1.example", 25, 1), 0);
    assert_string_equal(key, "p:mx1.example:25:1");
    assert_int_equal(cache_probe_key(key, sizeof(key), "mx1.example", 0, 1), -1);

    assert_int_equal(cache_probe_put(c, "mx1.example", 25, 0, body, 300), STATUS_OK);
    assert_int_equal(cache_probe_get(c, "mx1.example", 25, 0, 0, &got), STATUS_OK);
    assert_string_equal(got.body, body);
    cache_policy_clear(&got);
    /* Other port, other DANE flag, the domain record, the shared view: misses. */
    assert_int_equal(cache_probe_get(c, "mx1.example", 26, 0, 0, &got), STATUS_NOTFOUND);
    assert_int_equal(cache_probe_get(c, "mx1.example", 25, 1, 0, &got), STATUS_NOTFOUND);
    assert_int_equal(cache_policy_get(c, "mx1.example", &got), STATUS_NOTFOUND);
    assert_int_equal(cache_probe_get(c, "mx1.example", 25, 0, 1, &got), STATUS_NOTFOUND);
    /* Its lifetime. */
    fake_now += 299;
    assert_int_equal(cache_probe_get(c, "mx1.example", 25, 0, 0, &got), STATUS_OK);
    cache_policy_clear(&got);
    fake_now += 1;
    assert_int_equal(cache_probe_get(c, "mx1.example", 25, 0, 0, &got), STATUS_NOTFOUND);
    /* Out of range. */
    assert_int_equal(cache_probe_put(c, "mx1.example", 25, 0, body, 0), STATUS_INVAL);
    assert_int_equal(cache_probe_put(c, "mx1.example", 25, 0, body, CACHE_PROBE_TTL_MAX + 1), STATUS_INVAL);
    cache_free(&c);
}

static CACHE *open_lmdb(void)
{
    CACHE_OPTS o;
    CACHE  *c = 0;

    memset(&o, 0, sizeof(o));
    o.backend = CACHE_BACKEND_LMDB;
    o.memory_entries = 100;
    o.path = path;
    assert_int_equal(cache_open(&o, &c, 0), STATUS_OK);
    return (c);
}

static void test_lmdb_shared(void **state)
{
    CACHE  *a, *b;
    CACHE_OPTS o;
    CACHE_STORE st;
    CACHE_POLICY got;
    CACHE_STATS s;
    unsigned char junk[48];
    static const char body[] = "v=1\npassed=0\nreason=7\nsecure=1\ndetail=connection refused\n";

    (void) state;
    a = open_lmdb();
    b = open_lmdb();
    assert_int_equal(cache_probe_get(b, "mx2.example", 25, 1, 1, &got), STATUS_NOTFOUND);
    assert_int_equal(cache_probe_put(a, "mx2.example", 25, 1, body, 300), STATUS_OK);
    /* b's own L1 has nothing; the backend has a's record. */
    assert_int_equal(cache_probe_get(b, "mx2.example", 25, 1, 1, &got), STATUS_OK);
    assert_string_equal(got.body, body);
    cache_policy_clear(&got);
    cache_free(&a);
    cache_free(&b);

    /* A corrupt value: a miss, counted, removed. */
    memset(&o, 0, sizeof(o));
    o.path = path;
    memset(junk, 0x53, sizeof(junk));
    assert_int_equal(cache_lmdb_open(&o, &st, 0), STATUS_OK);
    assert_int_equal(st.put(st.ctx, "p:mx3.example:25:0", junk, sizeof(junk), 60), STATUS_OK);
    st.close(&st.ctx);
    a = open_lmdb();
    assert_int_equal(cache_probe_get(a, "mx3.example", 25, 0, 0, &got), STATUS_NOTFOUND);
    cache_stats(a, &s);
    assert_int_equal(s.corrupt, 1);
    cache_free(&a);
}

static int setup(void **state)
{
    (void) state;
    (void) str_copy(dir, sizeof(dir), "/tmp/test_cache_probe.XXXXXX");
    if (mkdtemp(dir) == 0)
	return (-1);
    (void) snprintf(path, sizeof(path), "%s/cache.lmdb", dir);
    clock_set_source(fake_clock);
    return (0);
}

static int teardown(void **state)
{
    char    lock[160];

    (void) state;
    (void) snprintf(lock, sizeof(lock), "%s-lock", path);
    (void) unlink(path);
    (void) unlink(lock);
    (void) rmdir(dir);
    clock_set_source(0);
    return (0);
}

/* cache-negative.txt */

static int negative_row(void *ctx, int lineno, int nfield, char **field)
{
    static VERDICT v;
    static VERDICT again;
    char    hosts[2048];
    char    body[VERDICT_HOSTS_MAX * 270 + 16];
    int    *rows = ctx;
    int     status;
    int     i;

    if (nfield != 4)
	fail_msg("cache-negative.txt:%d: want 4 fields", lineno);
    memset(&v, 0, sizeof(v));
    status = cache_negative_decode(field[0], &v);
    if (status != (strcmp(field[1], "OK") == 0 ? STATUS_OK : STATUS_INVAL))
	fail_msg("cache-negative.txt:%d: status %d, want %s", lineno, status, field[1]);
    if ((v.implicit_mx != 0) != (strcmp(field[2], "implicit") == 0))
	fail_msg("cache-negative.txt:%d: implicit %d, want %s", lineno, v.implicit_mx, field[2]);
    hosts[0] = 0;
    for (i = 0; i < v.host_count; i++)
	(void) str_appendf(hosts, sizeof(hosts), "%s%d %s", i ? "," : "", v.host[i].pref, v.host[i].name);
    if (strcmp(hosts[0] ? hosts : "-", field[3]) != 0)
	fail_msg("cache-negative.txt:%d: hosts \"%s\", want \"%s\"", lineno, hosts, field[3]);
    if (status == STATUS_OK) {
	assert_int_equal(cache_negative_encode(&v, body, sizeof(body)), STATUS_OK);
	memset(&again, 0, sizeof(again));
	assert_int_equal(cache_negative_decode(body, &again), STATUS_OK);
	assert_int_equal(again.host_count, v.host_count);
	assert_int_equal(again.implicit_mx, v.implicit_mx);
    }
    (*rows)++;
    return (0);
}

static void test_negative_body(void **state)
{
    int     rows = 0;
    int     n;

    (void) state;
    n = testdata_rows("cache-negative.txt", '|', negative_row, &rows);
    assert_int_equal(n, rows);
    assert_true(rows >= 14);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_body_round_trip),
	cmocka_unit_test(test_body_rejects),
	cmocka_unit_test(test_negative_body),
	cmocka_unit_test(test_value_kind),
	cmocka_unit_test(test_memory_ttl_and_keys),
	cmocka_unit_test(test_lmdb_shared),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
