/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_policy 1
 * SUMMARY
 *	unit tests for policy.c (RFC 8461 sections 3.2 and 4.1)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_policy
 * DESCRIPTION
 *	Table-driven from tests/unit/data (each file's header gives its
 *	format):
 *
 *	policy-vectors.txt	policy_parse() and policy_lint() agree; mode,
 *				max_age, mx list or the first error.
 *	policy-lint-vectors.txt	policy_lint(): the exact number of errors
 *				and warnings, and each expected report
 *				with its line number.
 *	policy-files.txt	whole bodies (policy-*.txt) byte for byte:
 *				CRLF, LF, mixed, no final newline, BOM.
 *	pattern-vectors.txt	policy_pattern_match() (section 4.1).
 *	pattern-valid-vectors.txt policy_pattern_valid().
 *	policy-lenient-vectors.txt policy_lenient(): the line strict parsers
 *				refuse, and what lenient ones make of it.
 *
 *	In vector fields, {TEXT*N} is TEXT repeated N times (nestable,
 *	innermost first; expanded after the escapes). Every body is copied
 *	into an allocation of its exact length so that AddressSanitizer
 *	sees a read past len. Generated tests: the 64 KiB cap (65536 and
 *	65537 octets), the POLICY_MX_MAX cap, policy_match(), null
 *	arguments and policy_free().
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

#define EXPAND_MAX	4096
#define REPORTS_MAX	32

typedef struct CTX {
    const char *file;
    int     failures;
} CTX;

/* test_policy_expand - expand {TEXT*N}, innermost first, in place */

