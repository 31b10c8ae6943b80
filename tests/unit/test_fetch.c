/*
 * NAME
 *	test_fetch 1
 * SUMMARY
 *	unit tests for the pure parts of fetch.c
 * DESCRIPTION
 *	The Content-Type rule, table-driven from media-type-vectors.txt.
 *	The network part is tested against the world's real nginx in
 *	tests/integration/fetch.t.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fetch.h"
#include "testdata.h"

static int media_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *failures = (int *) ctx;
    int     want;

    if (nfield != 2) {
	print_error("media-type-vectors.txt:%d: want 2 fields\n", lineno);
	(*failures)++;
	return (0);
    }
    want = strcmp(field[1], "1") == 0;
    if (fetch_media_type_ok(field[0]) != want) {
	print_error("media-type-vectors.txt:%d: \"%s\": want %d\n", lineno, field[0], want);
	(*failures)++;
    }
    return (0);
}

static void test_media_types(void **state)
{
    int     failures = 0;
    int     rows = testdata_rows("media-type-vectors.txt", '|', media_row, &failures);

    assert_true(rows >= 15);
    assert_int_equal(failures, 0);
}

static void test_media_type_null(void **state)
{
    assert_false(fetch_media_type_ok(NULL));
}

static void test_reason_names(void **state)
{
    /* RFC 8460 §4.3.2.2 result types. */
    assert_string_equal(fetch_reason_name(FETCH_ERR_FETCH), "sts-policy-fetch-error");
    assert_string_equal(fetch_reason_name(FETCH_ERR_WEBPKI), "sts-webpki-invalid");
    assert_string_equal(fetch_reason_name(FETCH_ERR_INVALID), "sts-policy-invalid");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_media_types),
	cmocka_unit_test(test_media_type_null),
	cmocka_unit_test(test_reason_names),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
