/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_action 1
 * SUMMARY
 *	unit tests for action.c (verdict to action, reply, tag header, scope)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_action
 * DESCRIPTION
 *	Table-driven from tests/unit/data:
 *
 *	action-decide.txt	action_decide(): configured and effective
 *				action, monitor mode, tag.
 *	action-reply.txt	action_reply(): code, enhanced code, text;
 *				every row also checks the line length cap
 *				and the absence of control bytes.
 *	action-tag.txt		action_tag_add(): one entry per domain.
 *	action-scope.txt	action_scope_client(): act_on, mynetworks.
 *	action-domain.txt	action_scope_domain(): local and skip domains.
 *
 *	One more test fills a tag header with 200 domains and checks the
 *	ACTION_TAG_MAX cap and the "..." end; another adds an empty domain
 *	(fuzz_action found that it looped forever), under a 10 s alarm so
 *	that the old endless loop fails the test instead of hanging it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "action.h"
#include "conf.h"
#include "status.h"
#include "str.h"
#include "testdata.h"
#include "verdict.h"
#include "why.h"

static CONF *row_conf(const char *text, const char *file, int lineno)
{
    char    buf[CONF_VALUE_MAX];
    CONF   *conf = 0;
    WHY     why;

    why.text[0] = 0;
    if (str_copy(buf, sizeof(buf), text) < 0)
	fail_msg("%s:%d: conf text too long", file, lineno);
    if (conf_parse(file, buf, strlen(buf), &conf, &why) != STATUS_OK)
	fail_msg("%s:%d: conf: %s", file, lineno, why.text);
    return (conf);
}

static int row_verdict(const char *s, const char *file, int lineno)
{
    int     i;

    if (strcmp(s, "internal-error") == 0)
	return (ACTION_INTERNAL_ERROR);
    for (i = 0; i < VERDICT_COUNT; i++)
	if (strcmp(verdict_name(i), s) == 0)
	    return (i);
    fail_msg("%s:%d: unknown verdict \"%s\"", file, lineno, s);
    return (-2);
}

static int row_action(const char *s, const char *file, int lineno)
{
    int     i;

    for (i = ACTION_ACCEPT; i <= ACTION_REJECT; i++)
	if (strcmp(action_name(i), s) == 0)
	    return (i);
    fail_msg("%s:%d: unknown action \"%s\"", file, lineno, s);
    return (-1);
}

/* action-decide.txt */

static int decide_row(void *ctx, int lineno, int nfield, char **field)
{
    CONF   *conf;
    ACTION  act;

    if (nfield != 6)
	fail_msg("action-decide.txt:%d: want 6 fields, got %d", lineno, nfield);
    conf = row_conf(field[0], "action-decide.txt", lineno);
    action_decide(conf, row_verdict(field[1], "action-decide.txt", lineno), &act);
    if (act.configured != row_action(field[2], "action-decide.txt", lineno))
	fail_msg("action-decide.txt:%d: configured %s, want %s", lineno, action_name(act.configured), field[2]);
    if (act.action != row_action(field[3], "action-decide.txt", lineno))
	fail_msg("action-decide.txt:%d: action %s, want %s", lineno, action_name(act.action), field[3]);
    if (act.monitor != (field[4][0] == '1'))
	fail_msg("action-decide.txt:%d: monitor %d, want %s", lineno, act.monitor, field[4]);
    if (act.tag != (field[5][0] == '1'))
	fail_msg("action-decide.txt:%d: tag %d, want %s", lineno, act.tag, field[5]);
    conf_unref(&conf);
    assert_null(conf);
    (*(int *) ctx)++;
    return (0);
}

static void test_action_decide(void **state)
{
    int     n = 0;
    int     rows;

    (void) state;
    rows = testdata_rows("action-decide.txt", '|', decide_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 25);
}

/* The front ends' view of a verdict (answer.h); one at a time. */

static const ANSWER *ans_of(const VERDICT *v)
{
    static ANSWER a;

    answer_from_verdict(v, &a);
    return (&a);
}

/* action-reply.txt */

