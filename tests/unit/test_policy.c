/*
 * NAME
 *	test_policy 1
 * SUMMARY
 *	unit tests for policy.c (RFC 8461 sections 3.2 and 4.1)
 * DESCRIPTION
 *	Table-driven: policy-vectors.txt (policy_parse) and
 *	pattern-vectors.txt (policy_pattern_match); plus the 64 KiB cap,
 *	policy_lint() reporting every problem, and policy_free().
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

static int policy_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *failures = (int *) ctx;
    POLICY *p = 0;
    WHY     why;
    char    got[2048];
    long    age;
    int     st, i;

    why.text[0] = 0;
    if (nfield != 5) {
	print_error("policy-vectors.txt:%d: want 5 fields\n", lineno);
	(*failures)++;
	return (0);
    }
    st = policy_parse(field[0], testdata_len[0], &p, &why);
    if (strcmp(field[1], "ok") == 0) {
	got[0] = 0;
	for (i = 0; p && i < p->mx_count; i++)
	    (void) str_appendf(got, sizeof(got), "%s%s", i ? "," : "", p->mx[i]);
	if (st != STATUS_OK || p == 0 || strcmp(policy_mode_name(p->mode), field[2]) != 0
	    || str_to_long(field[3], 0, 99999999999L, &age) != 0 || p->max_age != age
	    || strcmp(got, field[4]) != 0) {
	    print_error("policy-vectors.txt:%d: want ok %s %s [%s], got %s %s %ld [%s] (%s)\n", lineno,
			field[2], field[3], field[4], status_name(st), p ? policy_mode_name(p->mode) : "-",
			p ? p->max_age : -1L, got, why.text);
	    (*failures)++;
	}
    } else if (st != STATUS_INVAL || p != 0 || strstr(why.text, field[4]) == 0) {
	print_error("policy-vectors.txt:%d: want inval \"%s\", got %s \"%s\"\n", lineno, field[4],
		    status_name(st), why.text);
	(*failures)++;
    }
    policy_free(&p);
    assert_null(p);
    return (0);
}

static void test_parse(void **state)
{
    int     failures = 0;

    assert_true(testdata_rows("policy-vectors.txt", '|', policy_row, &failures) >= 38);
    assert_int_equal(failures, 0);
}

static int pattern_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *failures = (int *) ctx;
    int     want = strcmp(field[2], "1") == 0;

    if (policy_pattern_match(field[0], field[1]) != want) {
	print_error("pattern-vectors.txt:%d: %s vs %s: want %d\n", lineno, field[0], field[1], want);
	(*failures)++;
    }
    return (0);
}

static void test_patterns(void **state)
{
    int     failures = 0;

    assert_true(testdata_rows("pattern-vectors.txt", '|', pattern_row, &failures) >= 18);
    assert_int_equal(failures, 0);
}

static void test_oversized(void **state)
{
    static const char head[] = "version: STSv1\nmode: enforce\nmx: m.example\nmax_age: 86400\n";
    size_t  len = POLICY_BODY_MAX + 1;
    char   *body = malloc(len);
    POLICY *p = 0;
    WHY     why;
    size_t  i;

    assert_non_null(body);
    memcpy(body, head, sizeof(head) - 1);
    /* Pad with extension lines "x: ppp...\n": valid except for the size. */
    for (i = sizeof(head) - 1; i < len; i++) {
	size_t  col = (i - (sizeof(head) - 1)) % 64;

	body[i] = col == 63 ? '\n' : col == 0 ? 'x' : col == 1 ? ':' : col == 2 ? ' ' : 'p';
    }
    body[len - 1] = '\n';
    assert_int_equal(policy_parse(body, len, &p, &why), STATUS_INVAL);
    assert_null(p);
    assert_non_null(strstr(why.text, "64 KiB"));
    /* Exactly at the cap it parses (the last line ends without its newline). */
    assert_int_equal(policy_parse(body, POLICY_BODY_MAX, &p, &why), STATUS_OK);
    assert_int_equal(p->mode, POLICY_MODE_ENFORCE);
    policy_free(&p);
    free(body);
}

typedef struct LINT {
    int     errors;
    int     warnings;
    int     last_line;
} LINT;

static void lint_report(void *ctx, int lineno, int is_error, const char *msg)
{
    LINT   *l = (LINT *) ctx;

    if (is_error)
	l->errors++;
    else
	l->warnings++;
    l->last_line = lineno;
}

static void test_lint_reports_all(void **state)
{
    static const char body[] = "version: STSv2\nmode: sometimes\nmx: *\nmax_age: 1\nfoo: bar\n";
    POLICY *p = 0;
    LINT    l = {0};

    assert_int_equal(policy_lint(body, sizeof(body) - 1, &p, lint_report, &l), STATUS_INVAL);
    assert_null(p);
    /* version, mode, mx: three errors; max_age under a day and foo: warnings. */
    assert_int_equal(l.errors, 3);
    assert_int_equal(l.warnings, 2);
}

static void test_match_policy(void **state)
{
    static const char body[] = "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n";
    POLICY *p = 0;

    assert_int_equal(policy_parse(body, sizeof(body) - 1, &p, NULL), STATUS_OK);
    assert_true(policy_match(p, "MX1.example.com."));
    assert_true(policy_match(p, "a.example.net"));
    assert_false(policy_match(p, "a.b.example.net"));
    assert_false(policy_match(p, "mx2.example.com"));
    policy_free(&p);
    policy_free(&p);				/* safe on null */
}

static void test_pattern_valid(void **state)
{
    WHY     why;

    assert_true(policy_pattern_valid("*.example.com", &why));
    assert_true(policy_pattern_valid("example.com.", &why));
    assert_false(policy_pattern_valid("*example.com", &why));
    assert_false(policy_pattern_valid("ex ample.com", &why));
    assert_false(policy_pattern_valid("", &why));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_patterns),
	cmocka_unit_test(test_oversized),
	cmocka_unit_test(test_lint_reports_all),
	cmocka_unit_test(test_match_policy),
	cmocka_unit_test(test_pattern_valid),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