static size_t test_policy_expand(char *s, size_t len, size_t size, const char *file, int lineno)
{
    char    tmp[EXPAND_MAX];
    char   *open;
    char   *close;
    char   *star = 0;
    size_t  head, text, tail, used;
    long    n;

    /* Bodies with NUL bytes (len != strlen) are never expanded. */
    if (strlen(s) != len)
	return (len);
    while ((close = strchr(s, '}')) != 0) {
	*close = 0;
	if ((open = strrchr(s, '{')) == 0 || (star = strrchr(open, '*')) == 0)
	    fail_msg("%s:%d: bad {TEXT*N}", file, lineno);
	*star = 0;
	if (str_to_long(star + 1, 0, 1000, &n) != 0)
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
    return (strlen(s));
}

/* test_policy_field - copy a field, expand it, and say its length */

static char *test_policy_field(char *buf, size_t size, const char *field, size_t len,
			               const char *file, int lineno)
{
    if (len + 1 > size)
	fail_msg("%s:%d: field too long", file, lineno);
    memcpy(buf, field, len + 1);
    return (buf);
}

/* test_policy_dup - exactly len octets in their own allocation */

static char *test_policy_dup(const char *s, size_t len)
{
    char   *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    memcpy(copy, s, len);
    return (copy);
}

/* test_policy_mx_list - the mx patterns, comma-separated */

static void test_policy_mx_list(const POLICY *p, char *buf, size_t size)
{
    int     i;

    buf[0] = 0;
    for (i = 0; p && i < p->mx_count; i++)
	(void) str_appendf(buf, size, "%s%s", i ? "," : "", p->mx[i]);
}

/* test_policy_same - two parse results are identical */

static int test_policy_same(const POLICY *a, const POLICY *b)
{
    int     i;

    if (a == 0 || b == 0)
	return (a == b);
    if (a->mode != b->mode || a->max_age != b->max_age || a->mx_count != b->mx_count)
	return (0);
    for (i = 0; i < a->mx_count; i++)
	if (strcmp(a->mx[i], b->mx[i]) != 0)
	    return (0);
    return (1);
}

/* test_policy_check - parse (and lint) one body against expectations */

static void test_policy_check(CTX *c, int lineno, const char *body, size_t len,
			              char **want)
{
    char    got[EXPAND_MAX];
    char    expect[EXPAND_MAX];
    char   *in = test_policy_dup(body, len);
    POLICY *p = 0;
    POLICY *lp = 0;
    WHY     why;
    long    age = -1;
    int     st;
    int     lst;
    int     bad = 0;

    why.text[0] = 0;
    st = policy_parse(in, len, &p, &why);
    lst = policy_lint(in, len, &lp, 0, 0);
    if (st != lst || !test_policy_same(p, lp)) {
	print_error("%s:%d: policy_parse and policy_lint disagree\n", c->file, lineno);
	bad = 1;
    }
    (void) str_copy(expect, sizeof(expect), want[3]);
    (void) test_policy_expand(expect, strlen(expect), sizeof(expect), c->file, lineno);
    test_policy_mx_list(p, got, sizeof(got));
    if (strcmp(want[0], "ok") == 0) {
	if (str_to_long(want[2], 0, POLICY_MAX_AGE_MAX, &age) != 0)
	    fail_msg("%s:%d: bad max_age column", c->file, lineno);
	if (st != STATUS_OK || p == 0 || strcmp(policy_mode_name(p->mode), want[1]) != 0
	    || p->max_age != age || strcmp(got, expect) != 0) {
	    print_error("%s:%d: want ok %s %s [%.80s], got %s %s %ld [%.80s] (%s)\n", c->file, lineno,
			want[1], want[2], expect, status_name(st),
			p ? policy_mode_name(p->mode) : "-", p ? p->max_age : -1L, got, why.text);
	    bad = 1;
	}
    } else if (strcmp(want[0], "inval") == 0) {
	if (st != STATUS_INVAL || p != 0 || strstr(why.text, expect) == 0) {
	    print_error("%s:%d: want inval \"%s\", got %s \"%s\"\n", c->file, lineno, expect,
			status_name(st), why.text);
	    bad = 1;
	}
    } else
	fail_msg("%s:%d: bad status \"%s\"", c->file, lineno, want[0]);
    c->failures += bad;
    policy_free(&p);
    policy_free(&lp);
    assert_null(p);
    assert_null(lp);
    free(in);
}

/* parse_row - one policy-vectors.txt row */

static int parse_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char    body[EXPAND_MAX];
    size_t  len;

    if (nfield != 5)
	fail_msg("%s:%d: want 5 fields, got %d", c->file, lineno, nfield);
    (void) test_policy_field(body, sizeof(body), field[0], testdata_len[0], c->file, lineno);
    len = test_policy_expand(body, testdata_len[0], sizeof(body), c->file, lineno);
    test_policy_check(c, lineno, body, len, field + 1);
    return (0);
}

static void test_parse(void **state)
{
    CTX     c = {"policy-vectors.txt", 0};

    assert_true(testdata_rows(c.file, '|', parse_row, &c) >= 108);
    assert_int_equal(c.failures, 0);
}

/* file_row - one policy-files.txt row: a whole body from its own file */

static int file_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    CTX     fc;
    char   *body;
    size_t  len;

    if (nfield != 5)
	fail_msg("%s:%d: want 5 fields, got %d", c->file, lineno, nfield);
    body = testdata_read(field[0], &len);
    fc.file = field[0];
    fc.failures = 0;
    test_policy_check(&fc, 0, body, len, field + 1);
    if (fc.failures)
	print_error("%s:%d: (the row for %s)\n", c->file, lineno, field[0]);
    c->failures += fc.failures;
    free(body);
    return (0);
}

static void test_files(void **state)
{
    CTX     c = {"policy-files.txt", 0};

    assert_true(testdata_rows(c.file, '|', file_row, &c) >= 8);
    assert_int_equal(c.failures, 0);
}

/* Reports collected by policy_lint(). */

typedef struct LINT {
    int     errors;
    int     warnings;
    int     count;
    int     line[REPORTS_MAX];
    int     is_error[REPORTS_MAX];
    char    msg[REPORTS_MAX][WHY_MAX];
} LINT;