static int reply_row(void *ctx, int lineno, int nfield, char **field)
{
    VERDICT *v;
    ACTION  act;
    ACTION_REPLY reply;
    char    line[2048];
    const char *p;
    int     ret;
    int     fail_class;

    if (nfield != 9)
	fail_msg("action-reply.txt:%d: want 9 fields, got %d", lineno, nfield);
    v = verdict_create(field[3]);
    assert_non_null(v);
    v->verdict = row_verdict(field[0], "action-reply.txt", lineno);
    (void) str_copy(v->explanation, sizeof(v->explanation), field[4]);
    (void) str_copy(v->tlsrpt, sizeof(v->tlsrpt), field[5]);
    memset(&act, 0, sizeof(act));
    act.verdict = v->verdict;
    act.configured = act.action = row_action(field[1], "action-reply.txt", lineno);
    ret = action_reply(&act, v->verdict == ACTION_INTERNAL_ERROR ? 0 : ans_of(v), field[3], field[2], &reply);
    if (strcmp(field[6], "-") == 0) {
	if (ret != -1 || reply.code[0] || reply.text[0])
	    fail_msg("action-reply.txt:%d: want no reply, got %d \"%s\"", lineno, ret, reply.text);
	goto done;
    }
    if (ret != 0)
	fail_msg("action-reply.txt:%d: action_reply returned %d", lineno, ret);
    if (strcmp(reply.code, field[6]) != 0 || strcmp(reply.dsn, field[7]) != 0)
	fail_msg("action-reply.txt:%d: got %s %s, want %s %s", lineno, reply.code, reply.dsn, field[6], field[7]);
    if (field[8][0] == '^') {
	if (strncmp(reply.text, field[8] + 1, strlen(field[8] + 1)) != 0)
	    fail_msg("action-reply.txt:%d: got \"%s\", want prefix \"%s\"", lineno, reply.text, field[8] + 1);
    } else if (field[8][0] == '$') {
	if (strlen(reply.text) < strlen(field[8] + 1)
	    || strcmp(reply.text + strlen(reply.text) - strlen(field[8] + 1), field[8] + 1) != 0)
	    fail_msg("action-reply.txt:%d: got \"%s\", want suffix \"%s\"", lineno, reply.text, field[8] + 1);
	if (strstr(reply.text, "...") != 0)
	    fail_msg("action-reply.txt:%d: cut although it fits: \"%s\"", lineno, reply.text);
    } else if (strcmp(reply.text, field[8]) != 0) {
	fail_msg("action-reply.txt:%d: got \"%s\", want \"%s\"", lineno, reply.text, field[8]);
    }
    (void) snprintf(line, sizeof(line), "%s %s %s", reply.code, reply.dsn, reply.text);
    /* RFC 5321 section 4.5.3.1.5: 512 octets with CRLF. */
    if (strlen(line) > ACTION_LINE_MAX)
	fail_msg("action-reply.txt:%d: line is %zu bytes", lineno, strlen(line));
    for (p = line; *p; p++)
	if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
	    fail_msg("action-reply.txt:%d: control byte 0x%02x in the reply", lineno, (unsigned char) *p);
    fail_class = (v->verdict == VERDICT_ENFORCE_FAIL || v->verdict == VERDICT_TESTING_FAIL);
    if (fail_class && strstr(reply.text, "; contact the recipient another way") == 0)
	fail_msg("action-reply.txt:%d: the advice is missing: \"%s\"", lineno, reply.text);
    if (v->verdict == VERDICT_TEMPORARY && strlen(reply.text) > 17
	&& strcmp(reply.text + strlen(reply.text) - 17, "; try again later") != 0)
	fail_msg("action-reply.txt:%d: the advice is missing: \"%s\"", lineno, reply.text);
    if (field[8][0] == '^' && strstr(reply.text, "...") == 0)
	fail_msg("action-reply.txt:%d: a long text must be cut with \"...\": %s", lineno, reply.text);

done:
    verdict_free(&v);
    assert_null(v);
    (*(int *) ctx)++;
    return (0);
}

static void test_action_reply(void **state)
{
    int     n = 0;
    int     rows;

    (void) state;
    rows = testdata_rows("action-reply.txt", '|', reply_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 15);
}

