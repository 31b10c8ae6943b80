/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_str 1
 * SUMMARY
 *	unit tests for str.c (bounded string helpers)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_str
 * DESCRIPTION
 *	Table-driven from tests/unit/data:
 *
 *	str-copy.txt	str_copy() and str_append(): result, return value,
 *			and no byte written outside dst[0..size-1] (guard
 *			bytes on both sides).
 *	str-appendf.txt	str_appendf() with a fixed format.
 *	str-to-long.txt	str_to_long(): whole-string, range, overflow;
 *			out unchanged on failure.
 *	str-lower.txt	str_lower().
 *	str-trim.txt	str_trim().
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "str.h"
#include "testdata.h"

#define GUARD		16		/* guard bytes on each side */
#define GUARD_BYTE	'Z'
#define BUF_MAX		256

typedef struct GUARDED {
    char    mem[GUARD + BUF_MAX + GUARD];
    size_t  size;
} GUARDED;

/* guarded_init - buffer of size bytes, guards and body filled with 'Z' */

static char *guarded_init(GUARDED *g, size_t size)
{
    assert_true(size <= BUF_MAX);
    memset(g->mem, GUARD_BYTE, sizeof(g->mem));
    g->size = size;
    return (g->mem + GUARD);
}

/* guarded_check - nothing written before dst or at/after dst[size] */

static void guarded_check(const GUARDED *g, const char *file, int lineno)
{
    size_t  i;

    for (i = 0; i < GUARD; i++)
	if (g->mem[i] != GUARD_BYTE)
	    fail_msg("%s:%d: write before the buffer", file, lineno);
    for (i = GUARD + g->size; i < sizeof(g->mem); i++)
	if (g->mem[i] != GUARD_BYTE)
	    fail_msg("%s:%d: write at or beyond dst[size]", file, lineno);
}

static long row_long(const char *s, const char *file, int lineno)
{
    long    val;

    if (strcmp(s, "LONG_MIN") == 0)
	return (LONG_MIN);
    if (strcmp(s, "LONG_MAX") == 0)
	return (LONG_MAX);
    if (str_to_long(s, LONG_MIN, LONG_MAX, &val) < 0)
	fail_msg("%s:%d: bad number \"%s\" in the table", file, lineno, s);
    return (val);
}

/* str-copy.txt */

static int copy_row(void *ctx, int lineno, int nfield, char **field)
{
    GUARDED g;
    char   *dst;
    long    size;
    long    want_ret;
    int     ret = -2;

    if (nfield != 6)
	fail_msg("str-copy.txt:%d: want 6 fields, got %d", lineno, nfield);
    size = row_long(field[1], "str-copy.txt", lineno);
    want_ret = row_long(field[5], "str-copy.txt", lineno);
    dst = guarded_init(&g, (size_t) size);
    if (strcmp(field[0], "copy") == 0) {
	ret = str_copy(dst, (size_t) size, field[3]);
    } else if (strcmp(field[0], "append") == 0) {
	if (size > 0)
	    memcpy(dst, field[2], strlen(field[2]) + 1);
	ret = str_append(dst, (size_t) size, field[3]);
    } else
	fail_msg("str-copy.txt:%d: unknown function %s", lineno, field[0]);
    guarded_check(&g, "str-copy.txt", lineno);
    if (ret != want_ret)
	fail_msg("str-copy.txt:%d: return %d, want %ld", lineno, ret, want_ret);
    if (size == 0) {
	if (strcmp(field[4], "(untouched)") != 0)
	    fail_msg("str-copy.txt:%d: size 0 rows want (untouched)", lineno);
    } else if (strcmp(dst, field[4]) != 0)
	fail_msg("str-copy.txt:%d: got \"%s\", want \"%s\"", lineno, dst, field[4]);
    (*(int *) ctx)++;
    return (0);
}

static void test_str_copy_append(void **state)
{
    int     n = 0;
    int     rows;

    rows = testdata_rows("str-copy.txt", '|', copy_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 18);
}

/* str_append on a dst that is not terminated within size */

static void test_str_append_unterminated(void **state)
{
    GUARDED g;
    char   *dst = guarded_init(&g, 4);

    memcpy(dst, "abcd", 4);			/* no NUL within size */
    assert_int_equal(str_append(dst, 4, "x"), -1);
    assert_string_equal(dst, "abc");
    guarded_check(&g, __FILE__, __LINE__);

    dst = guarded_init(&g, 4);
    memcpy(dst, "abcd", 4);
    assert_int_equal(str_appendf(dst, 4, "%d", 1), -1);
    assert_string_equal(dst, "abc");
    guarded_check(&g, __FILE__, __LINE__);
}

/* str-appendf.txt */

