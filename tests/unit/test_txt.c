/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_txt 1
 * SUMMARY
 *	unit tests for txt.c (RFC 8461 section 3.1 TXT records)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_txt
 * DESCRIPTION
 *	Table-driven from tests/unit/data (each file's header gives its
 *	format):
 *
 *	txt-vectors.txt		txt_parse(): the ABNF, the id, extensions,
 *				separators, case, NUL bytes.
 *	txt-select-vectors.txt	txt_select(): discarding, one record only.
 *	txt-rdata-vectors.txt	txt_join_rdata(): split strings, malformed
 *				RDATA, the output cap.
 *
 *	Every input is copied into an allocation of its exact length, so
 *	that a read past len is seen by AddressSanitizer; outputs have
 *	guard bytes. Further tests cover the TXT_RECORD_MAX cap and null
 *	arguments.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "status.h"
#include "str.h"
#include "testdata.h"
#include "txt.h"

#define PARSE_FILE	"txt-vectors.txt"
#define SELECT_FILE	"txt-select-vectors.txt"
#define RDATA_FILE	"txt-rdata-vectors.txt"
#define EXPAND_MAX	2048
#define GUARD		16
#define GUARD_BYTE	'Z'

typedef struct CTX {
    const char *file;
    int     failures;
} CTX;

/* test_txt_dup - copy exactly len octets into their own allocation */

static char *test_txt_dup(const char *s, size_t len)
{
    char   *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    memcpy(copy, s, len);
    return (copy);
}

/* test_txt_expand - expand {TEXT*N} (not nested) into dst */

static void test_txt_expand(const char *src, char *dst, size_t size, int lineno)
{
    const char *open;
    const char *star;
    const char *close = 0;
    char    text[EXPAND_MAX];
    long    n;

    dst[0] = 0;
    while ((open = strchr(src, '{')) != 0) {
	if ((star = strchr(open, '*')) == 0 || (close = strchr(star, '}')) == 0)
	    fail_msg("%s:%d: bad {TEXT*N}", RDATA_FILE, lineno);
	memcpy(text, src, (size_t) (open - src));
	text[open - src] = 0;
	if (str_append(dst, size, text) != 0)
	    fail_msg("%s:%d: expansion too long", RDATA_FILE, lineno);
	memcpy(text, star + 1, (size_t) (close - star - 1));
	text[close - star - 1] = 0;
	if (str_to_long(text, 0, 1000, &n) != 0)
	    fail_msg("%s:%d: bad repeat count", RDATA_FILE, lineno);
	memcpy(text, open + 1, (size_t) (star - open - 1));
	text[star - open - 1] = 0;
	while (n-- > 0)
	    if (str_append(dst, size, text) != 0)
		fail_msg("%s:%d: expansion too long", RDATA_FILE, lineno);
	src = close + 1;
    }
    if (str_append(dst, size, src) != 0)
	fail_msg("%s:%d: expansion too long", RDATA_FILE, lineno);
}

/* test_txt_status - "ok", "notfound", "inval" */

static int test_txt_status(const char *word, const char *file, int lineno)
{
    if (strcmp(word, "ok") == 0)
	return (STATUS_OK);
    if (strcmp(word, "notfound") == 0)
	return (STATUS_NOTFOUND);
    if (strcmp(word, "inval") == 0)
	return (STATUS_INVAL);
    fail_msg("%s:%d: bad status \"%s\"", file, lineno, word);
    return (-1);
}

/* parse_row - one txt_parse() vector */

static int parse_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    TXT_RECORD rec;
    WHY     why;
    char   *in;
    int     want;
    int     st;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", c->file, lineno, nfield);
    want = test_txt_status(field[1], c->file, lineno);
    in = test_txt_dup(field[0], testdata_len[0]);
    memset(&rec, 'X', sizeof(rec));
    why.text[0] = 0;
    st = txt_parse(in, testdata_len[0], &rec, &why);
    free(in);
    if (st != want
	|| (st == STATUS_OK && strcmp(rec.id, field[2]) != 0)
	|| (st != STATUS_OK && (strstr(why.text, field[2]) == 0 || rec.id[0] != 0))) {
	print_error("%s:%d: want %s \"%s\", got %s id \"%.40s\" (%s)\n", c->file, lineno,
		    field[1], field[2], status_name(st), st == STATUS_OK ? rec.id : "",
		    why.text);
	c->failures++;
    }
    return (0);
}

