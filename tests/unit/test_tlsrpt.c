/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_tlsrpt 1
 * SUMMARY
 *	unit tests for tlsrpt.c (RFC 8460 section 3 TLS-RPT records)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_tlsrpt
 * DESCRIPTION
 *	Table-driven from tests/unit/data (each file's header gives its
 *	format):
 *
 *	tlsrpt-vectors.txt	tlsrpt_parse(): the ABNF, rua and its URIs
 *				(mailto:, https: through libcurl, other
 *				schemes), extensions, separators, case.
 *	tlsrpt-select-vectors.txt tlsrpt_select(): discarding, one record.
 *
 *	Every input is copied into an allocation of its exact length, so
 *	that a read past len is seen by AddressSanitizer. Further tests
 *	cover the caps (record length, URI length, URI count) and null
 *	arguments.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "status.h"
#include "str.h"
#include "testdata.h"
#include "tlsrpt.h"

#define PARSE_FILE	"tlsrpt-vectors.txt"
#define SELECT_FILE	"tlsrpt-select-vectors.txt"

typedef struct CTX {
    const char *file;
    int     failures;
} CTX;

/* test_tlsrpt_dup - copy exactly len octets into their own allocation */

static char *test_tlsrpt_dup(const char *s, size_t len)
{
    char   *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    memcpy(copy, s, len);
    return (copy);
}

/* test_tlsrpt_status - "ok", "notfound", "inval" */

static int test_tlsrpt_status(const char *word, const char *file, int lineno)
{
    if (strcmp(word, "ok") == 0)
	return (STATUS_OK);
    if (strcmp(word, "notfound") == 0)
	return (STATUS_NOTFOUND);
    if (strcmp(word, "inval") == 0)
	return (STATUS_INVAL);
    fail_msg("%s:%d: bad status \"%s\"", file, lineno, word);
    return (-1);
}

/* test_tlsrpt_format - the parsed URIs as "M:uri H:uri ..." */

static void test_tlsrpt_format(const TLSRPT_RECORD *rec, char *buf, size_t size)
{
    int     i;

    buf[0] = 0;
    for (i = 0; i < rec->rua_count; i++)
	(void) str_appendf(buf, size, "%s%s:%s", i ? " " : "",
			   rec->rua[i].kind == TLSRPT_MAILTO ? "M"
			   : rec->rua[i].kind == TLSRPT_HTTPS ? "H" : "?",
			   rec->rua[i].uri);
}

/* test_tlsrpt_check - compare a result with the row's expectation */

static void test_tlsrpt_check(CTX *c, int lineno, int want, int st,
			              const char *expect, const TLSRPT_RECORD *rec,
			              const WHY *why)
{
    char    got[8192];

    test_tlsrpt_format(rec, got, sizeof(got));
    if (st != want
	|| (st == STATUS_OK && strcmp(got, expect) != 0)
	|| (st != STATUS_OK && (strstr(why->text, expect) == 0 || rec->rua_count != 0))) {
	print_error("%s:%d: want %s \"%s\", got %s \"%.200s\" (%s)\n", c->file, lineno,
		    status_name(want), expect, status_name(st), got, why->text);
	c->failures++;
    }
}

/* parse_row - one tlsrpt_parse() vector */

static int parse_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    TLSRPT_RECORD rec;
    WHY     why;
    char   *in;
    int     st;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", c->file, lineno, nfield);
    in = test_tlsrpt_dup(field[0], testdata_len[0]);
    memset(&rec, 'X', sizeof(rec));
    why.text[0] = 0;
    st = tlsrpt_parse(in, testdata_len[0], &rec, &why);
    free(in);
    test_tlsrpt_check(c, lineno, test_tlsrpt_status(field[1], c->file, lineno), st,
		      field[2], &rec, &why);
    return (0);
}

static void test_parse(void **state)
{
    CTX     c = {PARSE_FILE, 0};

    assert_true(testdata_rows(c.file, '|', parse_row, &c) >= 60);
    assert_int_equal(c.failures, 0);
}

/* select_row - one tlsrpt_select() vector */

static int select_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char   *rec[TESTDATA_MAX_FIELDS];
    size_t  len[TESTDATA_MAX_FIELDS];
    size_t  count = 0;
    TLSRPT_RECORD out;
    WHY     why;
    int     st;
    int     i;

    if (nfield < 3)
	fail_msg("%s:%d: want at least 3 fields", c->file, lineno);
    for (i = 2; i < nfield; i++) {
	rec[count] = test_tlsrpt_dup(field[i], testdata_len[i]);
	len[count++] = testdata_len[i];
    }
    memset(&out, 'X', sizeof(out));
    why.text[0] = 0;
    st = tlsrpt_select((const char *const *) rec, len, count, &out, &why);
    test_tlsrpt_check(c, lineno, test_tlsrpt_status(field[0], c->file, lineno), st,
		      field[1], &out, &why);
    while (count > 0)
	free(rec[--count]);
    return (0);
}

