/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_smtpreply 1
 * SUMMARY
 *	unit tests for smtpreply (the SMTP reply parser)
 * DESCRIPTION
 *	Table-driven from tests/unit/data/smtpreply-vectors.txt (its header
 *	describes the format). Each vector is fed whole, split in two at
 *	every byte position, and one byte at a time; the status, code,
 *	line count, consumed octets, line texts, EHLO keywords and error
 *	text must be the same every way. The file is read here rather than
 *	with testdata_rows() because inputs contain NUL bytes, whose length
 *	only testdata_unescape() reports. Further tests cover the state
 *	after completion, reuse after smtpreply_init(), out-of-range lines
 *	and keyword lookups on incomplete replies.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtpreply.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

#define VECTORS		"smtpreply-vectors.txt"
#define INPUT_MAX	(3 * SMTPREPLY_SIZE_MAX)
#define FIELDS_MAX	TESTDATA_MAX_FIELDS

typedef struct VEC {
    int     lineno;
    const char *name;
    char   *in;				/* expanded, unescaped */
    size_t  len;
    int     result;			/* STATUS_OK, STATUS_INVAL, SMTPREPLY_MORE */
    int     code;			/* -1: not checked */
    int     lines;			/* -1: not checked */
    size_t  consumed;
    int     ncheck;
    char   *check[FIELDS_MAX];
} VEC;

/* test_smtpreply_expand - expand {TEXT*N}, innermost first, in place */

static void test_smtpreply_expand(char *s, size_t size, int lineno)
{
    char    tmp[INPUT_MAX];
    char   *open = 0;
    char   *close;
    char   *star = 0;
    long    n;
    long    i;

    while ((close = strchr(s, '}')) != 0) {
	*close = 0;
	if ((open = strrchr(s, '{')) == 0 || (star = strrchr(open, '*')) == 0)
	    fail_msg("%s:%d: bad {TEXT*N}", VECTORS, lineno);
	*star = 0;
	if (str_to_long(star + 1, 0, 100000, &n) != 0)
	    fail_msg("%s:%d: bad repeat count", VECTORS, lineno);
	tmp[0] = 0;
	if (str_copy(tmp, sizeof(tmp), s) != 0)
	    fail_msg("%s:%d: input too long", VECTORS, lineno);
	tmp[open - s] = 0;
	for (i = 0; i < n; i++)
	    if (str_append(tmp, sizeof(tmp), open + 1) != 0)
		fail_msg("%s:%d: input too long", VECTORS, lineno);
	if (str_append(tmp, sizeof(tmp), close + 1) != 0 || str_copy(s, size, tmp) != 0)
	    fail_msg("%s:%d: input too long", VECTORS, lineno);
    }
}

/* test_smtpreply_trim - trim blanks (not escapes) from a field */

static char *test_smtpreply_trim(char *s)
{
    char   *end;

    while (*s == ' ' || *s == '\t')
	s++;
    end = s + strlen(s);
    while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
	*--end = 0;
    return (s);
}

/* test_smtpreply_parse - one data line into a VEC (fields point into line) */

static void test_smtpreply_parse(char *line, int lineno, VEC *v, char *inbuf)
{
    char   *field[FIELDS_MAX];
    int     nfield = 0;
    char   *p = line;
    char   *q;
    long    n;
    int     i;

    while (p && nfield < FIELDS_MAX) {
	for (q = p; *q && !(*q == '|' && (q == p || q[-1] != '\\')); q++)
	     /* void */ ;
	field[nfield++] = p;
	if (*q) {
	    *q = 0;
	    p = q + 1;
	} else
	    p = 0;
    }
    if (nfield < 6)
	fail_msg("%s:%d: want at least 6 fields, got %d", VECTORS, lineno, nfield);
    for (i = 0; i < nfield; i++)
	field[i] = test_smtpreply_trim(field[i]);
    memset(v, 0, sizeof(*v));
    v->lineno = lineno;
    v->name = field[0];
    if (str_copy(inbuf, INPUT_MAX, field[1]) != 0)
	fail_msg("%s:%d: input too long", VECTORS, lineno);
    test_smtpreply_expand(inbuf, INPUT_MAX, lineno);
    v->in = inbuf;
    v->len = testdata_unescape(inbuf);
    if (strcmp(field[2], "ok") == 0)
	v->result = STATUS_OK;
    else if (strcmp(field[2], "inval") == 0)
	v->result = STATUS_INVAL;
    else if (strcmp(field[2], "more") == 0)
	v->result = SMTPREPLY_MORE;
    else
	fail_msg("%s:%d: bad result %s", VECTORS, lineno, field[2]);
    v->code = -1;
    if (strcmp(field[3], "-") != 0) {
	if (str_to_long(field[3], 0, 999, &n) != 0)
	    fail_msg("%s:%d: bad code", VECTORS, lineno);
	v->code = (int) n;
    }
    v->lines = -1;
    if (strcmp(field[4], "-") != 0) {
	if (str_to_long(field[4], 0, 1000, &n) != 0)
	    fail_msg("%s:%d: bad line count", VECTORS, lineno);
	v->lines = (int) n;
    }
    if (strcmp(field[5], "all") == 0)
	v->consumed = v->len;
    else if (str_to_long(field[5], 0, INPUT_MAX, &n) == 0)
	v->consumed = (size_t) n;
    else
	fail_msg("%s:%d: bad consumed count", VECTORS, lineno);
    for (i = 6; i < nfield; i++) {
	(void) testdata_unescape(field[i]);
	v->check[v->ncheck++] = field[i];
    }
}