static void lint_report(void *ctx, int lineno, int is_error, const char *msg)
{
    LINT   *l = (LINT *) ctx;

    assert_non_null(msg);
    assert_true(lineno >= 0);
    if (is_error)
	l->errors++;
    else
	l->warnings++;
    if (l->count < REPORTS_MAX) {
	l->line[l->count] = lineno;
	l->is_error[l->count] = is_error;
	(void) str_copy(l->msg[l->count], sizeof(l->msg[0]), msg);
	l->count++;
    }
}

/* lint_row - one policy-lint-vectors.txt row */

static int lint_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char    body[EXPAND_MAX];
    char   *in;
    size_t  len;
    POLICY *p = 0;
    LINT    l;
    long    nerr, nwarn, want_line;
    int     st, want, i, j, found;
    char   *colon = 0;

    if (nfield < 4)
	fail_msg("%s:%d: want at least 4 fields", c->file, lineno);
    (void) test_policy_field(body, sizeof(body), field[0], testdata_len[0], c->file, lineno);
    len = test_policy_expand(body, testdata_len[0], sizeof(body), c->file, lineno);
    want = strcmp(field[1], "ok") == 0 ? STATUS_OK : STATUS_INVAL;
    if (str_to_long(field[2], 0, 100, &nerr) != 0 || str_to_long(field[3], 0, 100, &nwarn) != 0)
	fail_msg("%s:%d: bad counts", c->file, lineno);
    memset(&l, 0, sizeof(l));
    in = test_policy_dup(body, len);
    st = policy_lint(in, len, &p, lint_report, &l);
    free(in);
    if (st != want || (st == STATUS_OK) != (p != 0) || l.errors != nerr || l.warnings != nwarn) {
	print_error("%s:%d: want %s with %ld errors, %ld warnings; got %s with %d, %d:\n",
		    c->file, lineno, field[1], nerr, nwarn, status_name(st), l.errors, l.warnings);
	for (j = 0; j < l.count; j++)
	    print_error("    %c%d:%s\n", l.is_error[j] ? 'E' : 'W', l.line[j], l.msg[j]);
	c->failures++;
    }
    for (i = 4; i < nfield; i++) {
	if ((field[i][0] != 'E' && field[i][0] != 'W') || (colon = strchr(field[i], ':')) == 0)
	    fail_msg("%s:%d: bad check \"%s\"", c->file, lineno, field[i]);
	*colon = 0;
	if (str_to_long(field[i] + 1, 0, 100000, &want_line) != 0)
	    fail_msg("%s:%d: bad line number in a check", c->file, lineno);
	for (found = 0, j = 0; j < l.count && !found; j++)
	    found = (l.is_error[j] == (field[i][0] == 'E') && l.line[j] == want_line
		     && strstr(l.msg[j], colon + 1) != 0);
	if (!found) {
	    print_error("%s:%d: no %s on line %ld containing \"%s\"\n", c->file, lineno,
			field[i][0] == 'E' ? "error" : "warning", want_line, colon + 1);
	    c->failures++;
	}
    }
    policy_free(&p);
    return (0);
}

static void test_lint(void **state)
{
    CTX     c = {"policy-lint-vectors.txt", 0};

    assert_true(testdata_rows(c.file, '|', lint_row, &c) >= 14);
    assert_int_equal(c.failures, 0);
}

/* match_row - one pattern-vectors.txt row */

static int match_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    int     want;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", c->file, lineno, nfield);
    want = strcmp(field[2], "1") == 0;
    if (policy_pattern_match(field[0], field[1]) != want) {
	print_error("%s:%d: \"%s\" vs \"%s\": want %d\n", c->file, lineno, field[0], field[1], want);
	c->failures++;
    }
    return (0);
}