static void test_select(void **state)
{
    CTX     c = {SELECT_FILE, 0};
    TLSRPT_RECORD out;
    WHY     why;

    assert_true(testdata_rows(c.file, '|', select_row, &c) >= 16);
    assert_int_equal(c.failures, 0);

    /* No records at all: nothing found. */
    assert_int_equal(tlsrpt_select(0, 0, 0, &out, &why), STATUS_NOTFOUND);
    assert_int_equal(tlsrpt_select(0, 0, 0, 0, 0), STATUS_NOTFOUND);
}

/* TLSRPT_RECORD_MAX: the longest record parses, one more octet does not. */

static void test_record_cap(void **state)
{
    char   *rec = malloc(TLSRPT_RECORD_MAX + 1);
    TLSRPT_RECORD out;
    WHY     why;

    assert_non_null(rec);
    memset(rec, 'a', TLSRPT_RECORD_MAX + 1);
    memcpy(rec, "v=TLSRPTv1; rua=mailto:a@b; x=", 30);
    assert_int_equal(tlsrpt_parse(rec, TLSRPT_RECORD_MAX, &out, &why), STATUS_OK);
    assert_int_equal(out.rua_count, 1);
    assert_string_equal(out.rua[0].uri, "mailto:a@b");
    assert_int_equal(tlsrpt_parse(rec, TLSRPT_RECORD_MAX + 1, &out, &why), STATUS_INVAL);
    assert_non_null(strstr(why.text, "longer than"));
    assert_int_equal(out.rua_count, 0);
    free(rec);
}

/* TLSRPT_URI_MAX: a URI of TLSRPT_URI_MAX - 1 octets fits, one more does not. */

static void test_uri_cap(void **state)
{
    char    rec[TLSRPT_URI_MAX + 64];
    char    uri[TLSRPT_URI_MAX + 1];
    TLSRPT_RECORD out;
    WHY     why;
    size_t  n;

    memset(uri, 'a', sizeof(uri));
    memcpy(uri, "mailto:x@", 9);
    uri[TLSRPT_URI_MAX - 1] = 0;
    n = (size_t) snprintf(rec, sizeof(rec), "v=TLSRPTv1; rua=%s", uri);
    assert_int_equal(tlsrpt_parse(rec, n, &out, &why), STATUS_OK);
    assert_int_equal(out.rua_count, 1);
    assert_string_equal(out.rua[0].uri, uri);

    memset(uri, 'a', sizeof(uri));
    memcpy(uri, "mailto:x@", 9);
    uri[TLSRPT_URI_MAX] = 0;
    n = (size_t) snprintf(rec, sizeof(rec), "v=TLSRPTv1; rua=%s", uri);
    assert_int_equal(tlsrpt_parse(rec, n, &out, &why), STATUS_INVAL);
    assert_non_null(strstr(why.text, "longer than 511"));
}

/* TLSRPT_RUA_MAX: 16 URIs are kept, a 17th is refused, skipped ones do not count. */

static void test_count_cap(void **state)
{
    char    rec[2048];
    TLSRPT_RECORD out;
    WHY     why;
    int     i;

    (void) str_copy(rec, sizeof(rec), "v=TLSRPTv1; rua=ftp://skip.test/");
    for (i = 0; i < TLSRPT_RUA_MAX; i++)
	assert_int_equal(str_appendf(rec, sizeof(rec), ",mailto:r%d@b.test", i), 0);
    assert_int_equal(tlsrpt_parse(rec, strlen(rec), &out, &why), STATUS_OK);
    assert_int_equal(out.rua_count, TLSRPT_RUA_MAX);
    assert_string_equal(out.rua[0].uri, "mailto:r0@b.test");
    assert_string_equal(out.rua[TLSRPT_RUA_MAX - 1].uri, "mailto:r15@b.test");

    assert_int_equal(str_appendf(rec, sizeof(rec), ",https://r.test/"), 0);
    assert_int_equal(tlsrpt_parse(rec, strlen(rec), &out, &why), STATUS_INVAL);
    assert_non_null(strstr(why.text, "more than 16 rua URIs"));
    assert_int_equal(out.rua_count, 0);
}

/* Null arguments: an error, or (out, why) simply not written. */

static void test_null_args(void **state)
{
    WHY     why;

    assert_int_equal(tlsrpt_parse(0, 0, 0, &why), STATUS_INVAL);
    assert_int_equal(tlsrpt_parse("v=TLSRPTv1;rua=mailto:a@b", 25, 0, 0), STATUS_OK);
    assert_int_equal(tlsrpt_parse("v=TLSRPTv1;rua=", 15, 0, 0), STATUS_INVAL);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_select),
	cmocka_unit_test(test_record_cap),
	cmocka_unit_test(test_uri_cap),
	cmocka_unit_test(test_count_cap),
	cmocka_unit_test(test_null_args),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