static void test_parse(void **state)
{
    CTX     c = {PARSE_FILE, 0};

    assert_true(testdata_rows(c.file, '|', parse_row, &c) >= 63);
    assert_int_equal(c.failures, 0);
}

/* select_row - one txt_select() vector */

static int select_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char   *rec[TESTDATA_MAX_FIELDS];
    size_t  len[TESTDATA_MAX_FIELDS];
    size_t  count = 0;
    TXT_RECORD out;
    WHY     why;
    int     want;
    int     st;
    int     i;

    if (nfield < 3)
	fail_msg("%s:%d: want at least 3 fields", c->file, lineno);
    want = test_txt_status(field[0], c->file, lineno);
    for (i = 2; i < nfield; i++) {
	rec[count] = test_txt_dup(field[i], testdata_len[i]);
	len[count++] = testdata_len[i];
    }
    why.text[0] = 0;
    st = txt_select((const char *const *) rec, len, count, &out, &why);
    if (st != want
	|| (st == STATUS_OK && strcmp(out.id, field[1]) != 0)
	|| (st != STATUS_OK && strstr(why.text, field[1]) == 0)) {
	print_error("%s:%d: want %s \"%s\", got %s id \"%s\" (%s)\n", c->file, lineno,
		    field[0], field[1], status_name(st), out.id, why.text);
	c->failures++;
    }
    while (count > 0)
	free(rec[--count]);
    return (0);
}

static void test_select(void **state)
{
    CTX     c = {SELECT_FILE, 0};
    TXT_RECORD out;
    WHY     why;

    assert_true(testdata_rows(c.file, '|', select_row, &c) >= 19);
    assert_int_equal(c.failures, 0);

    /* No records at all: nothing found. */
    assert_int_equal(txt_select(0, 0, 0, &out, &why), STATUS_NOTFOUND);
    assert_int_equal(txt_select(0, 0, 0, 0, 0), STATUS_NOTFOUND);
}

/* test_txt_hex - one hex digit */

static int test_txt_hex(int ch)
{
    return (ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1);
}

/* rdata_row - one txt_join_rdata() vector */

static int rdata_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    char    hex[EXPAND_MAX];
    char    want[EXPAND_MAX];
    unsigned char *rdata;
    size_t  n = 0;
    size_t  got;
    size_t  i;
    long    outsize = 512;
    char   *mem;
    char   *out;
    const char *p;

    if (nfield < 2 || nfield > 3)
	fail_msg("%s:%d: want 2 or 3 fields", c->file, lineno);
    if (nfield == 3 && str_to_long(field[2], 0, 4096, &outsize) != 0)
	fail_msg("%s:%d: bad output size", c->file, lineno);
    test_txt_expand(field[0], hex, sizeof(hex), lineno);
    test_txt_expand(field[1], want, sizeof(want), lineno);

    /* Hex to octets, into an allocation of the exact size. */
    rdata = malloc(strlen(hex) / 2 + 1);
    assert_non_null(rdata);
    for (p = hex; *p; p++) {
	if (*p == ' ')
	    continue;
	if (test_txt_hex(p[0]) < 0 || test_txt_hex(p[1]) < 0)
	    fail_msg("%s:%d: bad hex", c->file, lineno);
	rdata[n++] = (unsigned char) (test_txt_hex(p[0]) * 16 + test_txt_hex(p[1]));
	p++;
    }

    /* Output between guard bytes. */
    mem = malloc((size_t) outsize + 2 * GUARD);
    assert_non_null(mem);
    memset(mem, GUARD_BYTE, (size_t) outsize + 2 * GUARD);
    out = mem + GUARD;
    got = txt_join_rdata(rdata, n, out, (size_t) outsize);
    for (i = 0; i < GUARD; i++)
	if (mem[i] != GUARD_BYTE || out[outsize + (long) i] != GUARD_BYTE)
	    fail_msg("%s:%d: write outside the output buffer", c->file, lineno);
    if (strcmp(want, "ERR") == 0) {
	if (got != (size_t) -1 || (outsize > 0 && out[0] != 0)) {
	    print_error("%s:%d: want an error, got %ld \"%.60s\"\n", c->file, lineno, (long) got, out);
	    c->failures++;
	}
    } else if (got == (size_t) -1 || got != strlen(want) || memcmp(out, want, got + 1) != 0) {
	print_error("%s:%d: want \"%.60s\", got %ld \"%.60s\"\n", c->file, lineno, want,
		    (long) got, got == (size_t) -1 ? "" : out);
	c->failures++;
    }
    free(mem);
    free(rdata);
    return (0);
}

