/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_verdict 1
 * SUMMARY
 *	unit tests for verdict.c: the no-policy rule and its explanation
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_verdict
 * DESCRIPTION
 *	Table-driven from tests/unit/data/verdict-no-policy.txt (its header
 *	gives the format): verdict_no_policy() decides no-policy or
 *	temporary for a domain without a policy in force (RFC 8461 section
 *	3.3), keeps the reason, warns for an unusable policy, and
 *	verdict_explain() says what the owner must fix. Also checks that
 *	every verdict and reason has a name, and that the explanation of a
 *	no-policy verdict for every reason is one sanitized line.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "str.h"
#include "testdata.h"
#include "verdict.h"

#define NO_POLICY_FILE	"verdict-no-policy.txt"

typedef struct CTX {
    const char *file;
    int     failures;
} CTX;

/* no_policy_row - one verdict_no_policy() vector */

static int no_policy_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    VERDICT *v;
    int     reason;
    int     warned;
    int     i;

    if (nfield != 6)
	fail_msg("%s:%d: want 6 fields, got %d", c->file, lineno, nfield);
    if ((reason = verdict_reason_code(field[0])) < 0)
	fail_msg("%s:%d: unknown reason \"%s\"", c->file, lineno, field[0]);
    assert_non_null(v = verdict_create("d.test"));
    (void) str_copy(v->detail, sizeof(v->detail), field[2]);
    verdict_no_policy(v, reason, strcmp(field[1], "1") == 0);
    verdict_explain(v);
    for (warned = 0, i = 0; i < v->warn_count; i++)
	if (strstr(v->warn[i], field[4]) != 0)
	    warned = 1;
    if (strcmp(verdict_name(v->verdict), field[3]) != 0 || v->reason != reason
	|| (strcmp(field[4], "-") == 0 ? v->warn_count != 0 : !warned)
	|| strstr(v->explanation, field[5]) == 0) {
	print_error("%s:%d: want %s (%s), got %s (%s), %d warnings (%s), explanation \"%s\"\n",
		    c->file, lineno, field[3], field[0], verdict_name(v->verdict),
		    verdict_reason_label(v->reason), v->warn_count,
		    v->warn_count ? v->warn[0] : "", v->explanation);
	c->failures++;
    }
    verdict_free(&v);
    assert_null(v);
    return (0);
}

static void test_no_policy(void **state)
{
    CTX     c = {NO_POLICY_FILE, 0};

    assert_true(testdata_rows(c.file, '|', no_policy_row, &c) >= 11);
    assert_int_equal(c.failures, 0);
}

/* Every reason: a no-policy explanation is one line without control bytes. */

static void test_explain_every_reason(void **state)
{
    VERDICT *v;
    const char *p;
    int     r;

    for (r = 0; r < REASON_COUNT; r++) {
	assert_non_null(v = verdict_create("d.test"));
	memset(v->detail, 'x', sizeof(v->detail) - 1);
	v->detail[0] = '\n';
	v->detail[sizeof(v->detail) - 1] = 0;
	v->verdict = VERDICT_NO_POLICY;
	v->reason = r;
	verdict_explain(v);
	assert_true(v->explanation[0] != 0);
	assert_true(strlen(v->explanation) < sizeof(v->explanation));
	for (p = v->explanation; *p; p++)
	    assert_true((unsigned char) *p >= 0x20 && *p != 0x7f);
	assert_string_not_equal(verdict_reason_name(r), "unknown");
	verdict_free(&v);
    }
    for (r = 0; r < VERDICT_COUNT; r++)
	assert_string_not_equal(verdict_name(r), "unknown");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_no_policy),
	cmocka_unit_test(test_explain_every_reason),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
