/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_dns_rr 1
 * SUMMARY
 *	unit tests for dns_rr.c (DNS names and RDATA to results)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_dns_rr
 * DESCRIPTION
 *	Table-driven from tests/unit/data:
 *
 *	dns-rr.txt	dns_rr_mx(), dns_rr_txt(), dns_rr_tlsa(), dns_rr_addr():
 *			records given as escaped RDATA, one per field,
 *			each copied to its own exact-size buffer.
 *	dns-names.txt	dns_rr_name_norm().
 *
 *	The lookups themselves (libunbound, DNSSEC, CNAMEs) are tested
 *	against the world's Knot and unbound in tests/integration/dns.t.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "dns.h"
#include "dns_rr.h"
#include "log.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

#define RR_MAX	(TESTDATA_MAX_FIELDS - 3)

/* rr_status - "OK" or "NOTFOUND" */

static int rr_status(const char *s, int lineno)
{
    if (strcmp(s, "OK") == 0)
	return (STATUS_OK);
    if (strcmp(s, "NOTFOUND") == 0)
	return (STATUS_NOTFOUND);
    fail_msg("dns-rr.txt:%d: unknown status %s", lineno, s);
    return (-1);
}

/* rr_row - one RRset through the converter of its type */

static int rr_row(void *ctx, int lineno, int nfield, char **field)
{
    static const DNS_INFO info = {DNS_SECURE, 300, ""};
    static struct sockaddr_storage addr[DNS_LIST_MAX];
    char   *data[RR_MAX];
    int     len[RR_MAX];
    char    got[1024];
    DNS_RRSET set;
    DNS_MX *mx = 0;
    DNS_TXT *txt = 0;
    DNS_TLSA *tlsa = 0;
    DNS_ADDR out;
    int    *rows = ctx;
    int     status = 0;
    int     i;

    if (nfield < 4)
	fail_msg("dns-rr.txt:%d: want at least 4 fields", lineno);
    for (i = 3; i < nfield; i++) {
	len[i - 3] = (int) testdata_len[i];
	data[i - 3] = malloc(testdata_len[i] ? testdata_len[i] : 1);
	assert_non_null(data[i - 3]);
	memcpy(data[i - 3], field[i], testdata_len[i]);
    }
    set.data = data;
    set.len = len;
    set.count = nfield - 3;
    got[0] = 0;
    if (strcmp(field[0], "MX") == 0) {
	status = dns_rr_mx("example", &set, &info, &mx, 0);
	if (status == STATUS_OK && mx->null_mx)
	    (void) str_copy(got, sizeof(got), "null");
	for (i = 0; status == STATUS_OK && i < mx->count; i++)
	    (void) str_appendf(got, sizeof(got), "%s%d %s", i ? "," : "",
			       mx->host[i].pref, mx->host[i].name);
	if (mx)
	    assert_int_equal(mx->info.ttl, 300);
	dns_mx_free(&mx);
	assert_null(mx);
    } else if (strcmp(field[0], "TXT") == 0) {
	status = dns_rr_txt("example", &set, &info, &txt, 0);
	if (status == STATUS_OK)
	    (void) str_appendf(got, sizeof(got), "%d:%s", txt->count, txt->text[0]);
	dns_txt_free(&txt);
    } else if (strcmp(field[0], "TLSA") == 0) {
	status = dns_rr_tlsa("example", &set, &info, &tlsa, 0);
	if (status == STATUS_OK)
	    (void) str_appendf(got, sizeof(got), "%d:", tlsa->count);
	for (i = 0; status == STATUS_OK && i < tlsa->count; i++)
	    (void) str_appendf(got, sizeof(got), "%s%u %u %u %zu", i ? "," : "",
			       tlsa->rr[i].usage, tlsa->rr[i].selector, tlsa->rr[i].mtype,
			       tlsa->rr[i].len);
	dns_tlsa_free(&tlsa);
    } else if (strcmp(field[0], "A") == 0 || strcmp(field[0], "AAAA") == 0) {
	memset(&out, 0, sizeof(out));
	out.addr = addr;
	dns_rr_addr(&out, "example", field[0][1] == 'A' ? DNS_T_AAAA : DNS_T_A, &set);
	(void) snprintf(got, sizeof(got), "%d", out.count);
	for (i = 0; i < out.count; i++)
	    assert_int_equal(addr[i].ss_family, field[0][1] == 'A' ? AF_INET6 : AF_INET);
    } else {
	fail_msg("dns-rr.txt:%d: unknown type %s", lineno, field[0]);
    }
    if (strcmp(field[1], "-") != 0 && status != rr_status(field[1], lineno))
	fail_msg("dns-rr.txt:%d: status %d, want %s", lineno, status, field[1]);
    if (strcmp(field[2], "-") != 0 && strcmp(got, field[2]) != 0)
	fail_msg("dns-rr.txt:%d: got \"%s\", want \"%s\"", lineno, got, field[2]);
    for (i = 0; i < set.count; i++)
	free(data[i]);
    (*rows)++;
    return (0);
}

