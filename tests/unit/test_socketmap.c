/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_socketmap 1
 * SUMMARY
 *	unit tests for socketmap.c (Postfix TLS policy keys and replies)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_socketmap
 * DESCRIPTION
 *	Table-driven from tests/unit/data (each file's header gives its
 *	format):
 *
 *	socketmap-requests.txt	socketmap_request(): "NAME KEY" splitting.
 *	socketmap-keys.txt	socketmap_key(): every key form Postfix
 *				sends, literals, parent domains.
 *	socketmap-replies.txt	socketmap_reply(): the TLS policy for each
 *				kind of verdict.
 *
 *	In fields, {TEXT*N} is TEXT repeated N times (innermost first).
 *	Outputs carry guard bytes; every ok key must map to itself again.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "domain.h"
#include "policy.h"
#include "socketmap.h"
#include "status.h"
#include "str.h"
#include "testdata.h"
#include "verdict.h"

#define EXPAND_MAX	8192
#define GUARD		16
#define GUARD_BYTE	'Z'
#define MX_MAX		64

typedef struct CTX {
    const char *file;
    int     failures;
} CTX;

/* test_socketmap_expand - expand {TEXT*N}, innermost first, in place */

static void test_socketmap_expand(char *s, size_t size, const char *file, int lineno)
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

/* request_row - socketmap_request() */

static int request_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char    in[EXPAND_MAX];
    char    want_name[EXPAND_MAX];
    char    want_key[EXPAND_MAX];
    char    name[SOCKETMAP_NAME_MAX + 1];
    char    key[SOCKETMAP_KEY_MAX + 1];
    size_t  len = testdata_len[0];
    WHY     why;
    int     st;

    if (nfield != 4)
	fail_msg("%s:%d: want 4 fields, got %d", c->file, lineno, nfield);
    /* Expansion only when there is no NUL in the input. */
    if (memchr(field[0], 0, len) == 0) {
	(void) str_copy(in, sizeof(in), field[0]);
	test_socketmap_expand(in, sizeof(in), c->file, lineno);
	len = strlen(in);
    } else {
	memcpy(in, field[0], len);
    }
    (void) str_copy(want_name, sizeof(want_name), field[2]);
    (void) str_copy(want_key, sizeof(want_key), field[3]);
    test_socketmap_expand(want_name, sizeof(want_name), c->file, lineno);
    test_socketmap_expand(want_key, sizeof(want_key), c->file, lineno);
    why.text[0] = 0;
    st = socketmap_request(in, len, name, sizeof(name), key, sizeof(key), &why);
    if (strcmp(field[1], "ok") == 0) {
	if (st != STATUS_OK || strcmp(name, want_name) != 0 || strcmp(key, want_key) != 0) {
	    print_error("%s:%d: want ok \"%.40s\" \"%.40s\", got %s \"%.40s\" \"%.40s\" (%s)\n", c->file,
			lineno, want_name, want_key, status_name(st), name, key, why.text);
	    c->failures++;
	}
    } else if (st != STATUS_INVAL || name[0] || key[0] || strstr(why.text, want_name) == 0) {
	print_error("%s:%d: want inval \"%s\", got %s (%s)\n", c->file, lineno, want_name, status_name(st),
		    why.text);
	c->failures++;
    }
    return (0);
}

