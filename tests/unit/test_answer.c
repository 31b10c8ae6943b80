/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_answer 1
 * SUMMARY
 *	unit tests for answer.c
 * DESCRIPTION
 *	answer_from_verdict(), table-driven from the rows below: the
 *	reason labels (domain first, each failed host's once, "-" for
 *	none), the TLS-RPT address for the reply (the first rua URI of a
 *	valid record only), and the fields copied as they are;
 *	answer_internal().
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "action.h"
#include "answer.h"
#include "clock.h"
#include "str.h"
#include "verdict.h"

typedef struct ROW {
    int     verdict;
    int     reason;
    int     host_reason[3];		/* -1: host passed; 0: no host */
    const char *tlsrpt;
    const char *want_reasons;
    const char *want_uri;
} ROW;

static const ROW rows[] = {
    {VERDICT_OK, REASON_NONE, {-1, 0, 0}, "", "-", ""},
    {VERDICT_ENFORCE_FAIL, REASON_NONE, {REASON_CERT_EXPIRED, REASON_CERT_EXPIRED, 0},
	"v=TLSRPTv1; rua=mailto:tls@example.com,https://r.example.com/x",
     "certificate-expired", "mailto:tls@example.com"},
    {VERDICT_ENFORCE_FAIL, REASON_NONE, {REASON_MX_NOT_LISTED, REASON_CERT_NOT_TRUSTED, -1},
	"v=TLSRPTv1;rua=https://r.example.com/x", "mx-not-listed,certificate-not-trusted",
     "https://r.example.com/x"},
    {VERDICT_NO_POLICY, REASON_STS_FETCH_ERROR, {0, 0, 0}, "v=TLSRPTv2; rua=mailto:a@b", "sts-policy-fetch-error", ""},
    {VERDICT_TEMPORARY, REASON_DNS_ERROR, {REASON_DNS_ERROR, REASON_TIMEOUT, 0}, "garbage", "dns-error,timeout", ""},
};

static void test_from_verdict(void **state)
{
    VERDICT *v;
    ANSWER  a;
    char    name[32];
    size_t  i;
    int     h;

    (void) state;
    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
	const ROW *row = &rows[i];

	v = verdict_create("example.com");
	assert_non_null(v);
	v->verdict = row->verdict;
	v->reason = row->reason;
	v->answer_until = 1234;
	(void) str_copy(v->tlsrpt, sizeof(v->tlsrpt), row->tlsrpt);
	(void) str_copy(v->explanation, sizeof(v->explanation), "why it is so");
	for (h = 0; h < 3 && row->host_reason[h] != 0; h++) {
	    (void) snprintf(name, sizeof(name), "mx%d.example.com", h);
	    assert_non_null(verdict_add_host(v, name, 10));
	    v->host[h].passed = (row->host_reason[h] < 0);
	    v->host[h].reason = row->host_reason[h] < 0 ? REASON_NONE : row->host_reason[h];
	}
	answer_from_verdict(v, &a);
	if (strcmp(a.reasons, row->want_reasons) != 0)
	    fail_msg("row %zu: reasons \"%s\", want \"%s\"", i, a.reasons, row->want_reasons);
	if (strcmp(a.tlsrpt_uri, row->want_uri) != 0)
	    fail_msg("row %zu: TLS-RPT address \"%s\", want \"%s\"", i, a.tlsrpt_uri, row->want_uri);
	assert_int_equal(a.verdict, row->verdict);
	assert_int_equal(a.reason, row->reason);
	assert_int_equal(a.until, 1234);
	assert_string_equal(a.domain, "example.com");
	assert_string_equal(a.explanation, "why it is so");
	verdict_free(&v);
    }
}

static void test_internal(void **state)
{
    ANSWER  a;

    (void) state;
    answer_internal(&a, "example.com");
    assert_int_equal(a.verdict, ACTION_INTERNAL_ERROR);
    assert_string_equal(a.reasons, "-");
    assert_string_equal(a.domain, "example.com");
    assert_true(a.until <= a.built);		/* never kept */
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_from_verdict),
	cmocka_unit_test(test_internal),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