/* action-tag.txt */

typedef struct TAG_STATE {
    char    header[ACTION_TAG_MAX + 1];
    int     rows;
} TAG_STATE;

static int tag_row(void *ctx, int lineno, int nfield, char **field)
{
    TAG_STATE *ts = ctx;
    VERDICT *v;
    ACTION  act;
    int     ret;

    if (nfield != 6 && !(nfield == 5 && strcmp(field[0], "RESET") == 0))
	fail_msg("action-tag.txt:%d: want 6 fields, got %d", lineno, nfield);
    ts->rows++;
    if (strcmp(field[0], "RESET") == 0) {
	ts->header[0] = 0;
	return (0);
    }
    v = verdict_create(field[0]);
    assert_non_null(v);
    v->verdict = row_verdict(field[1], "action-tag.txt", lineno);
    v->reason = strcmp(field[2], "-") == 0 ? REASON_NONE : verdict_reason_code(field[2]);
    if (v->reason < 0)
	fail_msg("action-tag.txt:%d: unknown reason %s", lineno, field[2]);
    memset(&act, 0, sizeof(act));
    act.verdict = v->verdict;
    act.action = ACTION_TAG;
    act.tag = 1;
    if (strcmp(field[3], "-") != 0) {
	act.monitor = 1;
	act.configured = row_action(field[3], "action-tag.txt", lineno);
    }
    ret = action_tag_add(ts->header, sizeof(ts->header), &act, ans_of(v), field[0]);
    if (ret != (field[4][0] == '1' ? 1 : 0))
	fail_msg("action-tag.txt:%d: returned %d, want %s", lineno, ret, field[4]);
    if (strcmp(ts->header, field[5]) != 0)
	fail_msg("action-tag.txt:%d: got \"%s\", want \"%s\"", lineno, ts->header, field[5]);
    verdict_free(&v);
    return (0);
}

static void test_action_tag(void **state)
{
    TAG_STATE ts;
    int     rows;

    (void) state;
    memset(&ts, 0, sizeof(ts));
    rows = testdata_rows("action-tag.txt", '|', tag_row, &ts);
    assert_int_equal(rows, ts.rows);
    assert_true(ts.rows >= 7);
}

/* 200 domains: the value stays under the cap and ends in "...". */

static void test_action_tag_cap(void **state)
{
    char    header[ACTION_TAG_MAX + 1];
    char    dom[64];
    VERDICT *v;
    ACTION  act;
    int     added = 0;
    int     full = 0;
    int     i;

    (void) state;
    header[0] = 0;
    memset(&act, 0, sizeof(act));
    act.action = ACTION_TAG;
    act.tag = 1;
    for (i = 0; i < 200; i++) {
	(void) snprintf(dom, sizeof(dom), "domain-number-%03d.example", i);
	v = verdict_create(dom);
	v->verdict = VERDICT_TEMPORARY;
	v->reason = REASON_TIMEOUT;
	switch (action_tag_add(header, sizeof(header), &act, ans_of(v), dom)) {
	case 1:
	    added++;
	    assert_int_equal(full, 0);		/* nothing after the first miss */
	    break;
	case -1:
	    full++;
	    break;
	default:
	    fail_msg("domain %d reported as a duplicate", i);
	}
	verdict_free(&v);
	assert_true(strlen(header) <= ACTION_TAG_MAX);
    }
    assert_true(added >= 10);
    assert_true(full > 0);
    assert_int_equal(strcmp(header + strlen(header) - 5, "; ..."), 0);
    assert_null(strchr(header, '\n'));
}

/*
 * An empty domain: added once, found again, and no endless loop; a
 * domain found only by an overlapping search; a tiny buffer: nothing
 * added and -1.
 */