/* test_smtpreply_verify - check a parsed reply against the vector */

static void test_smtpreply_verify(const VEC *v, const char *how, int status,
				          size_t consumed, const SMTPREPLY *r)
{
    const char *c;
    long    idx;
    char    num[16];
    const char *eq;
    int     i;

    if (status != v->result)
	fail_msg("%s:%d: %s (%s): status %d, want %d (error \"%s\")", VECTORS,
		 v->lineno, v->name, how, status, v->result, r->error);
    if (consumed != v->consumed)
	fail_msg("%s:%d: %s (%s): consumed %zu, want %zu", VECTORS, v->lineno,
		 v->name, how, consumed, v->consumed);
    if (status == STATUS_INVAL && r->error[0] == 0)
	fail_msg("%s:%d: %s (%s): no error text", VECTORS, v->lineno, v->name, how);
    if (v->code >= 0 && r->code != v->code)
	fail_msg("%s:%d: %s (%s): code %d, want %d", VECTORS, v->lineno, v->name,
		 how, r->code, v->code);
    if (v->lines >= 0 && r->line_count != v->lines)
	fail_msg("%s:%d: %s (%s): %d lines, want %d", VECTORS, v->lineno, v->name,
		 how, r->line_count, v->lines);
    for (i = 0; i < v->ncheck; i++) {
	c = v->check[i];
	if (strncmp(c, "kw=", 3) == 0) {
	    if (!smtpreply_has_keyword(r, c + 3))
		fail_msg("%s:%d: %s (%s): keyword %s missing", VECTORS, v->lineno,
			 v->name, how, c + 3);
	} else if (strncmp(c, "nokw=", 5) == 0) {
	    if (smtpreply_has_keyword(r, c + 5))
		fail_msg("%s:%d: %s (%s): keyword %s found", VECTORS, v->lineno,
			 v->name, how, c + 5);
	} else if (strncmp(c, "err=", 4) == 0) {
	    if (strstr(r->error, c + 4) == 0)
		fail_msg("%s:%d: %s (%s): error \"%s\" lacks \"%s\"", VECTORS,
			 v->lineno, v->name, how, r->error, c + 4);
	} else if (strncmp(c, "line", 4) == 0 && (eq = strchr(c, '=')) != 0) {
	    if ((size_t) (eq - c - 4) >= sizeof(num))
		fail_msg("%s:%d: bad check %s", VECTORS, v->lineno, c);
	    memcpy(num, c + 4, (size_t) (eq - c - 4));
	    num[eq - c - 4] = 0;
	    if (str_to_long(num, 0, SMTPREPLY_LINES_MAX, &idx) != 0)
		fail_msg("%s:%d: bad check %s", VECTORS, v->lineno, c);
	    if (strcmp(smtpreply_line(r, (int) idx), eq + 1) != 0)
		fail_msg("%s:%d: %s (%s): line %ld is \"%s\", want \"%s\"", VECTORS,
			 v->lineno, v->name, how, idx, smtpreply_line(r, (int) idx), eq + 1);
	} else {
	    fail_msg("%s:%d: unknown check %s", VECTORS, v->lineno, c);
	}
    }
}

/* test_smtpreply_chunks - feed in pieces of at most step octets after split */

static int test_smtpreply_chunks(SMTPREPLY *r, const char *in, size_t len,
				         size_t split, size_t step, size_t *total)
{
    size_t  off = 0;
    size_t  n;
    size_t  used;
    int     status = SMTPREPLY_MORE;

    *total = 0;
    smtpreply_init(r);
    while (off < len) {
	if (step)
	    n = step;
	else
	    n = off < split ? split - off : len - off;
	if (n > len - off)
	    n = len - off;
	status = smtpreply_feed(r, in + off, n, &used);
	if (used > n)
	    fail_msg("consumed %zu of %zu", used, n);
	*total += used;
	if (status != SMTPREPLY_MORE) {
	    /* Done or invalid: a further call takes nothing, same status. */
	    if (smtpreply_feed(r, in + off + used, n - used, &used) != status || used != 0)
		fail_msg("status changed after completion");
	    break;
	}
	if (used != n)
	    fail_msg("SMTPREPLY_MORE but consumed %zu of %zu", used, n);
	off += n;
    }
    if (len == 0)
	status = smtpreply_feed(r, in, 0, total);
    return (status);
}