static void test_dns_rr_records(void **state)
{
    int     rows = 0;
    int     n;

    (void) state;
    n = testdata_rows("dns-rr.txt", '|', rr_row, &rows);
    assert_int_equal(n, rows);
    assert_true(rows >= 19);
}

/* The caps: 70 MX records keep the 64 most preferred, in order. */

static void test_dns_rr_mx_cap(void **state)
{
    static const DNS_INFO info = {DNS_INSECURE, 60, ""};
    char    rdata[70][16];
    char   *data[70];
    int     len[70];
    DNS_RRSET set;
    DNS_MX *mx = 0;
    int     i;

    (void) state;
    for (i = 0; i < 70; i++) {
	int     pref = 70 - i;

	rdata[i][0] = (char) (pref >> 8);
	rdata[i][1] = (char) pref;
	memcpy(rdata[i] + 2, "\x02mx\x07" "example\x00", 12);
	data[i] = rdata[i];
	len[i] = 14;
    }
    set.data = data;
    set.len = len;
    set.count = 70;
    assert_int_equal(dns_rr_mx("example", &set, &info, &mx, 0), STATUS_OK);
    assert_int_equal(mx->count, DNS_LIST_MAX);
    assert_int_equal(mx->host[0].pref, 1);
    assert_int_equal(mx->host[DNS_LIST_MAX - 1].pref, DNS_LIST_MAX);
    dns_mx_free(&mx);
}

/* dns-names.txt */

static int name_row(void *ctx, int lineno, int nfield, char **field)
{
    char    out[DNS_NAME_MAX + 1];
    WHY     why;
    int    *rows = ctx;
    int     status;

    if (nfield != 2)
	fail_msg("dns-names.txt:%d: want 2 fields", lineno);
    why.text[0] = 0;
    status = dns_rr_name_norm(field[0], out, sizeof(out), &why);
    if (strcmp(field[1], "INVAL") == 0) {
	if (status != STATUS_INVAL || why.text[0] == 0 || out[0] != 0)
	    fail_msg("dns-names.txt:%d: \"%s\" accepted as \"%s\"", lineno, field[0], out);
    } else if (status != STATUS_OK || strcmp(out, field[1]) != 0) {
	fail_msg("dns-names.txt:%d: \"%s\" gave \"%s\" (%s), want \"%s\"", lineno, field[0],
		 out, why.text, field[1]);
    } else if (!dns_rr_same_name(field[0], out)) {
	fail_msg("dns-names.txt:%d: \"%s\" is not the same name as \"%s\"", lineno, out, field[0]);
    }
    (*rows)++;
    return (0);
}

static void test_dns_rr_names(void **state)
{
    int     rows = 0;
    int     n;

    (void) state;
    n = testdata_rows("dns-names.txt", '|', name_row, &rows);
    assert_int_equal(n, rows);
    assert_true(rows >= 10);
}

/* quiet - the malformed records are logged on purpose */

static void quiet(int sev, const char *line)
{
    (void) sev;
    (void) line;
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_dns_rr_records),
	cmocka_unit_test(test_dns_rr_mx_cap),
	cmocka_unit_test(test_dns_rr_names),
    };

    log_set_hook(quiet);
    return (cmocka_run_group_tests(tests, 0, 0));
}
