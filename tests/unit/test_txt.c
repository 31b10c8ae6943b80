/*
 * NAME
 *	test_txt 1
 * SUMMARY
 *	unit tests for txt.c (RFC 8461 section 3.1)
 * DESCRIPTION
 *	Table-driven: txt-vectors.txt (txt_parse), txt-select-vectors.txt
 *	(txt_select), txt-rdata-vectors.txt (txt_join_rdata).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "status.h"
#include "testdata.h"
#include "txt.h"

static int parse_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *failures = (int *) ctx;
    TXT_RECORD rec;
    WHY     why;
    int     st;

    why.text[0] = 0;
    if (nfield != 3) {
	print_error("txt-vectors.txt:%d: want 3 fields\n", lineno);
	(*failures)++;
	return (0);
    }
    st = txt_parse(field[0], testdata_len[0], &rec, &why);
    if (strcmp(field[1], "ok") == 0) {
	if (st != STATUS_OK || strcmp(rec.id, field[2]) != 0) {
	    print_error("txt-vectors.txt:%d: want ok id %s, got %s id \"%s\" (%s)\n", lineno, field[2],
			status_name(st), rec.id, why.text);
	    (*failures)++;
	}
    } else if (st != STATUS_INVAL || strstr(why.text, field[2]) == 0) {
	print_error("txt-vectors.txt:%d: want inval \"%s\", got %s \"%s\"\n", lineno, field[2],
		    status_name(st), why.text);
	(*failures)++;
    }
    return (0);
}

static void test_parse(void **state)
{
    int     failures = 0;

    assert_true(testdata_rows("txt-vectors.txt", '|', parse_row, &failures) >= 30);
    assert_int_equal(failures, 0);
}

static int select_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *failures = (int *) ctx;
    const char *rec[TESTDATA_MAX_FIELDS];
    size_t  len[TESTDATA_MAX_FIELDS];
    TXT_RECORD out;
    WHY     why;
    int     want, st, i;

    why.text[0] = 0;
    for (i = 2; i < nfield; i++) {
	rec[i - 2] = field[i];
	len[i - 2] = testdata_len[i];
    }
    want = strcmp(field[0], "ok") == 0 ? STATUS_OK :
	strcmp(field[0], "notfound") == 0 ? STATUS_NOTFOUND : STATUS_INVAL;
    st = txt_select(rec, len, (size_t) (nfield - 2), &out, &why);
    if (st != want || (st == STATUS_OK ? strcmp(out.id, field[1]) : strstr(why.text, field[1]) == 0)) {
	print_error("txt-select-vectors.txt:%d: want %s %s, got %s \"%s\" \"%s\"\n", lineno, field[0],
		    field[1], status_name(st), out.id, why.text);
	(*failures)++;
    }
    return (0);
}

static void test_select(void **state)
{
    int     failures = 0;

    assert_true(testdata_rows("txt-select-vectors.txt", '|', select_row, &failures) >= 7);
    assert_int_equal(failures, 0);
}

static int hexval(int c)
{
    return (c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
}

static int rdata_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *failures = (int *) ctx;
    unsigned char rdata[512];
    char    out[512];
    size_t  n = 0, got;
    const char *p;

    for (p = field[0]; *p; p++) {
	if (*p == ' ')
	    continue;
	if (hexval(p[0]) < 0 || p[1] == 0 || hexval(p[1]) < 0 || n >= sizeof(rdata))
	    fail_msg("txt-rdata-vectors.txt:%d: bad hex", lineno);
	rdata[n++] = (unsigned char) (hexval(p[0]) * 16 + hexval(p[1]));
	p++;
    }
    got = txt_join_rdata(rdata, n, out, sizeof(out));
    if (strcmp(nfield > 1 ? field[1] : "", "ERR") == 0) {
	if (got != (size_t) -1) {
	    print_error("txt-rdata-vectors.txt:%d: want an error, got \"%s\"\n", lineno, out);
	    (*failures)++;
	}
    } else if (got == (size_t) -1 || strcmp(out, nfield > 1 ? field[1] : "") != 0 || got != strlen(out)) {
	print_error("txt-rdata-vectors.txt:%d: want \"%s\", got \"%s\"\n", lineno, field[1], out);
	(*failures)++;
    }
    return (0);
}

static void test_rdata(void **state)
{
    int     failures = 0;
    unsigned char big[3] = {2, 'a', 'b'};
    char    small[2];

    assert_true(testdata_rows("txt-rdata-vectors.txt", '|', rdata_row, &failures) >= 6);
    assert_int_equal(failures, 0);
    /* The output cap holds: "ab" does not fit in 2 bytes with its NUL. */
    assert_true(txt_join_rdata(big, sizeof(big), small, sizeof(small)) == (size_t) -1);
    assert_int_equal(small[0], 0);
}

static void test_overlong(void **state)
{
    static char rec[TXT_RECORD_MAX + 2];
    TXT_RECORD out;
    WHY     why;

    memset(rec, 'a', sizeof(rec) - 1);
    memcpy(rec, "v=STSv1; id=1; x=", 17);
    assert_int_equal(txt_parse(rec, sizeof(rec) - 1, &out, &why), STATUS_INVAL);
    assert_non_null(strstr(why.text, "longer than"));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_parse),
	cmocka_unit_test(test_select),
	cmocka_unit_test(test_rdata),
	cmocka_unit_test(test_overlong),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