static void test_pattern_match(void **state)
{
    CTX     c = {"pattern-vectors.txt", 0};

    assert_true(testdata_rows(c.file, '|', match_row, &c) >= 33);
    assert_int_equal(c.failures, 0);
    assert_false(policy_pattern_match(0, "a.example"));
    assert_false(policy_pattern_match("a.example", 0));
}

/* valid_row - one pattern-valid-vectors.txt row */

static int valid_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char    pattern[EXPAND_MAX];
    WHY     why;
    int     st;
    int     want;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", c->file, lineno, nfield);
    (void) test_policy_field(pattern, sizeof(pattern), field[0], testdata_len[0], c->file, lineno);
    (void) test_policy_expand(pattern, testdata_len[0], sizeof(pattern), c->file, lineno);
    want = strcmp(field[1], "ok") == 0 ? STATUS_OK : STATUS_INVAL;
    why.text[0] = 0;
    st = policy_pattern_valid(pattern, &why);
    if (st != want || (st != STATUS_OK && strstr(why.text, field[2]) == 0)) {
	print_error("%s:%d: \"%.60s\": want %s \"%s\", got %s \"%s\"\n", c->file, lineno,
		    pattern, field[1], field[2], status_name(st), why.text);
	c->failures++;
    }
    return (0);
}

static void test_pattern_valid(void **state)
{
    CTX     c = {"pattern-valid-vectors.txt", 0};

    assert_true(testdata_rows(c.file, '|', valid_row, &c) >= 33);
    assert_int_equal(c.failures, 0);
    assert_int_equal(policy_pattern_valid(0, 0), STATUS_INVAL);
}

/* The 64 KiB cap: 65536 octets parse, 65537 do not (never truncated). */

static void test_oversized(void **state)
{
    static const char head[] = "version: STSv1\nmode: enforce\nmx: m.example\nmax_age: 86400\n";
    size_t  len = POLICY_BODY_MAX + 1;
    char   *body = malloc(len);
    char   *exact;
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
    assert_int_equal(policy_lint(body, len, &p, 0, 0), STATUS_INVAL);
    assert_null(p);

    /* Exactly at the cap it parses; the copy has no byte after it. */
    exact = test_policy_dup(body, POLICY_BODY_MAX);
    assert_true(exact[POLICY_BODY_MAX - 1] != '\n');
    assert_int_equal(policy_parse(exact, POLICY_BODY_MAX, &p, &why), STATUS_OK);
    assert_int_equal(p->mode, POLICY_MODE_ENFORCE);
    assert_int_equal(p->mx_count, 1);
    policy_free(&p);
    free(exact);
    free(body);
}

/*
 * No cap below the body size: a 64 KiB body packed with short distinct
 * patterns keeps every one, in order; a repeat does not count.
 */

static void test_mx_cap(void **state)
{
    size_t  size = POLICY_BODY_MAX + 1;
    char   *body = malloc(size);
    POLICY *p = 0;
    WHY     why;
    char    last[32];
    int     n;

    (void) state;
    assert_non_null(body);
    body[0] = 0;
    (void) str_append(body, size, "version: STSv1\nmode: enforce\nmax_age: 86400\nmx:MX0.t.\n");
    for (n = 0; strlen(body) + 16 < POLICY_BODY_MAX; n++)
	(void) str_appendf(body, size, "mx:%x.t\n", n);
    assert_true(n > 6000);
    assert_int_equal(policy_parse(body, strlen(body), &p, &why), STATUS_OK);
    assert_int_equal(p->mx_count, n + 1);
    assert_string_equal(p->mx[0], "mx0.t");
    (void) snprintf(last, sizeof(last), "%x.t", n - 1);
    assert_string_equal(p->mx[n], last);
    assert_true(policy_match(p, "abc.t."));
    policy_free(&p);
    free(body);
}

/* policy_match() over a parsed policy (RFC 8461 section 4.1). */

