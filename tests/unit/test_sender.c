/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_sender 1
 * SUMMARY
 *	unit tests for sender.c (named sender behaviours)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_sender
 * DESCRIPTION
 *	Table-driven from tests/unit/data/sender-vectors.txt (its header
 *	gives the format): each row builds the VERDICT a route check would
 *	give (the engine's seam) and checks what sender_view() concludes
 *	for the named behaviour. Further tests cover the names and an
 *	unknown behaviour.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "policy.h"
#include "sender.h"
#include "status.h"
#include "str.h"
#include "testdata.h"
#include "verdict.h"

#define SENDER_FILE	"sender-vectors.txt"

typedef struct CTX {
    const char *file;
    int     failures;
} CTX;

static int test_verdict_code(const char *name)
{
    int     i;

    for (i = 0; i < VERDICT_COUNT; i++)
	if (strcmp(verdict_name(i), name) == 0)
	    return (i);
    return (-1);
}

/* One host: NAME[>CNAME]/RESULT/CERTNAMES[/dane]. */

static void test_host(VERDICT *v, char *spec, const char *file, int lineno)
{
    VERDICT_HOST *h;
    char   *part[4];
    char   *gt, *name;
    char   *save = 0;
    int     n;
    int     i;

    part[0] = spec;
    for (n = 1; n < 4 && (part[n] = strchr(part[n - 1], '/')) != 0; n++)
	*part[n]++ = 0;
    if (n < 3)
	fail_msg("%s:%d: host \"%s\": want NAME/RESULT/CERTNAMES", file, lineno, spec);
    if ((gt = strchr(part[0], '>')) != 0)
	*gt++ = 0;
    assert_non_null(h = verdict_add_host(v, part[0], 10 * v->host_count));
    if (gt)
	(void) str_copy(h->cname, sizeof(h->cname), gt);
    h->dane = (n == 4 && strcmp(part[3], "dane") == 0);
    h->passed = strcmp(part[1], "pass") == 0;
    h->reason = h->passed ? REASON_NONE : verdict_reason_code(part[1]);
    if (h->reason < 0)
	fail_msg("%s:%d: unknown reason \"%s\"", file, lineno, part[1]);
    for (i = 0; i < v->policy_mx_count; i++)
	if (policy_pattern_match(v->policy_mx[i], h->name))
	    h->listed = 1;
    if (strcmp(part[2], "-") != 0) {
	for (name = strtok_r(part[2], ",", &save); name && h->cert_name_count < 8;
	     name = strtok_r(0, ",", &save))
	    (void) str_copy(h->cert_names[h->cert_name_count++], sizeof(h->cert_names[0]), name);
	(void) str_copy(h->address, sizeof(h->address), "192.0.2.1");
    }
}

static int sender_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    VERDICT *v;
    SENDER_VIEW view;
    char   *mx[16];
    char   *save = 0;
    char   *tok;
    int     count = 0;
    int     behaviour = sender_code(field[0]);
    int     want;

    if (nfield != 8)
	fail_msg("%s:%d: want 8 fields", c->file, lineno);
    if (behaviour < 0)
	fail_msg("%s:%d: unknown behaviour \"%s\"", c->file, lineno, field[0]);
    assert_non_null(v = verdict_create("c.test"));
    v->verdict = test_verdict_code(field[3]);
    v->reason = REASON_NONE;
    if (strcmp(field[1], "-") != 0) {
	v->has_policy = 1;
	v->policy_mode = strcmp(field[1], "enforce") == 0 ? POLICY_MODE_ENFORCE :
	    strcmp(field[1], "testing") == 0 ? POLICY_MODE_TESTING : POLICY_MODE_NONE;
    }
    for (tok = strtok_r(field[2], " ", &save); tok && strcmp(tok, "-") != 0 && count < 16;
	 tok = strtok_r(0, " ", &save))
	mx[count++] = tok;
    assert_int_equal(verdict_set_policy_mx(v, mx, count), 0);
    for (tok = strtok_r(field[4], " ", &save); tok; tok = strtok_r(0, " ", &save))
	test_host(v, tok, c->file, lineno);
    verdict_explain(v);
    want = test_verdict_code(field[5]);
    assert_int_equal(sender_view(behaviour, v, &view), STATUS_OK);
    if (view.verdict != want || strcmp(verdict_reason_label(view.reason), field[6]) != 0
	|| (strcmp(field[7], "-") == 0 ? view.fix[0] != 0 : strstr(view.fix, field[7]) == 0)
	|| view.explanation[0] == 0) {
	print_error("%s:%d: want %s %s fix \"%s\"; got %s %s fix \"%s\" (%s)\n", c->file, lineno,
		    field[5], field[6], field[7], verdict_name(view.verdict),
		    verdict_reason_label(view.reason), view.fix, view.explanation);
	c->failures++;
    }
    verdict_free(&v);
    return (0);
}

static void test_vectors(void **state)
{
    CTX     c = {SENDER_FILE, 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', sender_row, &c) >= 19);
    assert_int_equal(c.failures, 0);
}

static void test_names(void **state)
{
    VERDICT *v;
    SENDER_VIEW view;

    (void) state;
    assert_string_equal(sender_name(SENDER_RFC), "rfc");
    assert_string_equal(sender_name(SENDER_OUTLOOK), "outlook");
    assert_string_equal(sender_name(SENDER_COUNT), "unknown");
    assert_int_equal(sender_code("outlook"), SENDER_OUTLOOK);
    assert_int_equal(sender_code("gmail"), -1);
    assert_int_equal(sender_code(0), -1);
    assert_non_null(v = verdict_create("c.test"));
    assert_int_equal(sender_view(SENDER_COUNT, v, &view), STATUS_INVAL);
    assert_int_equal(sender_view(-1, v, &view), STATUS_INVAL);
    verdict_free(&v);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_vectors),
	cmocka_unit_test(test_names),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
