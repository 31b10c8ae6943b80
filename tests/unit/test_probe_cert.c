/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_probe_cert 1
 * SUMMARY
 *	unit tests for probe_cert.c (certificate names from bytes)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_probe_cert
 * DESCRIPTION
 *	Table-driven from tests/unit/data/probe-cert.txt: each row names a
 *	certificate file (DER or PEM) and the SAN DNS names and subject CN
 *	that probe_cert_names() must record, sanitized, or STATUS_INVAL for
 *	bytes that are not a certificate. Verification itself is tested
 *	against real servers in tests/integration/probe.t.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "probe.h"
#include "probe_cert.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

static int cert_row(void *ctx, int lineno, int nfield, char **field)
{
    static PROBE_RESULT res;
    char    names[PROBE_NAMES_MAX * 260];
    char   *buf;
    size_t  len;
    int    *rows = ctx;
    int     status;
    int     i;

    if (nfield != 4)
	fail_msg("probe-cert.txt:%d: want 4 fields", lineno);
    buf = testdata_read(field[0], &len);
    memset(&res, 0, sizeof(res));
    status = probe_cert_names((const unsigned char *) buf, len, &res);
    free(buf);
    if (status != (strcmp(field[1], "OK") == 0 ? STATUS_OK : STATUS_INVAL))
	fail_msg("probe-cert.txt:%d: %s: status %d, want %s", lineno, field[0], status, field[1]);
    names[0] = 0;
    for (i = 0; i < res.name_count; i++)
	(void) str_appendf(names, sizeof(names), "%s%s", i ? "," : "", res.names[i]);
    if (strcmp(names[0] ? names : "-", field[2]) != 0)
	fail_msg("probe-cert.txt:%d: %s: names \"%s\", want \"%s\"", lineno, field[0], names, field[2]);
    if (strcmp(res.subject_cn[0] ? res.subject_cn : "-", field[3]) != 0)
	fail_msg("probe-cert.txt:%d: %s: CN \"%s\", want \"%s\"", lineno, field[0],
		 res.subject_cn, field[3]);
    if (status == STATUS_OK && (res.issuer[0] == 0 || res.not_after <= 0))
	fail_msg("probe-cert.txt:%d: %s: no issuer or notAfter", lineno, field[0]);
    (*rows)++;
    return (0);
}

static void test_probe_cert_names(void **state)
{
    int     rows = 0;
    int     n;

    (void) state;
    n = testdata_rows("probe-cert.txt", '|', cert_row, &rows);
    assert_int_equal(n, rows);
    assert_true(rows >= 7);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_probe_cert_names),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