static void test_action_tag_empty_domain(void **state)
{
    static const char *const start[] = {
	"", "a.test temporary (-)", "a.test temporary (-); b.test temporary (-)", 0,
    };
    char    header[ACTION_TAG_MAX + 1];
    VERDICT *v;
    ACTION  act;
    int     i;

    (void) state;
    memset(&act, 0, sizeof(act));
    act.verdict = VERDICT_TEMPORARY;
    act.action = ACTION_TAG;
    act.tag = 1;
    v = verdict_create("");
    assert_non_null(v);
    v->verdict = VERDICT_TEMPORARY;
    (void) alarm(10);
    for (i = 0; start[i]; i++) {
	(void) snprintf(header, sizeof(header), "%s", start[i]);
	assert_int_equal(action_tag_add(header, sizeof(header), &act, ans_of(v), ""), 1);
	assert_true(strlen(header) > strlen(start[i]));
	assert_int_equal(action_tag_add(header, sizeof(header), &act, ans_of(v), ""), 0);
	assert_int_equal(action_tag_add(header, sizeof(header), &act, ans_of(v), "c.test"), 1);
	assert_int_equal(action_tag_add(header, sizeof(header), &act, ans_of(v), ""), 0);
    }
    (void) alarm(0);

    /* Overlapping occurrences: "   " follows "; " plus a space. */
    (void) snprintf(header, sizeof(header), "a.test temporary (-)");
    assert_int_equal(action_tag_add(header, sizeof(header), &act, ans_of(v), "   "), 1);
    assert_int_equal(action_tag_add(header, sizeof(header), &act, ans_of(v), "   "), 0);

    /* A buffer too small for any entry: -1, never "added" (fuzz_action). */
    for (i = 1; i < 8; i++) {
	header[0] = 0;
	assert_int_equal(action_tag_add(header, (size_t) i, &act, ans_of(v), "a.test"), -1);
	assert_true(strlen(header) < (size_t) i);
    }
    verdict_free(&v);
}

/* action-scope.txt */

static int scope_row(void *ctx, int lineno, int nfield, char **field)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
    const struct sockaddr *sa = 0;
    CONF   *conf;
    int     got;

    if (nfield != 4)
	fail_msg("action-scope.txt:%d: want 4 fields, got %d", lineno, nfield);
    conf = row_conf(field[0], "action-scope.txt", lineno);
    memset(&ss, 0, sizeof(ss));
    if (strcmp(field[2], "-") == 0) {
	sa = 0;
    } else if (inet_pton(AF_INET, field[2], &sin->sin_addr) == 1) {
	sin->sin_family = AF_INET;
	sa = (struct sockaddr *) &ss;
    } else if (inet_pton(AF_INET6, field[2], &sin6->sin6_addr) == 1) {
	sin6->sin6_family = AF_INET6;
	sa = (struct sockaddr *) &ss;
    } else {
	fail_msg("action-scope.txt:%d: bad address %s", lineno, field[2]);
    }
    got = action_scope_client(conf, field[1][0] == '1', sa);
    if (got != (field[3][0] == '1'))
	fail_msg("action-scope.txt:%d: got %d, want %s", lineno, got, field[3]);
    conf_unref(&conf);
    (*(int *) ctx)++;
    return (0);
}

static void test_action_scope_client(void **state)
{
    int     n = 0;
    int     rows;

    (void) state;
    rows = testdata_rows("action-scope.txt", '|', scope_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 20);
}

/* action-domain.txt */

static int domain_row(void *ctx, int lineno, int nfield, char **field)
{
    CONF   *conf;
    int     got;

    if (nfield != 3)
	fail_msg("action-domain.txt:%d: want 3 fields, got %d", lineno, nfield);
    conf = row_conf(field[0], "action-domain.txt", lineno);
    got = action_scope_domain(conf, field[1]);
    if (got != (field[2][0] == '1'))
	fail_msg("action-domain.txt:%d: got %d, want %s", lineno, got, field[2]);
    conf_unref(&conf);
    (*(int *) ctx)++;
    return (0);
}

static void test_action_scope_domain(void **state)
{
    int     n = 0;
    int     rows;

    (void) state;
    rows = testdata_rows("action-domain.txt", '|', domain_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 12);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_action_decide),
	cmocka_unit_test(test_action_reply),
	cmocka_unit_test(test_action_tag),
	cmocka_unit_test(test_action_tag_cap),
	cmocka_unit_test(test_action_tag_empty_domain),
	cmocka_unit_test(test_action_scope_client),
	cmocka_unit_test(test_action_scope_domain),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
