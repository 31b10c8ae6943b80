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
 *	socketmap-tlsrpt.txt	socketmap_reply_ext() with the TLS-RPT
 *				attributes of Postfix 3.10, written from
 *				its TLSRPT_README; every reply is also
 *				parsed by the documented syntax rules.
 *	socketmap-names.txt	socketmap_name_tlsrpt(): map names.
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

/*
 * tlsrpt_syntax - parse a reply as Postfix's documentation describes it
 * and check the TLS-RPT rules; 0, or -1 with the problem in err.
 *
 * postconf(5) smtp_tls_policy_maps: "The lookup result is a security
 * level, followed by an optional list of whitespace and/or comma
 * separated name=value attributes".
 * TLSRPT_README: "Instead of name=value, specify { name = value } when a
 * value may contain whitespace." and "The above form ignores whitespace
 * after the opening "{", around the "=", and before the closing "}"."
 */
static int tlsrpt_syntax(const char *reply, int mx_count, char *err, size_t esize)
{
    char    buf[SOCKETMAP_REPLY_MAX];
    char    name[256];
    char    value[256];
    char   *p;
    char   *end;
    char   *eq;
    int     types = 0, domains = 0, patterns = 0, strings = 0;
    int     sts = 0;
    int     dane;

    if (strncmp(reply, "OK ", 3) != 0)
	return (0);				/* no value: nothing to parse */
    (void) str_copy(buf, sizeof(buf), reply + 3);
    p = buf + strcspn(buf, " \t,");
    dane = (strncmp(buf, "dane", 4) == 0);
    while (*p) {
	p += strspn(p, " \t,");
	if (*p == 0)
	    break;
	if (*p == '{') {
	    if ((end = strchr(p, '}')) == 0) {
		(void) snprintf(err, esize, "unclosed {");
		return (-1);
	    }
	    *end = 0;
	    p++;
	    p += strspn(p, " \t");
	    if ((eq = strchr(p, '=')) == 0) {
		(void) snprintf(err, esize, "{ } without =");
		return (-1);
	    }
	    *eq = 0;
	    (void) str_copy(name, sizeof(name), p);
	    (void) str_copy(value, sizeof(value), eq + 1 + strspn(eq + 1, " \t"));
	    (void) str_trim(name);
	    (void) str_trim(value);
	    p = end + 1;
	} else {
	    end = p + strcspn(p, " \t,");
	    if (*end)
		*end++ = 0;
	    if ((eq = strchr(p, '=')) == 0) {
		(void) snprintf(err, esize, "attribute \"%.40s\" without =", p);
		return (-1);
	    }
	    *eq = 0;
	    (void) str_copy(name, sizeof(name), p);
	    (void) str_copy(value, sizeof(value), eq + 1);
	    p = end;
	}
	if (strchr(value, '{') || strchr(value, '}') || value[0] == 0) {
	    (void) snprintf(err, esize, "%s: empty value or a brace in it", name);
	    return (-1);
	}
	if (strcmp(name, "policy_type") == 0) {
	    /* "policy_type=type  Specify sts or no-policy-found." */
	    types++;
	    sts = (strcmp(value, "sts") == 0);
	    if (!sts && strcmp(value, "no-policy-found") != 0) {
		(void) snprintf(err, esize, "policy_type=%s", value);
		return (-1);
	    }
	} else if (strcmp(name, "policy_domain") == 0) {
	    domains++;
	} else if (strcmp(name, "mx_host_pattern") == 0) {
	    patterns++;
	} else if (strcmp(name, "policy_string") == 0) {
	    strings++;
	    /* Each policy line is "key: value" (RFC 8461 section 3.2). */
	    if (strstr(value, ": ") == 0) {
		(void) snprintf(err, esize, "policy_string \"%s\" is not a policy line", value);
		return (-1);
	    }
	} else if (strcmp(name, "match") != 0 && strcmp(name, "servername") != 0) {
	    (void) snprintf(err, esize, "attribute %s", name);
	    return (-1);
	}
    }
    /* "It is an error to specify these attributes for a non-STS policy." */
    if ((domains || patterns || strings) && !sts) {
	(void) snprintf(err, esize, "TLS-RPT attributes without policy_type=sts");
	return (-1);
    }
    if (dane && types) {
	(void) snprintf(err, esize, "TLS-RPT attributes on a DANE level");
	return (-1);
    }
    if (sts && (types != 1 || domains != 1 || patterns != mx_count || strings != mx_count + 3)) {
	(void) snprintf(err, esize, "counts: type %d domain %d patterns %d strings %d for %d mx", types, domains,
			patterns, strings, mx_count);
	return (-1);
    }
    return (0);
}