static void test_rdata(void **state)
{
    CTX     c = {RDATA_FILE, 0};
    unsigned char one[3] = {2, 'a', 'b'};
    char    out[4];

    assert_true(testdata_rows(c.file, '|', rdata_row, &c) >= 22);
    assert_int_equal(c.failures, 0);

    /* Null and zero-size arguments are errors, not crashes. */
    assert_true(txt_join_rdata(one, sizeof(one), 0, 10) == (size_t) -1);
    assert_true(txt_join_rdata(one, sizeof(one), out, 0) == (size_t) -1);
    assert_true(txt_join_rdata(0, 3, out, sizeof(out)) == (size_t) -1);
    assert_true(txt_join_rdata(one, sizeof(one), out, sizeof(out)) == 2);
    assert_string_equal(out, "ab");
}

/* A split record joins, then parses (RFC 8461 section 3.1). */

static void test_rdata_then_parse(void **state)
{
    static const unsigned char rdata[] = "\x05v=STS\x04v1; \x03id=\x02" "42";
    char    out[64];
    TXT_RECORD rec;
    size_t  n;

    n = txt_join_rdata(rdata, sizeof(rdata) - 1, out, sizeof(out));
    assert_int_equal(n, 14);
    assert_string_equal(out, "v=STSv1; id=42");
    assert_int_equal(txt_parse(out, n, &rec, 0), STATUS_OK);
    assert_string_equal(rec.id, "42");
}

/* TXT_RECORD_MAX: the longest record parses, one more octet does not. */

static void test_record_cap(void **state)
{
    char   *rec = malloc(TXT_RECORD_MAX + 1);
    TXT_RECORD out;
    WHY     why;

    assert_non_null(rec);
    memset(rec, 'a', TXT_RECORD_MAX + 1);
    memcpy(rec, "v=STSv1; id=1; x=", 17);
    assert_int_equal(txt_parse(rec, TXT_RECORD_MAX, &out, &why), STATUS_OK);
    assert_string_equal(out.id, "1");
    assert_int_equal(txt_parse(rec, TXT_RECORD_MAX + 1, &out, &why), STATUS_INVAL);
    assert_non_null(strstr(why.text, "longer than"));
    free(rec);
}

/* Null arguments: an error, or (out, why) simply not written. */

static void test_null_args(void **state)
{
    WHY     why;

    assert_int_equal(txt_parse(0, 0, 0, &why), STATUS_INVAL);
    assert_int_equal(txt_parse("v=STSv1;id=1", 12, 0, 0), STATUS_OK);
    assert_int_equal(txt_parse("v=STSv1;id=", 11, 0, 0), STATUS_INVAL);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_select),
	cmocka_unit_test(test_rdata),
	cmocka_unit_test(test_rdata_then_parse),
	cmocka_unit_test(test_record_cap),
	cmocka_unit_test(test_null_args),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
