/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_text 1
 * SUMMARY
 *	unit tests for text.c (sanitizing remote text)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_text
 * DESCRIPTION
 *	Table-driven from tests/unit/data:
 *
 *	text-sanitize.txt	text_sanitize() and text_sanitize_len():
 *				output, length, truncation, NUL bytes.
 *	text-percent.txt	text_escape_percent(): doubling, and never
 *				half a "%%" pair when truncated.
 *
 *	Every row also checks that nothing is written at or beyond
 *	dst[size] (guard bytes), and one test checks that no byte from
 *	0x00 to 0xff other than 0x20-0x7e survives sanitizing.
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
#include "text.h"

#define GUARD		16
#define GUARD_BYTE	'Z'
#define BUF_MAX		256

typedef struct GUARDED {
    char    mem[GUARD + BUF_MAX + GUARD];
    size_t  size;
} GUARDED;

static char *guarded_init(GUARDED *g, size_t size)
{
    assert_true(size <= BUF_MAX);
    memset(g->mem, GUARD_BYTE, sizeof(g->mem));
    g->size = size;
    return (g->mem + GUARD);
}

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

    if (str_to_long(s, LONG_MIN, LONG_MAX, &val) < 0)
	fail_msg("%s:%d: bad number \"%s\" in the table", file, lineno, s);
    return (val);
}

/* text-sanitize.txt */

static int sanitize_row(void *ctx, int lineno, int nfield, char **field)
{
    GUARDED g;
    char   *dst;
    long    size;
    long    want_len;
    size_t  got;

    if (nfield != 5)
	fail_msg("text-sanitize.txt:%d: want 5 fields, got %d", lineno, nfield);
    size = row_long(field[0], "text-sanitize.txt", lineno);
    want_len = row_long(field[4], "text-sanitize.txt", lineno);
    dst = guarded_init(&g, (size_t) size);
    if (strcmp(field[1], "-") == 0)
	got = text_sanitize(dst, (size_t) size, field[2]);
    else
	got = text_sanitize_len(dst, (size_t) size, field[2],
				(size_t) row_long(field[1], "text-sanitize.txt", lineno));
    guarded_check(&g, "text-sanitize.txt", lineno);
    if ((long) got != want_len)
	fail_msg("text-sanitize.txt:%d: length %zu, want %ld", lineno, got, want_len);
    if (strcmp(dst, field[3]) != 0)
	fail_msg("text-sanitize.txt:%d: got \"%s\", want \"%s\"", lineno, dst, field[3]);
    if (strlen(dst) != got)
	fail_msg("text-sanitize.txt:%d: return value is not the output length", lineno);
    (*(int *) ctx)++;
    return (0);
}

static void test_text_sanitize(void **state)
{
    GUARDED g;
    int     n = 0;
    int     rows;

    rows = testdata_rows("text-sanitize.txt", '|', sanitize_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 15);

    /* size 0: nothing written. */
    (void) guarded_init(&g, 0);
    assert_int_equal(text_sanitize(g.mem + GUARD, 0, "abc"), 0);
    assert_int_equal(text_sanitize_len(g.mem + GUARD, 0, "abc", 3), 0);
    guarded_check(&g, __FILE__, __LINE__);
}

/* Every byte value: only 0x20..0x7e pass through. */

static void test_text_sanitize_all_bytes(void **state)
{
    char    in[256];
    char    out[257];
    int     i;

    for (i = 0; i < 256; i++)
	in[i] = (char) i;
    assert_int_equal(text_sanitize_len(out, sizeof(out), in, sizeof(in)), 256);
    for (i = 0; i < 256; i++) {
	if (i >= 0x20 && i <= 0x7e)
	    assert_int_equal((unsigned char) out[i], i);
	else if (out[i] != '?')
	    fail_msg("byte 0x%02x became 0x%02x, want '?'", i, (unsigned char) out[i]);
    }
    assert_int_equal(out[256], 0);
}

/* text-percent.txt */

static int percent_row(void *ctx, int lineno, int nfield, char **field)
{
    GUARDED g;
    char   *dst;
    long    size;
    long    want_ret;
    size_t  len;
    int     ret;

    if (nfield != 4)
	fail_msg("text-percent.txt:%d: want 4 fields, got %d", lineno, nfield);
    size = row_long(field[0], "text-percent.txt", lineno);
    want_ret = row_long(field[3], "text-percent.txt", lineno);
    dst = guarded_init(&g, (size_t) size);
    ret = text_escape_percent(dst, (size_t) size, field[1]);
    guarded_check(&g, "text-percent.txt", lineno);
    if (ret != want_ret)
	fail_msg("text-percent.txt:%d: return %d, want %ld", lineno, ret, want_ret);
    if (strcmp(dst, field[2]) != 0)
	fail_msg("text-percent.txt:%d: got \"%s\", want \"%s\"", lineno, dst, field[2]);
    /* Never half a pair: the number of trailing '%' is even. */
    for (len = strlen(dst); len > 0 && dst[len - 1] == '%'; len--)
	 /* void */ ;
    if ((strlen(dst) - len) % 2 != 0)
	fail_msg("text-percent.txt:%d: result ends in half a %%%% pair", lineno);
    (*(int *) ctx)++;
    return (0);
}

static void test_text_escape_percent(void **state)
{
    GUARDED g;
    int     n = 0;
    int     rows;

    rows = testdata_rows("text-percent.txt", '|', percent_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 12);

    (void) guarded_init(&g, 0);
    assert_int_equal(text_escape_percent(g.mem + GUARD, 0, "%"), -1);
    guarded_check(&g, __FILE__, __LINE__);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_text_sanitize),
	cmocka_unit_test(test_text_sanitize_all_bytes),
	cmocka_unit_test(test_text_escape_percent),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