/* tlsrpt_row - socketmap_reply_ext() with SOCKETMAP_WANT_TLSRPT */

static int tlsrpt_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    VERDICT *v;
    char    patterns[EXPAND_MAX];
    char   *mx[MX_MAX];
    const char *basis = 0;
    char    err[256];
    char    plain[SOCKETMAP_REPLY_MAX];
    char    mem[GUARD + SOCKETMAP_REPLY_MAX + GUARD];
    char   *out = mem + GUARD;
    char   *p;
    char   *word;
    long    max_age;
    int     flags = -1;
    int     pflags = -1;
    int     st;
    int     i;

    if (nfield != 8)
	fail_msg("%s:%d: want 8 fields, got %d", c->file, lineno, nfield);
    assert_non_null(v = verdict_create("example.com"));
    for (v->verdict = -1, i = 0; i < VERDICT_COUNT; i++)
	if (strcmp(verdict_name(i), field[0]) == 0)
	    v->verdict = i;
    if (v->verdict < 0)
	fail_msg("%s:%d: bad verdict \"%s\"", c->file, lineno, field[0]);
    if (strcmp(field[1], "-") != 0) {
	v->has_policy = 1;
	v->policy_mode = strcmp(field[1], "enforce") == 0 ? POLICY_MODE_ENFORCE
	    : strcmp(field[1], "testing") == 0 ? POLICY_MODE_TESTING : POLICY_MODE_NONE;
    }
    if (str_to_long(field[2], 0, 99999999999L, &max_age) < 0)
	fail_msg("%s:%d: bad max_age", c->file, lineno);
    v->policy_max_age = max_age;
    (void) str_copy(patterns, sizeof(patterns), field[3]);
    for (i = 0, p = patterns; (word = strsep(&p, " ")) != 0;) {
	if (*word == 0)
	    continue;
	if (i >= MX_MAX)
	    fail_msg("%s:%d: more than %d patterns", c->file, lineno, MX_MAX);
	mx[i++] = word;
    }
    assert_int_equal(verdict_set_policy_mx(v, mx, i), 0);
    for (p = field[4]; *p; p++) {
	VERDICT_HOST *h = verdict_add_host(v, "mx.example.com", 10);

	assert_non_null(h);
	h->dane = (*p == 'd');
	if (h->dane)
	    v->dane = 1;
    }
    memset(mem, GUARD_BYTE, sizeof(mem));
    st = socketmap_reply_ext(v, SOCKETMAP_WANT_TLSRPT, out, SOCKETMAP_REPLY_MAX, &flags, &basis);
    for (i = 0; i < GUARD; i++)
	if (mem[i] != GUARD_BYTE || out[SOCKETMAP_REPLY_MAX + i] != GUARD_BYTE)
	    fail_msg("%s:%d: write outside the output buffer", c->file, lineno);
    if (basis == 0 || *basis == 0)
	fail_msg("%s:%d: no basis for the reply", c->file, lineno);
    if (strcmp(socketmap_status_name(st), field[5]) != 0 || strcmp(out, field[6]) != 0
	|| (flags & SOCKETMAP_TLSRPT_OMITTED ? 1 : 0) != (strcmp(field[7], "1") == 0)) {
	print_error("%s:%d: want %s \"%s\" %s, got %s \"%s\" %d\n", c->file, lineno, field[5], field[6],
		    field[7], socketmap_status_name(st), out, flags);
	c->failures++;
    }
    if (tlsrpt_syntax(out, v->policy_mx_count, err, sizeof(err)) < 0) {
	print_error("%s:%d: not Postfix's syntax: %s: \"%s\"\n", c->file, lineno, err, out);
	c->failures++;
    }
    /* Without the option: the plain reply, which the TLS-RPT one extends. */
    st = socketmap_reply(v, plain, sizeof(plain), &pflags, 0);
    if (strncmp(out, plain, strlen(plain)) != 0 || strstr(plain, "policy_type") != 0
	|| (pflags & SOCKETMAP_TLSRPT_OMITTED)) {
	print_error("%s:%d: plain reply \"%s\" is not the start of \"%s\"\n", c->file, lineno, plain, out);
	c->failures++;
    }
    verdict_free(&v);
    return (0);
}