static int appendf_row(void *ctx, int lineno, int nfield, char **field)
{
    GUARDED g;
    char   *dst;
    long    size;
    long    number;
    long    want_ret;
    int     ret;

    if (nfield != 6)
	fail_msg("str-appendf.txt:%d: want 6 fields, got %d", lineno, nfield);
    size = row_long(field[0], "str-appendf.txt", lineno);
    number = row_long(field[3], "str-appendf.txt", lineno);
    want_ret = row_long(field[5], "str-appendf.txt", lineno);
    dst = guarded_init(&g, (size_t) size);
    memcpy(dst, field[1], strlen(field[1]) + 1);
    ret = str_appendf(dst, (size_t) size, "%s=%d", field[2], (int) number);
    guarded_check(&g, "str-appendf.txt", lineno);
    if (ret != want_ret)
	fail_msg("str-appendf.txt:%d: return %d, want %ld", lineno, ret, want_ret);
    if (strcmp(dst, field[4]) != 0)
	fail_msg("str-appendf.txt:%d: got \"%s\", want \"%s\"", lineno, dst, field[4]);
    (*(int *) ctx)++;
    return (0);
}

static void test_str_appendf(void **state)
{
    GUARDED g;
    int     n = 0;
    int     rows;

    rows = testdata_rows("str-appendf.txt", '|', appendf_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 8);
    (void) guarded_init(&g, 0);
    assert_int_equal(str_appendf(g.mem + GUARD, 0, "%s", "x"), -1);
    guarded_check(&g, __FILE__, __LINE__);
}

/* str-to-long.txt */

static int to_long_row(void *ctx, int lineno, int nfield, char **field)
{
    long    min;
    long    max;
    long    want_ret;
    long    out = 4242;
    int     ret;

    if (nfield != 4 && nfield != 5)
	fail_msg("str-to-long.txt:%d: want 4 or 5 fields, got %d", lineno, nfield);
    min = row_long(field[1], "str-to-long.txt", lineno);
    max = row_long(field[2], "str-to-long.txt", lineno);
    want_ret = row_long(field[3], "str-to-long.txt", lineno);
    ret = str_to_long(field[0], min, max, &out);
    if (ret != want_ret)
	fail_msg("str-to-long.txt:%d: \"%s\": return %d, want %ld", lineno, field[0], ret, want_ret);
    if (ret == 0) {
	if (nfield != 5)
	    fail_msg("str-to-long.txt:%d: a 0 row needs a value", lineno);
	if (out != row_long(field[4], "str-to-long.txt", lineno))
	    fail_msg("str-to-long.txt:%d: value %ld, want %s", lineno, out, field[4]);
    } else if (out != 4242)
	fail_msg("str-to-long.txt:%d: out changed on failure", lineno);
    (*(int *) ctx)++;
    return (0);
}

static void test_str_to_long(void **state)
{
    long    out = 1;
    int     n = 0;
    int     rows;

    rows = testdata_rows("str-to-long.txt", '|', to_long_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 25);
    assert_int_equal(str_to_long(0, 0, 10, &out), -1);
    assert_int_equal(out, 1);
}

/* str-lower.txt */

static int lower_row(void *ctx, int lineno, int nfield, char **field)
{
    char    buf[BUF_MAX];

    if (nfield != 2)
	fail_msg("str-lower.txt:%d: want 2 fields, got %d", lineno, nfield);
    assert_int_equal(str_copy(buf, sizeof(buf), field[0]), 0);
    str_lower(buf);
    if (strcmp(buf, field[1]) != 0)
	fail_msg("str-lower.txt:%d: got \"%s\", want \"%s\"", lineno, buf, field[1]);
    (*(int *) ctx)++;
    return (0);
}

static void test_str_lower(void **state)
{
    int     n = 0;
    int     rows;

    rows = testdata_rows("str-lower.txt", '|', lower_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 6);
}

/* str-trim.txt */

static int trim_row(void *ctx, int lineno, int nfield, char **field)
{
    char    buf[BUF_MAX];
    char   *got;
    size_t  len;

    if (nfield != 2)
	fail_msg("str-trim.txt:%d: want 2 fields, got %d", lineno, nfield);
    assert_int_equal(str_copy(buf, sizeof(buf), field[0]), 0);
    len = strlen(buf);
    got = str_trim(buf);
    /* The result lies inside the input buffer. */
    assert_true(got >= buf && got <= buf + len);
    if (strcmp(got, field[1]) != 0)
	fail_msg("str-trim.txt:%d: got \"%s\", want \"%s\"", lineno, got, field[1]);
    (*(int *) ctx)++;
    return (0);
}

static void test_str_trim(void **state)
{
    int     n = 0;
    int     rows;

    rows = testdata_rows("str-trim.txt", '|', trim_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 6);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_str_copy_append),
	cmocka_unit_test(test_str_append_unterminated),
	cmocka_unit_test(test_str_appendf),
	cmocka_unit_test(test_str_to_long),
	cmocka_unit_test(test_str_lower),
	cmocka_unit_test(test_str_trim),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