static void test_match_policy(void **state)
{
    static const char body[] = "version: STSv1\nmode: enforce\nmx: mx1.example.com\nmx: *.example.net\nmax_age: 86400\n";
    POLICY *p = 0;

    assert_int_equal(policy_parse(body, sizeof(body) - 1, &p, 0), STATUS_OK);
    assert_true(policy_match(p, "MX1.example.com."));
    assert_true(policy_match(p, "a.example.net"));
    assert_false(policy_match(p, "example.net"));
    assert_false(policy_match(p, "a.b.example.net"));
    assert_false(policy_match(p, "mx2.example.com"));
    assert_false(policy_match(p, ""));
    assert_false(policy_match(p, 0));
    assert_false(policy_match(0, "mx1.example.com"));
    policy_free(&p);
    assert_null(p);
    policy_free(&p);				/* safe on null */
    policy_free(0);
}

/* Null and odd arguments: errors, not crashes; names for every mode. */

static void test_odd_args(void **state)
{
    static const char body[] = "version: STSv1\nmode: none\nmax_age: 86400\n";
    POLICY *p = (POLICY *) 1;
    WHY     why;

    assert_int_equal(policy_parse(0, 0, &p, &why), STATUS_INVAL);
    assert_null(p);
    assert_int_equal(policy_parse(0, 10, &p, &why), STATUS_INVAL);
    assert_null(p);
    /* A null out: lint only. */
    assert_int_equal(policy_lint(body, sizeof(body) - 1, 0, 0, 0), STATUS_OK);
    assert_int_equal(policy_parse(body, sizeof(body) - 1, 0, 0), STATUS_OK);
    assert_string_equal(policy_mode_name(POLICY_MODE_NONE), "none");
    assert_string_equal(policy_mode_name(POLICY_MODE_TESTING), "testing");
    assert_string_equal(policy_mode_name(POLICY_MODE_ENFORCE), "enforce");
    assert_string_equal(policy_mode_name(99), "unknown");
}

/* lenient_row - one policy_lenient() vector */

static int lenient_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    POLICY_LENIENT out;
    char    want_lenient[64];
    char   *body;
    long    line;
    int     want = strcmp(field[0], "ok") == 0 ? STATUS_OK : STATUS_INVAL;
    int     st;

    if (nfield != 6 || str_to_long(field[1], 0, 1000, &line) != 0)
	fail_msg("%s:%d: want 6 fields and a line number", c->file, lineno);
    body = test_policy_dup(field[5], testdata_len[5]);
    st = policy_lenient(body, testdata_len[5], &out);
    (void) snprintf(want_lenient, sizeof(want_lenient), "%s%s",
		    out.lenient_ok ? policy_mode_name(out.lenient_mode) : "no",
		    out.ambiguous ? " ambiguous" : "");
    if (st != want || out.line != (int) line || strcmp(want_lenient, field[2]) != 0
	|| (strcmp(field[3], "-") == 0 ? out.problem[0] != 0 : strstr(out.problem, field[3]) == 0)
	|| strcmp(out.line_text, strcmp(field[4], "-") == 0 ? "" : field[4]) != 0) {
	print_error("%s:%d: want %s line %ld lenient %s \"%s\" [%s]; got %d line %d lenient %s \"%s\" [%s]\n",
		    c->file, lineno, field[0], line, field[2], field[3], field[4], st, out.line,
		    want_lenient, out.problem, out.line_text);
	c->failures++;
    }
    free(body);
    return (0);
}

static void test_lenient(void **state)
{
    CTX     c = {"policy-lenient-vectors.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', lenient_row, &c) >= 14);
    assert_int_equal(c.failures, 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_files),
	cmocka_unit_test(test_lint),
	cmocka_unit_test(test_pattern_match),
	cmocka_unit_test(test_pattern_valid),
	cmocka_unit_test(test_oversized),
	cmocka_unit_test(test_mx_cap),
	cmocka_unit_test(test_match_policy),
	cmocka_unit_test(test_odd_args),
	cmocka_unit_test(test_lenient),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