static void test_tlsrpt(void **state)
{
    CTX     c = {"socketmap-tlsrpt.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', tlsrpt_row, &c) >= 11);
    assert_int_equal(c.failures, 0);
}

/* The syntax checker itself refuses what Postfix's documentation forbids. */

static void test_tlsrpt_syntax(void **state)
{
    char    err[256];
    static const char *bad[] = {
	"OK secure match=a.test policy_type=tlsa policy_domain=x.test",
	"OK secure match=a.test policy_domain=x.test",
	"OK secure match=a.test policy_type=sts policy_domain=x.test policy_string=version: STSv1",
	"OK secure match=a.test policy_type=sts policy_domain=x.test { policy_string = version: STSv1",
	"OK dane-only policy_type=sts",
	"OK secure match=a.test policy_type=sts policy_domain=x.test mx_host_pattern=a.test",
    };
    size_t  i;

    (void) state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	assert_int_equal(tlsrpt_syntax(bad[i], 1, err, sizeof(err)), -1);
    assert_int_equal(tlsrpt_syntax("OK secure match=a.test policy_type=sts policy_domain=x.test mx_host_pattern=a.test"
				   " { policy_string = version: STSv1 },{policy_string=mode: enforce}"
				   " { policy_string = mx: a.test } { policy_string = max_age: 1 }", 1, err,
				   sizeof(err)), 0);
}

/* socketmap_name_tlsrpt() */

static int name_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;

    if (nfield != 2)
	fail_msg("%s:%d: want 2 fields, got %d", c->file, lineno, nfield);
    if (socketmap_name_tlsrpt(field[0]) != (strcmp(field[1], "1") == 0)) {
	print_error("%s:%d: \"%s\": want %s\n", c->file, lineno, field[0], field[1]);
	c->failures++;
    }
    return (0);
}

static void test_names(void **state)
{
    CTX     c = {"socketmap-names.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', name_row, &c) >= 12);
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
    /*
     * With the TLS-RPT attributes each pattern is written three times:
     * over Postfix's limit, so they are left out, all of them, and the
     * reply is the plain one (Postfix would fail the lookup, not cut it).
     */
    flags = 0;
    assert_int_equal(socketmap_reply_ext(v, SOCKETMAP_WANT_TLSRPT, out, SOCKETMAP_REPLY_MAX, &flags, 0),
		     SOCKETMAP_OK);
    assert_int_equal(flags, SOCKETMAP_TLSRPT_OMITTED);
    assert_string_equal(out, want);
    verdict_free(&v);
    policy_free(&p);
    free(body);
    free(want);
    free(out);
}

/*
 * A policy whose TLS-RPT reply just fits (SOCKETMAP_REPLY_MAX - 1 bytes)
 * gets the attributes; one more pattern, and they are left out.
 */

static void test_tlsrpt_fit(void **state)
{
    char   *out = malloc(SOCKETMAP_REPLY_MAX);
    char  **mx = calloc(4000, sizeof(*mx));
    char    name[64];
    VERDICT *v;
    size_t  len = 0;
    int     flags;
    int     n;

    (void) state;
    assert_non_null(out);
    assert_non_null(mx);
    assert_non_null(v = verdict_create("example.com"));
    v->verdict = VERDICT_OK;
    v->has_policy = 1;
    v->policy_mode = POLICY_MODE_ENFORCE;
    v->policy_max_age = 86400;
    /* Grow the policy until the attributes no longer fit. */
    for (n = 1; n < 4000; n++) {
	(void) snprintf(name, sizeof(name), "mx%04d.example.net", n);
	assert_non_null(mx[n - 1] = strdup(name));
	assert_int_equal(verdict_set_policy_mx(v, mx, n), 0);
	flags = 0;
	assert_int_equal(socketmap_reply_ext(v, SOCKETMAP_WANT_TLSRPT, out, SOCKETMAP_REPLY_MAX, &flags, 0),
			 SOCKETMAP_OK);
	if (flags & SOCKETMAP_TLSRPT_OMITTED)
	    break;
	len = strlen(out);
	assert_true(strstr(out, " policy_type=sts ") != 0);
    }
    assert_true(n > 1000 && n < 4000);
    /* The last reply with them was within the limit and near it. */
    assert_true(len < SOCKETMAP_REPLY_MAX && len > SOCKETMAP_REPLY_MAX - 100);
    assert_null(strstr(out, "policy_type"));
    assert_null(strstr(out, "policy_string"));
    verdict_free(&v);
    while (n > 0)
	free(mx[--n]);
    free(mx);
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
	cmocka_unit_test(test_tlsrpt),
	cmocka_unit_test(test_tlsrpt_syntax),
	cmocka_unit_test(test_tlsrpt_fit),
	cmocka_unit_test(test_names),
    };

    return (cmocka_run_group_tests_name("socketmap", tests, 0, 0));
}