static void test_smtpreply_vector(const VEC *v)
{
    SMTPREPLY *r;
    size_t  consumed;
    size_t  split;
    char    how[64];
    int     status;

    if ((r = malloc(sizeof(*r))) == 0)
	fail_msg("out of memory");

    status = test_smtpreply_chunks(r, v->in, v->len, v->len, 0, &consumed);
    test_smtpreply_verify(v, "whole", status, consumed, r);

    status = test_smtpreply_chunks(r, v->in, v->len, 0, 1, &consumed);
    test_smtpreply_verify(v, "bytewise", status, consumed, r);

    for (split = 1; split < v->len; split++) {
	(void) snprintf(how, sizeof(how), "split at %zu", split);
	status = test_smtpreply_chunks(r, v->in, v->len, split, 0, &consumed);
	test_smtpreply_verify(v, how, status, consumed, r);
    }
    free(r);
}

static void test_smtpreply_vectors(void **state)
{
    char   *buf = testdata_read(VECTORS, 0);
    char   *inbuf = malloc(INPUT_MAX);
    char   *line;
    char   *next;
    VEC     v;
    int     lineno = 0;
    int     count = 0;
    int     inval = 0;
    int     ok = 0;

    assert_non_null(inbuf);
    for (line = buf; line && *line; line = next) {
	lineno++;
	if ((next = strchr(line, '\n')) != 0)
	    *next++ = 0;
	if (*line == '#' || *test_smtpreply_trim(line) == 0)
	    continue;
	test_smtpreply_parse(line, lineno, &v, inbuf);
	test_smtpreply_vector(&v);
	count++;
	ok += (v.result == STATUS_OK);
	inval += (v.result == STATUS_INVAL);
    }
    free(inbuf);
    free(buf);
    /* The table must stay substantial on both sides. */
    assert_true(count >= 60);
    assert_true(ok >= 25);
    assert_true(inval >= 20);
}

/* After completion the struct holds; smtpreply_init() makes it reusable. */

static void test_smtpreply_reuse(void **state)
{
    static const char ehlo[] = "250-mx\r\n250 STARTTLS\r\n";
    static const char bad[] = "250-mx\r\n251 x\r\n";
    SMTPREPLY r;
    size_t  used = 99;

    smtpreply_init(&r);
    assert_int_equal(smtpreply_feed(&r, bad, sizeof(bad) - 1, &used), STATUS_INVAL);
    assert_int_equal(used, sizeof(bad) - 1);
    assert_int_equal(smtpreply_feed(&r, ehlo, sizeof(ehlo) - 1, &used), STATUS_INVAL);
    assert_int_equal(used, 0);
    assert_false(smtpreply_has_keyword(&r, "STARTTLS"));

    smtpreply_init(&r);
    assert_int_equal(r.line_count, 0);
    assert_int_equal(smtpreply_feed(&r, ehlo, sizeof(ehlo) - 1, 0), STATUS_OK);
    assert_int_equal(r.code, 250);
    assert_true(smtpreply_has_keyword(&r, "STARTTLS"));
    assert_int_equal(smtpreply_feed(&r, ehlo, sizeof(ehlo) - 1, &used), STATUS_OK);
    assert_int_equal(used, 0);
    assert_int_equal(r.line_count, 2);
}

/* Lines out of range; keywords on incomplete replies; odd keywords. */

static void test_smtpreply_edges(void **state)
{
    static const char part[] = "250-mx\r\n250-STARTTLS\r\n";
    SMTPREPLY r;
    size_t  used;

    smtpreply_init(&r);
    assert_string_equal(smtpreply_line(&r, 0), "");
    assert_int_equal(smtpreply_feed(&r, part, sizeof(part) - 1, &used), SMTPREPLY_MORE);
    assert_int_equal(used, sizeof(part) - 1);
    /* Not complete: no keyword yet, even though the line was seen. */
    assert_false(smtpreply_has_keyword(&r, "STARTTLS"));
    assert_int_equal(smtpreply_feed(&r, "250 OK\r\n", 8, &used), STATUS_OK);
    assert_true(smtpreply_has_keyword(&r, "STARTTLS"));
    assert_false(smtpreply_has_keyword(&r, ""));
    assert_false(smtpreply_has_keyword(&r, 0));
    assert_string_equal(smtpreply_line(&r, -1), "");
    assert_string_equal(smtpreply_line(&r, 3), "");
    assert_string_equal(smtpreply_line(&r, 2), "OK");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_smtpreply_vectors),
	cmocka_unit_test(test_smtpreply_reuse),
	cmocka_unit_test(test_smtpreply_edges),
    };

    return (cmocka_run_group_tests_name("smtpreply", tests, 0, 0));
}
