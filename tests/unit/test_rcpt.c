/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_rcpt 1
 * SUMMARY
 *	unit tests for rcpt.c (the domain of a raw envelope recipient)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_rcpt
 * DESCRIPTION
 *	Table-driven from tests/unit/data (each file's header gives its
 *	format):
 *
 *	rcpt-domain.txt	rcpt_domain(): paths, source routes, quoted
 *			local parts, address literals, UTF-8 (SMTPUTF8)
 *			through IDNA, long local parts (issue 11, defect
 *			1: the domain never depends on the local part's
 *			length), unreadable recipients.
 *	rcpt-show.txt	rcpt_show(): sanitized, shortened in the local
 *			part so that the domain stays visible.
 *
 *	In vector fields, {TEXT*N} is TEXT repeated N times. Outputs have
 *	guard bytes on both sides.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rcpt.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

#define EXPAND_MAX	(3 * RCPT_INPUT_MAX)
#define GUARD		16
#define GUARD_BYTE	'Z'

typedef struct CTX {
    const char *file;
    int     failures;
} CTX;

/* expand - {TEXT*N}, innermost first, in place */

static void expand(char *s, size_t size, const char *file, int lineno)
{
    static char tmp[EXPAND_MAX];
    char   *open;
    char   *close;
    char   *star = 0;
    size_t  head, text, tail, used;
    long    n;

    while ((close = strchr(s, '}')) != 0) {
	*close = 0;
	if ((open = strrchr(s, '{')) == 0 || (star = strrchr(open, '*')) == 0)
	    fail_msg("%s:%d: bad {TEXT*N}", file, lineno);
	*star = 0;
	if (str_to_long(star + 1, 0, 10000, &n) != 0)
	    fail_msg("%s:%d: bad repeat count", file, lineno);
	head = (size_t) (open - s);
	text = (size_t) (star - open - 1);
	tail = strlen(close + 1);
	if (head + text * (size_t) n + tail + 1 > sizeof(tmp) || head + text * (size_t) n + tail + 1 > size)
	    fail_msg("%s:%d: expansion too long", file, lineno);
	memcpy(tmp, s, head);
	for (used = head; n > 0; n--, used += text)
	    memcpy(tmp + used, open + 1, text);
	memcpy(tmp + used, close + 1, tail + 1);
	memcpy(s, tmp, used + tail + 1);
    }
}

static int domain_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    static char in[EXPAND_MAX];
    char    want[EXPAND_MAX];
    char    mem[GUARD + DOMAIN_MAX + 1 + GUARD];
    char   *out = mem + GUARD;
    WHY     why;
    int     st;
    int     want_st = STATUS_FAIL;
    int     i;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", c->file, lineno, nfield);
    /* The raw field: NUL bytes cannot occur in an argv or a protocol line. */
    (void) str_copy(in, sizeof(in), field[0]);
    (void) str_copy(want, sizeof(want), field[2]);
    expand(in, sizeof(in), c->file, lineno);
    expand(want, sizeof(want), c->file, lineno);
    if (strcmp(field[1], "ok") == 0)
	want_st = STATUS_OK;
    else if (strcmp(field[1], "notfound") == 0)
	want_st = STATUS_NOTFOUND;
    else if (strcmp(field[1], "inval") == 0)
	want_st = STATUS_INVAL;
    else
	fail_msg("%s:%d: bad status \"%s\"", c->file, lineno, field[1]);
    memset(mem, GUARD_BYTE, sizeof(mem));
    why.text[0] = 0;
    st = rcpt_domain(in, out, DOMAIN_MAX + 1, &why);
    for (i = 0; i < GUARD; i++)
	if (mem[i] != GUARD_BYTE || out[DOMAIN_MAX + 1 + i] != GUARD_BYTE)
	    fail_msg("%s:%d: write outside the output buffer", c->file, lineno);
    if (st != want_st
	|| (want_st == STATUS_INVAL ? (out[0] != 0 || strstr(why.text, want) == 0) : strcmp(out, want) != 0)) {
	print_error("%s:%d: \"%.60s\": want %s \"%.60s\", got %s \"%.60s\" (%s)\n", c->file, lineno,
		    in, field[1], want, status_name(st), out, why.text);
	c->failures++;
    }
    /* The reason never quotes the input. */
    if (want_st == STATUS_INVAL && strlen(in) > 8 && strstr(why.text, in) != 0) {
	print_error("%s:%d: the reason quotes the input\n", c->file, lineno);
	c->failures++;
    }
    return (0);
}