static void test_requests(void **state)
{
    CTX     c = {"socketmap-requests.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', request_row, &c) >= 14);
    assert_int_equal(c.failures, 0);
}

/* key_row - socketmap_key() */

static int key_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char    in[EXPAND_MAX];
    char    mem[GUARD + DOMAIN_MAX + 1 + GUARD];
    char   *out = mem + GUARD;
    char    again[DOMAIN_MAX + 1];
    WHY     why;
    int     st;
    int     want;
    int     i;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", c->file, lineno, nfield);
    (void) str_copy(in, sizeof(in), field[0]);
    test_socketmap_expand(in, sizeof(in), c->file, lineno);
    want = strcmp(field[1], "ok") == 0 ? STATUS_OK : strcmp(field[1], "notfound") == 0 ? STATUS_NOTFOUND
	: strcmp(field[1], "inval") == 0 ? STATUS_INVAL : -1;
    if (want < 0)
	fail_msg("%s:%d: bad status \"%s\"", c->file, lineno, field[1]);
    memset(mem, GUARD_BYTE, sizeof(mem));
    why.text[0] = 0;
    st = socketmap_key(in, out, DOMAIN_MAX + 1, &why);
    for (i = 0; i < GUARD; i++)
	if (mem[i] != GUARD_BYTE || out[DOMAIN_MAX + 1 + i] != GUARD_BYTE)
	    fail_msg("%s:%d: write outside the output buffer", c->file, lineno);
    if (st != want) {
	print_error("%s:%d: \"%.60s\": want %s, got %s \"%s\" (%s)\n", c->file, lineno, in, field[1],
		    status_name(st), out, why.text);
	c->failures++;
    } else if (want == STATUS_OK) {
	if (strcmp(out, field[2]) != 0 || socketmap_key(out, again, sizeof(again), 0) != STATUS_OK
	    || strcmp(again, out) != 0) {
	    print_error("%s:%d: \"%s\": want \"%s\", got \"%s\"\n", c->file, lineno, in, field[2], out);
	    c->failures++;
	}
    } else if (out[0] != 0 || why.text[0] == 0 || strstr(why.text, field[2]) == 0) {
	print_error("%s:%d: \"%.60s\": want reason with \"%s\", got \"%s\", output \"%s\"\n", c->file, lineno,
		    in, field[2], why.text, out);
	c->failures++;
    }
    return (0);
}

static void test_keys(void **state)
{
    CTX     c = {"socketmap-keys.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', key_row, &c) >= 45);
    assert_int_equal(c.failures, 0);
}

/* reply_row - socketmap_reply() */

static int reply_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    VERDICT *v;
    char    patterns[EXPAND_MAX];
    char   *mx[MX_MAX];
    const char *basis = 0;
    char    want[EXPAND_MAX];
    char    mem[GUARD + SOCKETMAP_REPLY_MAX + GUARD];
    char   *out = mem + GUARD;
    char   *p;
    char   *word;
    long    count;
    int     flags = -1;
    int     st;
    int     i;

    if (nfield != 9)
	fail_msg("%s:%d: want 9 fields, got %d", c->file, lineno, nfield);
    assert_non_null(v = verdict_create("x.test"));
    for (v->verdict = -1, i = 0; i < VERDICT_COUNT; i++)
	if (strcmp(verdict_name(i), field[0]) == 0)
	    v->verdict = i;
    if (v->verdict < 0)
	fail_msg("%s:%d: bad verdict \"%s\"", c->file, lineno, field[0]);
    if (strcmp(field[1], "-") != 0 && (v->reason = verdict_reason_code(field[1])) < 0)
	fail_msg("%s:%d: bad reason \"%s\"", c->file, lineno, field[1]);
    if (strcmp(field[2], "-") != 0) {
	v->has_policy = 1;
	v->policy_mode = strcmp(field[2], "enforce") == 0 ? 2 : strcmp(field[2], "testing") == 0 ? 1 : 0;
    }
    if (str_to_long(field[3], 0, 1000, &count) < 0)
	fail_msg("%s:%d: bad mx_count", c->file, lineno);
    (void) str_copy(patterns, sizeof(patterns), field[4]);
    test_socketmap_expand(patterns, sizeof(patterns), c->file, lineno);
    for (i = 0, p = patterns; (word = strsep(&p, " ")) != 0;) {
	if (*word == 0)
	    continue;
	if (i >= MX_MAX)
	    fail_msg("%s:%d: more than %d patterns", c->file, lineno, MX_MAX);
	mx[i++] = word;
    }
    if (i != (int) count)
	fail_msg("%s:%d: mx_count %ld but %d patterns", c->file, lineno, count, i);
    assert_int_equal(verdict_set_policy_mx(v, mx, i), 0);
    for (p = field[5]; *p; p++) {
	VERDICT_HOST *h = verdict_add_host(v, "mx.x.test", 10);

	assert_non_null(h);
	h->dane = (*p == 'd' || *p == 'B');
	if (*p == 'B')
	    h->reason = REASON_DNSSEC_INVALID;
	if (h->dane)
	    v->dane = 1;
    }
    (void) str_copy(want, sizeof(want), field[7]);
    test_socketmap_expand(want, sizeof(want), c->file, lineno);
    memset(mem, GUARD_BYTE, sizeof(mem));
    st = socketmap_reply(v, out, SOCKETMAP_REPLY_MAX, &flags, &basis);
    for (i = 0; i < GUARD; i++)
	if (mem[i] != GUARD_BYTE || out[SOCKETMAP_REPLY_MAX + i] != GUARD_BYTE)
	    fail_msg("%s:%d: write outside the output buffer", c->file, lineno);
    if (basis == 0 || *basis == 0)
	fail_msg("%s:%d: no basis for the reply", c->file, lineno);
    if (strcmp(socketmap_status_name(st), field[6]) != 0 || strcmp(out, want) != 0
	|| (flags & SOCKETMAP_TRUNCATED ? 1 : 0) != (strcmp(field[8], "1") == 0)) {
	print_error("%s:%d: want %s \"%s\" %s, got %s \"%s\" %d\n", c->file, lineno, field[6], want,
		    field[8], socketmap_status_name(st), out, flags);
	c->failures++;
    }
    verdict_free(&v);
    return (0);
}

