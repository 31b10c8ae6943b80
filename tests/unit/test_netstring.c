/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_netstring 1
 * SUMMARY
 *	unit tests for netstring.c (socketmap framing)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_netstring
 * DESCRIPTION
 *	Table-driven from tests/unit/data/netstring-vectors.txt (its header
 *	gives the format). Every complete vector is also fed as each of its
 *	proper prefixes (all must say "more") and with trailing bytes (the
 *	same result). netstring_format() is checked to round-trip through
 *	the parser at every output size around the exact fit, with guard
 *	bytes.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "netstring.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

#define VECTORS	"netstring-vectors.txt"
#define GUARD	16
#define GUARD_BYTE 'Z'

typedef struct CTX {
    int     rows;
    int     failures;
} CTX;

static const char *test_netstring_name(int st)
{
    return (st == STATUS_OK ? "ok" : st == NETSTRING_MORE ? "more" : st == STATUS_INVAL ? "inval" : "?");
}

static int row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char    buf[256];
    size_t  len = testdata_len[0];
    long    max;
    long    consumed = 0;
    const char *data = 0;
    size_t  dlen = 0;
    size_t  used = 0;
    size_t  cut;
    int     st;

    if (nfield != 5)
	fail_msg("%s:%d: want 5 fields, got %d", VECTORS, lineno, nfield);
    if (str_to_long(field[1], 0, 1000000, &max) < 0 || len + 8 > sizeof(buf))
	fail_msg("%s:%d: bad max or input", VECTORS, lineno);
    memcpy(buf, field[0], len);
    c->rows++;
    st = netstring_parse(buf, len, (size_t) max, &data, &dlen, &used);
    if (strcmp(test_netstring_name(st), field[2]) != 0) {
	print_error("%s:%d: want %s, got %s\n", VECTORS, lineno, field[2], test_netstring_name(st));
	c->failures++;
	return (0);
    }
    if (st != STATUS_OK)
	return (0);
    if (str_to_long(field[4], 0, 1000000, &consumed) < 0)
	fail_msg("%s:%d: bad consumed", VECTORS, lineno);
    if (dlen != testdata_len[3] || memcmp(data, field[3], dlen) != 0 || used != (size_t) consumed
	|| data < buf || data + dlen > buf + len) {
	print_error("%s:%d: data or consumed differ (dlen %zu, consumed %zu)\n", VECTORS, lineno, dlen, used);
	c->failures++;
    }
    /* Every proper prefix is "more"; trailing bytes change nothing. */
    for (cut = 0; cut < len; cut++) {
	if (netstring_parse(buf, cut, (size_t) max, &data, &dlen, &used) != NETSTRING_MORE) {
	    print_error("%s:%d: prefix of %zu bytes is not \"more\"\n", VECTORS, lineno, cut);
	    c->failures++;
	}
    }
    memcpy(buf + len, "3:abc,", 6);
    if (netstring_parse(buf, len + 6, (size_t) max, &data, &dlen, &used) != STATUS_OK
	|| used != (size_t) consumed || dlen != testdata_len[3]) {
	print_error("%s:%d: trailing bytes changed the result\n", VECTORS, lineno);
	c->failures++;
    }
    return (0);
}

static void test_parse_vectors(void **state)
{
    CTX     c = {0, 0};

    (void) state;
    assert_true(testdata_rows(VECTORS, '|', row, &c) >= 30);
    assert_int_equal(c.failures, 0);
}

/* Two netstrings back to back: the second starts at consumed. */

static void test_parse_pipelined(void **state)
{
    static const char in[] = "7:postfix,11:mta-sts a.b,0:,";
    const char *data;
    size_t  dlen, used, off = 0;

    (void) state;
    assert_int_equal(netstring_parse(in, sizeof(in) - 1, 100, &data, &dlen, &used), STATUS_OK);
    assert_int_equal(dlen, 7);
    assert_memory_equal(data, "postfix", 7);
    off += used;
    assert_int_equal(netstring_parse(in + off, sizeof(in) - 1 - off, 100, &data, &dlen, &used), STATUS_OK);
    assert_int_equal(dlen, 11);
    assert_memory_equal(data, "mta-sts a.b", 11);
    off += used;
    assert_int_equal(netstring_parse(in + off, sizeof(in) - 1 - off, 100, &data, &dlen, &used), STATUS_OK);
    assert_int_equal(dlen, 0);
    off += used;
    assert_int_equal(off, sizeof(in) - 1);
}

/* The largest request Postfix sends is accepted; one byte more is not. */

static void test_parse_cap(void **state)
{
    char   *buf;
    size_t  n = NETSTRING_REQUEST_MAX;
    size_t  hlen = 7;				/* "100000:" */
    const char *data;
    size_t  dlen, used;

    (void) state;
    assert_non_null(buf = malloc(n + hlen + 2));
    memcpy(buf, "100000:", hlen);
    memset(buf + hlen, 'x', n);
    buf[hlen + n] = ',';
    assert_int_equal(netstring_parse(buf, hlen + n + 1, NETSTRING_REQUEST_MAX, &data, &dlen, &used), STATUS_OK);
    assert_int_equal(dlen, n);
    assert_int_equal(netstring_parse(buf, hlen + n + 1, NETSTRING_REQUEST_MAX - 1, &data, &dlen, &used),
		     STATUS_INVAL);
    free(buf);
}

/* netstring_format(): exact output, every size, round trip, guards. */

static void test_format(void **state)
{
    static const char *in[] = {"", "OK secure match=.example.net:mx.example.com servername=hostname",
    "NOTFOUND ", "a,b:c", 0};
    char    mem[GUARD + 256 + GUARD];
    char   *out = mem + GUARD;
    char    want[256];
    const char *data;
    size_t  dlen, used, olen, size, need;
    int     i, j, st;

    (void) state;
    for (i = 0; in[i]; i++) {
	(void) snprintf(want, sizeof(want), "%zu:%s,", strlen(in[i]), in[i]);
	need = strlen(want) + 1;
	for (size = 0; size <= need + 1; size++) {
	    memset(mem, GUARD_BYTE, sizeof(mem));
	    olen = 9999;
	    st = netstring_format(out, size, in[i], strlen(in[i]), &olen);
	    for (j = 0; j < GUARD; j++)
		assert_int_equal(mem[j], GUARD_BYTE);
	    for (j = (int) size; j < (int) size + GUARD; j++)
		assert_int_equal(out[j], GUARD_BYTE);
	    if (size < need) {
		assert_int_equal(st, STATUS_INVAL);
		assert_int_equal(olen, 9999);
		if (size > 0)
		    assert_int_equal(out[0], 0);
		continue;
	    }
	    assert_int_equal(st, STATUS_OK);
	    assert_string_equal(out, want);
	    assert_int_equal(olen, strlen(want));
	    assert_int_equal(netstring_parse(out, olen, 1000, &data, &dlen, &used), STATUS_OK);
	    assert_int_equal(used, olen);
	    assert_int_equal(dlen, strlen(in[i]));
	    assert_memory_equal(data, in[i], dlen);
	}
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse_vectors),
	cmocka_unit_test(test_parse_pipelined),
	cmocka_unit_test(test_parse_cap),
	cmocka_unit_test(test_format),
    };

    return (cmocka_run_group_tests_name("netstring", tests, 0, 0));
}