static int show_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    static char in[EXPAND_MAX];
    char    want[EXPAND_MAX];
    char    mem[GUARD + 1024 + GUARD];
    char   *out = mem + GUARD;
    long    size;
    size_t  n;
    int     i;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", c->file, lineno, nfield);
    (void) str_copy(in, sizeof(in), field[0]);
    (void) str_copy(want, sizeof(want), field[2]);
    expand(in, sizeof(in), c->file, lineno);
    expand(want, sizeof(want), c->file, lineno);
    if (str_to_long(field[1], 1, 1024, &size) != 0)
	fail_msg("%s:%d: bad size", c->file, lineno);
    memset(mem, GUARD_BYTE, sizeof(mem));
    n = rcpt_show(out, (size_t) size, in);
    for (i = 0; i < GUARD; i++)
	if (mem[i] != GUARD_BYTE || out[size + i] != GUARD_BYTE)
	    fail_msg("%s:%d: write outside the output buffer", c->file, lineno);
    if (strcmp(out, want) != 0 || n != strlen(out) || n >= (size_t) size) {
	print_error("%s:%d: want \"%s\", got \"%s\" (%lu)\n", c->file, lineno, want, out, (unsigned long) n);
	c->failures++;
    }
    return (0);
}

static void test_domain(void **state)
{
    CTX     c = {"rcpt-domain.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', domain_row, &c) >= 75);
    assert_int_equal(c.failures, 0);
}

static void test_show(void **state)
{
    CTX     c = {"rcpt-show.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', show_row, &c) >= 10);
    assert_int_equal(c.failures, 0);
}

/* Every output size: the domain fits with its NUL or is an error; never a write past. */

static void test_output_sizes(void **state)
{
    static const char in[] = "<\"x@y\"@Bücher.Test>";
    static const char want[] = "xn--bcher-kva.test";
    char   *out;
    size_t  size;
    WHY     why;
    int     st;

    (void) state;
    for (size = 1; size <= sizeof(want) + 2; size++) {
	out = malloc(size);
	assert_non_null(out);
	why.text[0] = 0;
	st = rcpt_domain(in, out, size, &why);
	if (size > strlen(want)) {
	    assert_int_equal(st, STATUS_OK);
	    assert_string_equal(out, want);
	} else {
	    assert_int_equal(st, STATUS_INVAL);
	    assert_true(why.text[0] != 0);
	    assert_int_equal(out[0], 0);
	}
	free(out);
    }
}

static void test_null_args(void **state)
{
    char    out[DOMAIN_MAX + 1];
    WHY     why;

    (void) state;
    assert_int_equal(rcpt_domain(0, out, sizeof(out), &why), STATUS_INVAL);
    assert_int_equal(rcpt_domain("a@example.com", 0, 0, 0), STATUS_INVAL);
    assert_int_equal(rcpt_domain("a@example.com", out, sizeof(out), 0), STATUS_OK);
    assert_int_equal(rcpt_show(out, 0, "a@b"), 0);
    assert_int_equal(rcpt_show(out, sizeof(out), 0), 0);
    assert_string_equal(out, "");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_domain),
	cmocka_unit_test(test_show),
	cmocka_unit_test(test_output_sizes),
	cmocka_unit_test(test_null_args),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
