/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_domain 1
 * SUMMARY
 *	unit tests for domain.c (recipient domain normalization, IDNA)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_domain
 * DESCRIPTION
 *	Table-driven from tests/unit/data (each file's header gives its
 *	format):
 *
 *	domain-vectors.txt	domain_normalize(): case, trailing dot,
 *				IDNA through libidn2, address literals,
 *				empty labels, hyphens, LDH, lengths.
 *	address-vectors.txt	domain_from_address(): paths, mailboxes,
 *				quoted local parts, source routes, "<>".
 *
 *	In vector fields, {TEXT*N} is TEXT repeated N times (nestable,
 *	innermost first). Every accepted result must normalize to itself
 *	again, and "<user@RESULT>" must give it back. Outputs have guard
 *	bytes; generated tests cover every output size around the result
 *	and null arguments.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domain.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

#define EXPAND_MAX	2048
#define GUARD		16
#define GUARD_BYTE	'Z'

typedef struct CTX {
    const char *file;
    int     (*fn) (const char *, char *, size_t, WHY *);
    int     failures;
} CTX;

/* test_domain_expand - expand {TEXT*N}, innermost first, in place */

static void test_domain_expand(char *s, size_t size, const char *file, int lineno)
{
    char    tmp[EXPAND_MAX];
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
	if (str_to_long(star + 1, 0, 2000, &n) != 0)
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

/* test_domain_stable - a result normalizes to itself, also from "<user@RESULT>" */

static int test_domain_stable(const char *name)
{
    char    again[DOMAIN_MAX + 1];
    char    addr[EXPAND_MAX];

    if (domain_normalize(name, again, sizeof(again), 0) != STATUS_OK || strcmp(again, name) != 0)
	return (0);
    (void) snprintf(addr, sizeof(addr), "<user@%s>", name);
    if (domain_from_address(addr, again, sizeof(again), 0) != STATUS_OK || strcmp(again, name) != 0)
	return (0);
    return (1);
}

/* row - one vector of either file */

static int row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char    in[EXPAND_MAX];
    char    want[EXPAND_MAX];
    char    mem[GUARD + DOMAIN_MAX + 1 + GUARD];
    char   *out = mem + GUARD;
    WHY     why;
    int     st;
    int     i;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", c->file, lineno, nfield);
    (void) str_copy(in, sizeof(in), field[0]);
    (void) str_copy(want, sizeof(want), field[2]);
    test_domain_expand(in, sizeof(in), c->file, lineno);
    test_domain_expand(want, sizeof(want), c->file, lineno);
    memset(mem, GUARD_BYTE, sizeof(mem));
    why.text[0] = 0;
    st = c->fn(in, out, DOMAIN_MAX + 1, &why);
    for (i = 0; i < GUARD; i++)
	if (mem[i] != GUARD_BYTE || out[DOMAIN_MAX + 1 + i] != GUARD_BYTE)
	    fail_msg("%s:%d: write outside the output buffer", c->file, lineno);
    if (strcmp(field[1], "ok") == 0) {
	if (st != STATUS_OK || strcmp(out, want) != 0 || !test_domain_stable(out)) {
	    print_error("%s:%d: \"%.60s\": want ok \"%.60s\", got %s \"%.60s\" (%s)\n", c->file,
			lineno, in, want, status_name(st), out, why.text);
	    c->failures++;
	}
    } else if (strcmp(field[1], "inval") == 0) {
	if (st != STATUS_INVAL || out[0] != 0 || strstr(why.text, want) == 0) {
	    print_error("%s:%d: \"%.60s\": want inval \"%s\", got %s \"%.60s\" (%s)\n", c->file,
			lineno, in, want, status_name(st), out, why.text);
	    c->failures++;
	}
    } else
	fail_msg("%s:%d: bad status \"%s\"", c->file, lineno, field[1]);
    return (0);
}

static void test_normalize(void **state)
{
    CTX     c = {"domain-vectors.txt", domain_normalize, 0};

    assert_true(testdata_rows(c.file, '|', row, &c) >= 58);
    assert_int_equal(c.failures, 0);
}

static void test_from_address(void **state)
{
    CTX     c = {"address-vectors.txt", domain_from_address, 0};

    assert_true(testdata_rows(c.file, '|', row, &c) >= 26);
    assert_int_equal(c.failures, 0);
}

/* Every output size: the result fits with its NUL or is an error; never a write past. */

static void test_output_sizes(void **state)
{
    static const char *in[] = {"Example.COM.", "bücher.example", "<bob@Bücher.Example>", 0};
    static const char *want[] = {"example.com", "xn--bcher-kva.example", "xn--bcher-kva.example", 0};
    char   *out;
    size_t  size;
    WHY     why;
    int     st;
    int     i;

    for (i = 0; in[i]; i++) {
	for (size = 0; size <= strlen(want[i]) + 2; size++) {
	    out = malloc(size ? size : 1);
	    assert_non_null(out);
	    why.text[0] = 0;
	    st = i == 2 ? domain_from_address(in[i], out, size, &why)
		: domain_normalize(in[i], out, size, &why);
	    if (size > strlen(want[i])) {
		assert_int_equal(st, STATUS_OK);
		assert_string_equal(out, want[i]);
	    } else {
		assert_int_equal(st, STATUS_INVAL);
		assert_true(why.text[0] != 0);
		if (size > 0)
		    assert_int_equal(out[0], 0);
	    }
	    free(out);
	}
    }
}

/* Null arguments: an error with a reason, never a crash. */

static void test_null_args(void **state)
{
    char    out[DOMAIN_MAX + 1];
    WHY     why;

    assert_int_equal(domain_normalize(0, out, sizeof(out), &why), STATUS_INVAL);
    assert_int_equal(domain_normalize("example.com", 0, 0, &why), STATUS_INVAL);
    assert_int_equal(domain_from_address(0, out, sizeof(out), &why), STATUS_INVAL);
    assert_int_equal(domain_from_address("a@example.com", 0, 0, 0), STATUS_INVAL);
    assert_int_equal(domain_normalize("example.com", out, sizeof(out), 0), STATUS_OK);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_normalize),
	cmocka_unit_test(test_from_address),
	cmocka_unit_test(test_output_sizes),
	cmocka_unit_test(test_null_args),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