static void test_replies(void **state)
{
    CTX     c = {"socketmap-replies.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', reply_row, &c) >= 30);
    assert_int_equal(c.failures, 0);
}

/* A null verdict (internal error) is TEMP, and every reply fits small buffers safely. */

static void test_reply_edges(void **state)
{
    VERDICT *v;
    char    out[SOCKETMAP_REPLY_MAX];
    char    small[24];
    char   *long_mx[] = {"mx.rather-long-name.example.com"};
    int     flags;

    (void) state;
    assert_int_equal(socketmap_reply(0, out, sizeof(out), &flags, 0), SOCKETMAP_TEMP);
    assert_string_equal(out, "TEMP internal error");
    assert_non_null(v = verdict_create("x.test"));
    v->verdict = VERDICT_OK;
    v->has_policy = 1;
    v->policy_mode = 2;
    assert_int_equal(verdict_set_policy_mx(v, long_mx, 1), 0);
    /* Too small for the policy: TEMP (truncated to fit), never a cut match list. */
    assert_int_equal(socketmap_reply(v, small, sizeof(small), &flags, 0), SOCKETMAP_TEMP);
    assert_true(strncmp(small, "TEMP ", 5) == 0);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    verdict_free(&v);
    assert_null(v);
}

/*
 * A policy body of 64 KiB (RFC 8461 section 3.3) packed with patterns:
 * every one reaches match=, in policy order, within Postfix's reply limit.
 */

static void test_reply_full_policy(void **state)
{
    size_t  size = POLICY_BODY_MAX + 1;
    char   *body = malloc(size);
    char   *want = malloc(SOCKETMAP_REPLY_MAX);
    char   *out = malloc(SOCKETMAP_REPLY_MAX);
    POLICY *p = 0;
    VERDICT *v;
    int     flags;
    int     n;

    (void) state;
    assert_non_null(body);
    assert_non_null(want);
    assert_non_null(out);
    (void) str_copy(body, size, "version: STSv1\nmode: enforce\nmax_age: 86400\nmx: *.first.example\n");
    (void) str_copy(want, SOCKETMAP_REPLY_MAX, "OK secure match=.first.example");
    for (n = 0; strlen(body) + 32 < POLICY_BODY_MAX; n++) {
	(void) str_appendf(body, size, "mx: mx%d.example.net\n", n);
	(void) str_appendf(want, SOCKETMAP_REPLY_MAX, ":mx%d.example.net", n);
    }
    (void) str_append(want, SOCKETMAP_REPLY_MAX, " servername=hostname");
    assert_true(n > 2500);
    assert_int_equal(policy_parse(body, strlen(body), &p, 0), STATUS_OK);
    assert_non_null(v = verdict_create("x.test"));
    v->verdict = VERDICT_OK;
    v->has_policy = 1;
    v->policy_mode = POLICY_MODE_ENFORCE;
    assert_int_equal(verdict_set_policy_mx(v, p->mx, p->mx_count), 0);
    assert_int_equal(v->policy_mx_count, n + 1);
    assert_int_equal(socketmap_reply(v, out, SOCKETMAP_REPLY_MAX, &flags, 0), SOCKETMAP_OK);
    assert_int_equal(flags, 0);
    assert_string_equal(out, want);
    /* Postfix reads at most 100000 bytes (dict_sockmap.c). */
    assert_true(strlen(out) <= 100000);
    verdict_free(&v);
    policy_free(&p);
    free(body);
    free(want);
    free(out);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_requests),
	cmocka_unit_test(test_keys),
	cmocka_unit_test(test_replies),
	cmocka_unit_test(test_reply_edges),
	cmocka_unit_test(test_reply_full_policy),
    };

    return (cmocka_run_group_tests_name("socketmap", tests, 0, 0));
}
