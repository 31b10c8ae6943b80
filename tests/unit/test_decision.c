/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_decision 1
 * SUMMARY
 *	unit tests for decision.c (the RCPT decision log line)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_decision
 * DESCRIPTION
 *	Table-driven from tests/unit/data/decision-line.txt (its header
 *	gives the format): field order, the optional sasl_username, the
 *	null sender, NOQUEUE, monitor_mode and notes, the reply or the
 *	explanation at the end, and sanitized remote text. Then every
 *	output size: always NUL-terminated, -1 when cut.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decision.h"
#include "str.h"
#include "testdata.h"
#include "verdict.h"

typedef struct CTX {
    const char *file;
    int     rows;
    int     failures;
} CTX;

static const char *field_or_null(const char *f)
{
    return (strcmp(f, "null") == 0 ? 0 : f);
}

static int action_number(const char *name)
{
    static const char *names[] = {"accept", "tag", "defer", "reject"};
    int     i;

    for (i = 0; i < 4; i++)
	if (strcmp(names[i], name) == 0)
	    return (i);
    fail_msg("unknown action %s", name);
    return (-1);
}

static int line_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = ctx;
    DECISION d;
    ANSWER  ans;
    ACTION  act;
    ACTION_REPLY reply;
    char    out[2048];
    char   *sp;
    long    n;

    if (nfield != 15)
	fail_msg("%s:%d: want 15 fields, got %d", c->file, lineno, nfield);
    memset(&d, 0, sizeof(d));
    memset(&ans, 0, sizeof(ans));
    memset(&act, 0, sizeof(act));
    memset(&reply, 0, sizeof(reply));
    d.qid = field_or_null(field[0]);
    d.client = field_or_null(field[1]);
    d.from = field_or_null(field[2]);
    d.sasl_username = field_or_null(field[3]);
    d.rcpt = field[4];
    d.domain = field[5];
    if (strcmp(field[6], "-") != 0) {
	if (str_to_long(field[6], 0, VERDICT_COUNT - 1, &n) != 0)
	    fail_msg("%s:%d: bad verdict", c->file, lineno);
	ans.verdict = (int) n;
	(void) str_copy(ans.reasons, sizeof(ans.reasons), field[7]);
	(void) str_copy(ans.explanation, sizeof(ans.explanation), field[8]);
	d.answer = &ans;
    }
    act.action = action_number(field[9]);
    if (strcmp(field[10], "-") != 0) {
	act.monitor = 1;
	act.configured = action_number(field[10]);
    }
    d.act = &act;
    d.note = field[11];
    if (str_to_long(field[12], 0, 1000000, &d.delay_ms) != 0)
	fail_msg("%s:%d: bad delay", c->file, lineno);
    if (strcmp(field[13], "-") != 0) {
	(void) str_copy(reply.code, sizeof(reply.code), field[13]);
	if ((sp = strchr(reply.code, ' ')) != 0)
	    *sp = 0;
	(void) str_copy(reply.dsn, sizeof(reply.dsn), field[13] + 4);
	if ((sp = strchr(reply.dsn, ' ')) != 0)
	    *sp = 0;
	(void) str_copy(reply.text, sizeof(reply.text), field[13] + 5 + strlen(reply.dsn));
    }
    d.reply = &reply;
    assert_int_equal(decision_line(out, sizeof(out), &d), 0);
    if (strcmp(out, field[14]) != 0) {
	print_error("%s:%d:\n want \"%s\"\n got  \"%s\"\n", c->file, lineno, field[14], out);
	c->failures++;
    }
    c->rows++;
    return (0);
}

static void test_line(void **state)
{
    CTX     c = {"decision-line.txt", 0, 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', line_row, &c) >= 8);
    assert_int_equal(c.failures, 0);
}

/* Every output size: NUL-terminated, a prefix of the whole line, -1 when cut. */

static void test_sizes(void **state)
{
    DECISION d;
    ANSWER  ans;
    ACTION  act;
    ACTION_REPLY reply;
    char    whole[2048];
    char    out[2048 + 8];
    size_t  size;
    int     st;

    (void) state;
    memset(&d, 0, sizeof(d));
    memset(&ans, 0, sizeof(ans));
    memset(&act, 0, sizeof(act));
    memset(&reply, 0, sizeof(reply));
    ans.verdict = VERDICT_OK;
    (void) str_copy(ans.explanation, sizeof(ans.explanation), "fine");
    act.action = 0;
    d.qid = "Q";
    d.from = "a@b";
    d.sasl_username = "u";
    d.rcpt = "c@d";
    d.domain = "d";
    d.answer = &ans;
    d.act = &act;
    d.reply = &reply;
    assert_int_equal(decision_line(whole, sizeof(whole), &d), 0);
    assert_int_equal(decision_line(out, 0, &d), -1);
    for (size = 1; size <= strlen(whole) + 1; size++) {
	memset(out, 'Z', sizeof(out));
	st = decision_line(out, size, &d);
	assert_int_equal(strlen(out), size - 1);
	assert_int_equal(strncmp(out, whole, size - 1), 0);
	assert_int_equal(out[size], 'Z');
	assert_int_equal(st, size - 1 == strlen(whole) ? 0 : -1);
    }
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_line),
	cmocka_unit_test(test_sizes),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
