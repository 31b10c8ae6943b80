/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_policy_diff 1
 * SUMMARY
 *	unit tests for policy_diff.c (what changed between two policies)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_policy_diff
 * DESCRIPTION
 *	Table-driven from tests/unit/data/policy-diff.txt (its header
 *	gives the format): first sight, no change, max_age alone, mx
 *	order and case, new ids, downgrades and upgrades, mx added and
 *	removed, the cap on named patterns, a policy gone. The bodies go
 *	through policy_parse(), as the engine's do. Then a cut text
 *	buffer: the flags do not depend on it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy_diff.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

typedef struct CTX {
    const char *file;
    int     failures;
} CTX;

static const struct {
    const char *name;
    int     flag;
} flag_names[] = {
    {"id", POLICY_DIFF_ID},
    {"mode", POLICY_DIFF_MODE},
    {"mx", POLICY_DIFF_MX},
    {"max_age", POLICY_DIFF_MAX_AGE},
    {"gone", POLICY_DIFF_GONE},
    {"downgrade", POLICY_DIFF_DOWNGRADE},
};

static int parse_flags(char *s, const char *file, int lineno)
{
    char   *name;
    char   *plus;
    size_t  i;
    int     flags = 0;

    if (strcmp(s, "-") == 0)
	return (0);
    for (name = s; name; name = plus) {
	if ((plus = strchr(name, '+')) != 0)
	    *plus++ = 0;
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
	    if (strcmp(flag_names[i].name, name) == 0)
		break;
	if (i == sizeof(flag_names) / sizeof(flag_names[0]))
	    fail_msg("%s:%d: unknown flag %s", file, lineno, name);
	flags |= flag_names[i].flag;
    }
    return (flags);
}

static POLICY *parse_body(const char *body, size_t len, const char *file, int lineno)
{
    POLICY *p = 0;

    if (strcmp(body, "-") == 0)
	return (0);
    if (policy_parse(body, len, &p, 0) != STATUS_OK)
	fail_msg("%s:%d: test policy does not parse", file, lineno);
    return (p);
}

static int diff_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = ctx;
    POLICY *old;
    POLICY *new;
    char    text[1024];
    char    small[8];
    int     want;
    int     got;

    if (nfield != 6)
	fail_msg("%s:%d: want 6 fields, got %d", c->file, lineno, nfield);
    old = parse_body(field[1], testdata_len[1], c->file, lineno);
    new = parse_body(field[3], testdata_len[3], c->file, lineno);
    want = parse_flags(field[4], c->file, lineno);
    got = policy_diff(strcmp(field[0], "-") ? field[0] : 0, old, strcmp(field[2], "-") ? field[2] : 0, new,
		      text, sizeof(text));
    if (got != want || strcmp(text, field[5]) != 0) {
	print_error("%s:%d: want %#x \"%s\", got %#x \"%s\"\n", c->file, lineno, want, field[5], got, text);
	c->failures++;
    }
    /* A short buffer cuts the text, never the flags. */
    if (policy_diff(strcmp(field[0], "-") ? field[0] : 0, old, strcmp(field[2], "-") ? field[2] : 0, new,
		    small, sizeof(small)) != want || strlen(small) >= sizeof(small)) {
	print_error("%s:%d: a short text buffer changed the result\n", c->file, lineno);
	c->failures++;
    }
    policy_free(&old);
    policy_free(&new);
    return (0);
}

static void test_diff(void **state)
{
    CTX     c = {"policy-diff.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', diff_row, &c) >= 14);
    assert_int_equal(c.failures, 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_diff),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
