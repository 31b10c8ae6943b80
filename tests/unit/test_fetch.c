/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_fetch 1
 * SUMMARY
 *	unit tests for the pure parts of fetch.c
 * DESCRIPTION
 *	The Content-Type rule, table-driven from media-type-vectors.txt;
 *	the decision on a finished transfer (fetch_response()) from
 *	fetch-response.txt; the capped body collector (fetch_body_add()).
 *	The network part is tested against the world's real nginx in
 *	tests/integration/fetch.t.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fetch.h"
#include "policy.h"
#include "status.h"
#include "str.h"
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

/* fetch-response.txt */

static int response_row(void *ctx, int lineno, int nfield, char **field)
{
    static const char *const xfer[] = {"ok", "too-big", "webpki", "error", 0};
    static const char *const st[] = {"OK", "RETRY", "FAIL", 0};
    static const int stv[] = {STATUS_OK, STATUS_RETRY, STATUS_FAIL};
    FETCH_HTTP http;
    FETCH_RESULT res;
    int    *rows = ctx;
    int     status;
    int     i;

    if (nfield != 8)
	fail_msg("fetch-response.txt:%d: want 8 fields, got %d", lineno, nfield);
    memset(&http, 0, sizeof(http));
    for (i = 0; xfer[i] && strcmp(xfer[i], field[0]) != 0; i++)
	 /* void */ ;
    if (xfer[i] == 0)
	fail_msg("fetch-response.txt:%d: unknown transfer %s", lineno, field[0]);
    http.transfer = i;
    if (str_to_long(field[1], 0, 999, &http.status) != 0)
	fail_msg("fetch-response.txt:%d: bad status %s", lineno, field[1]);
    http.content_type = strcmp(field[2], "-") == 0 ? 0 : field[2];
    http.body = field[3];
    http.len = testdata_len[3];
    http.error = strcmp(field[4], "-") == 0 ? 0 : field[4];
    for (i = 0; st[i] && strcmp(st[i], field[5]) != 0; i++)
	 /* void */ ;
    if (st[i] == 0)
	fail_msg("fetch-response.txt:%d: unknown status %s", lineno, field[5]);
    memset(&res, 0, sizeof(res));
    status = fetch_response(&http, &res);
    if (status != stv[i])
	fail_msg("fetch-response.txt:%d: status %d, want %s", lineno, status, field[5]);
    if (strcmp(fetch_reason_name(res.reason), field[6]) != 0)
	fail_msg("fetch-response.txt:%d: reason %s, want %s", lineno,
		 fetch_reason_name(res.reason), field[6]);
    if (strcmp(field[7], "-") != 0 && strstr(res.detail, field[7]) == 0)
	fail_msg("fetch-response.txt:%d: detail \"%s\" lacks \"%s\"", lineno, res.detail, field[7]);
    if (status == STATUS_OK) {
	assert_non_null(res.body);
	assert_int_equal(res.len, http.len);
	assert_memory_equal(res.body, http.body, http.len);
	assert_int_equal(res.body[res.len], 0);
    } else {
	assert_null(res.body);
    }
    assert_int_equal(res.http_status, http.status);
    fetch_result_clear(&res);
    (*rows)++;
    return (0);
}

static void test_response(void **state)
{
    int     rows = 0;
    int     n;

    (void) state;
    n = testdata_rows("fetch-response.txt", '|', response_row, &rows);
    assert_int_equal(n, rows);
    assert_true(rows >= 15);
}

/* fetch_body_add(): exactly POLICY_BODY_MAX fits, one more octet does not. */

static void test_body_cap(void **state)
{
    static char chunk[4096];
    FETCH_BODY body;
    size_t  total = 0;

    (void) state;
    memset(chunk, 'x', sizeof(chunk));
    memset(&body, 0, sizeof(body));
    while (total < POLICY_BODY_MAX) {
	assert_int_equal(fetch_body_add(&body, chunk, sizeof(chunk)), sizeof(chunk));
	total += sizeof(chunk);
    }
    assert_int_equal(body.len, POLICY_BODY_MAX);
    assert_int_equal(body.buf[body.len], 0);
    assert_false(body.over);
    assert_int_equal(fetch_body_add(&body, chunk, 1), 0);
    assert_true(body.over);
    assert_int_equal(body.len, POLICY_BODY_MAX);
    free(body.buf);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_media_types),
	cmocka_unit_test(test_media_type_null),
	cmocka_unit_test(test_reason_names),
	cmocka_unit_test(test_response),
	cmocka_unit_test(test_body_cap),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
