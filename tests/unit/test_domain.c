/*
 * NAME
 *	test_domain 1
 * SUMMARY
 *	unit tests for domain.c
 * DESCRIPTION
 *	Table-driven: domain-vectors.txt (domain_normalize, IDNA through
 *	libidn2) and address-vectors.txt (domain_from_address).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "domain.h"
#include "status.h"
#include "testdata.h"

typedef struct ROWS {
    const char *file;
    int     (*fn) (const char *, char *, size_t, WHY *);
    int     failures;
} ROWS;

static int row(void *ctx, int lineno, int nfield, char **field)
{
    ROWS   *r = (ROWS *) ctx;
    char    out[DOMAIN_MAX + 1];
    WHY     why;
    int     st;

    why.text[0] = 0;
    if (nfield != 3) {
	print_error("%s:%d: want 3 fields\n", r->file, lineno);
	r->failures++;
	return (0);
    }
    st = r->fn(field[0], out, sizeof(out), &why);
    if (strcmp(field[1], "ok") == 0 ? (st != STATUS_OK || strcmp(out, field[2]) != 0)
	: (st != STATUS_INVAL || strstr(why.text, field[2]) == 0)) {
	print_error("%s:%d: \"%s\": want %s \"%s\", got %s \"%s\" (%s)\n", r->file, lineno, field[0],
		    field[1], field[2], status_name(st), out, why.text);
	r->failures++;
    }
    return (0);
}

static void test_normalize(void **state)
{
    ROWS    r = {"domain-vectors.txt", domain_normalize, 0};

    assert_true(testdata_rows(r.file, '|', row, &r) >= 24);
    assert_int_equal(r.failures, 0);
}

static void test_from_address(void **state)
{
    ROWS    r = {"address-vectors.txt", domain_from_address, 0};

    assert_true(testdata_rows(r.file, '|', row, &r) >= 10);
    assert_int_equal(r.failures, 0);
}

static void test_long_names(void **state)
{
    char    in[400];
    char    out[DOMAIN_MAX + 1];
    WHY     why;
    int     i;

    /* 63 x "abc." (252 characters) plus "d" = 253: the longest allowed name. */
    in[0] = 0;
    for (i = 0; i < 63; i++)
	memcpy(in + i * 4, "abc.", 5);
    memcpy(in + 252, "d", 2);
    assert_int_equal(domain_normalize(in, out, sizeof(out), &why), STATUS_OK);
    memcpy(in + 252, "de", 3);
    assert_int_equal(domain_normalize(in, out, sizeof(out), &why), STATUS_INVAL);
    assert_non_null(strstr(why.text, "longer than 253"));
    /* The output buffer cap is honoured. */
    assert_int_equal(domain_normalize("example.com", out, 5, &why), STATUS_INVAL);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_normalize),
	cmocka_unit_test(test_from_address),
	cmocka_unit_test(test_long_names),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
