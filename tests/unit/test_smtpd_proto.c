/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_smtpd_proto 1
 * SUMMARY
 *	unit tests for smtpd_proto.c (the OpenSMTPD filter protocol)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_smtpd_proto
 * DESCRIPTION
 *	Table-driven from tests/unit/data:
 *
 *	smtpd-proto-parse.txt	smtpd_proto_parse(): config, report and
 *				filter lines of 0.6 and 0.7; malformed and
 *				truncated lines with their reason.
 *	smtpd-proto-version.txt	smtpd_proto_version(): the handshake.
 *	smtpd-proto-report.txt	link-connect, link-auth (parameter order by
 *				version) and tx-rcpt parameters.
 *	smtpd-proto-format.txt	filter-result and filter-dataline lines.
 *
 *	Two more tests: lines at and over SMTPD_PROTO_LINE_MAX, and the
 *	registration list (what is registered, "register|ready" last;
 *	data-line apart, sent only when tagging).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "smtpd_proto.h"
#include "str.h"
#include "testdata.h"


static const char *stream_name(int stream)
{
    switch (stream) {
    case SMTPD_PROTO_CONFIG:
	return ("config");
    case SMTPD_PROTO_REPORT:
	return ("report");
    case SMTPD_PROTO_FILTER:
	return ("filter");
    default:
	return ("none");
    }
}

static void want_str(const char *file, int lineno, const char *what, const char *want, const char *got)
{
    if (strcmp(want, "-") == 0)
	return;
    if (strcmp(want, "(null)") == 0) {
	if (got != 0)
	    fail_msg("%s:%d: %s: want null, got \"%s\"", file, lineno, what, got);
	return;
    }
    if (got == 0 || strcmp(want, got) != 0)
	fail_msg("%s:%d: %s: want \"%s\", got \"%s\"", file, lineno, what, want, got ? got : "(null)");
}

static int parse_row(void *ctx, int lineno, int nfield, char **field)
{
    static const char file[] = "smtpd-proto-parse.txt";
    SMTPD_PROTO_MSG msg;
    char    line[1024];
    char    err[128];
    char    version[8];
    int     ret;

    if (nfield != 8)
	fail_msg("%s:%d: want 8 fields, got %d", file, lineno, nfield);
    if (str_copy(line, sizeof(line), field[0]) < 0)
	fail_msg("%s:%d: line too long for the test", file, lineno);
    ret = smtpd_proto_parse(line, &msg, err, sizeof(err));
    if (strcmp(field[1], "ok") == 0) {
	if (ret != 0)
	    fail_msg("%s:%d: want ok, got error \"%s\"", file, lineno, err);
	want_str(file, lineno, "stream", field[2], stream_name(msg.stream));
	(void) snprintf(version, sizeof(version), "%d", msg.version);
	want_str(file, lineno, "version", field[3], version);
	if (msg.stream == SMTPD_PROTO_CONFIG) {
	    want_str(file, lineno, "key", field[4], msg.key);
	    want_str(file, lineno, "value", field[5], msg.value);
	} else {
	    want_str(file, lineno, "event", field[4], msg.event);
	    want_str(file, lineno, "session", field[5], msg.session);
	    if (msg.stream == SMTPD_PROTO_FILTER)
		want_str(file, lineno, "token", field[6], msg.token);
	    want_str(file, lineno, "params", field[7], msg.params);
	}
    } else {
	if (ret != -1)
	    fail_msg("%s:%d: want error \"%s\", got ok", file, lineno, field[1]);
	if (strstr(err, field[1]) == 0)
	    fail_msg("%s:%d: want error \"%s\", got \"%s\"", file, lineno, field[1], err);
	assert_int_equal(msg.stream, 0);
	assert_null(msg.params);
    }
    (*(int *) ctx)++;
    return (0);
}

static void test_smtpd_proto_parse(void **state)
{
    int     n = 0;
    int     rows;

    (void) state;
    rows = testdata_rows("smtpd-proto-parse.txt", '~', parse_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 40);
}

static int version_row(void *ctx, int lineno, int nfield, char **field)
{
    long    want = 0;
    int     got;

    if (nfield != 3 || str_to_long(field[2], -1, 7, &want) < 0)
	fail_msg("smtpd-proto-version.txt:%d: bad row", lineno);
    got = smtpd_proto_version(field[0], strcmp(field[1], "-") == 0 ? 0 : field[1]);
    if (got != want)
	fail_msg("smtpd-proto-version.txt:%d: %s=%s: want %ld, got %d", lineno, field[0], field[1], want, got);
    (*(int *) ctx)++;
    return (0);
}

static void test_smtpd_proto_version(void **state)
{
    int     n = 0;
    int     rows;

    (void) state;
    rows = testdata_rows("smtpd-proto-version.txt", '~', version_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 14);
}

static int report_row(void *ctx, int lineno, int nfield, char **field)
{
    static const char file[] = "smtpd-proto-report.txt";
    SMTPD_PROTO_MSG msg;
    char    line[1024];
    char    err[128];
    char    out1[256];
    char    out2[256];
    long    want = 0;
    int     got;

    if (nfield != 4 || str_to_long(field[1], -1, 0, &want) < 0)
	fail_msg("%s:%d: bad row", file, lineno);
    (void) str_copy(line, sizeof(line), field[0]);
    if (smtpd_proto_parse(line, &msg, err, sizeof(err)) != 0)
	fail_msg("%s:%d: does not parse: %s", file, lineno, err);
    out2[0] = 0;
    if (strcmp(msg.event, "link-connect") == 0)
	got = smtpd_proto_link_connect(&msg, out1, sizeof(out1));
    else if (strcmp(msg.event, "link-auth") == 0) {
	got = smtpd_proto_link_auth(&msg, out1, sizeof(out1));
	/* The user is read only from a report whose result reads. */
	if (smtpd_proto_link_auth_user(&msg, out2, sizeof(out2)) != got)
	    fail_msg("%s:%d: link-auth user and result disagree", file, lineno);
    } else if (strcmp(msg.event, "tx-mail") == 0)
	got = smtpd_proto_tx_mail(&msg, out1, sizeof(out1), out2, sizeof(out2));
    else if (strcmp(msg.event, "tx-rcpt") == 0)
	got = smtpd_proto_tx_rcpt(&msg, out1, sizeof(out1), out2, sizeof(out2));
    else
	got = -2;
    if (got != want)
	fail_msg("%s:%d: want %ld, got %d", file, lineno, want, got);
    want_str(file, lineno, "output", field[2], out1);
    want_str(file, lineno, "second output", field[3], out2);
    (*(int *) ctx)++;
    return (0);
}

static void test_smtpd_proto_report(void **state)
{
    int     n = 0;
    int     rows;

    (void) state;
    rows = testdata_rows("smtpd-proto-report.txt", '~', report_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 20);
}

static int format_row(void *ctx, int lineno, int nfield, char **field)
{
    static const char file[] = "smtpd-proto-format.txt";
    char    buf[1024];
    char    want[1024];
    long    version;
    const char *param;
    int     got;

    if (nfield != 7 || str_to_long(field[1], 0, 9, &version) < 0)
	fail_msg("%s:%d: bad row", file, lineno);
    param = strcmp(field[5], "(null)") == 0 ? 0 : field[5];
    if (strcmp(field[0], "result") == 0)
	got = smtpd_proto_result(buf, sizeof(buf), (int) version, field[2], field[3], field[4], param);
    else
	got = smtpd_proto_dataline(buf, sizeof(buf), (int) version, field[2], field[3], param ? param : "");
    if (strcmp(field[6], "-1") == 0) {
	if (got != -1 || buf[0] != 0)
	    fail_msg("%s:%d: want -1 and \"\", got %d \"%s\"", file, lineno, got, buf);
    } else {
	(void) snprintf(want, sizeof(want), "%s\n", field[6]);
	if (got != (int) strlen(want) || strcmp(buf, want) != 0)
	    fail_msg("%s:%d: want \"%s\", got %d \"%s\"", file, lineno, field[6], got, buf);
    }
    (*(int *) ctx)++;
    return (0);
}

static void test_smtpd_proto_format(void **state)
{
    int     n = 0;
    int     rows;

    (void) state;
    rows = testdata_rows("smtpd-proto-format.txt", '~', format_row, &n);
    assert_int_equal(rows, n);
    assert_true(n >= 20);
}

/* A line of SMTPD_PROTO_LINE_MAX bytes parses; one byte more does not. */

static void test_smtpd_proto_cap(void **state)
{
    static const char prefix[] = "filter|0.7|1.1|smtp-in|data-line|ab|cd|";
    SMTPD_PROTO_MSG msg;
    char   *line;
    char    err[128];
    char    out[64];
    size_t  len;

    (void) state;
    line = malloc(SMTPD_PROTO_LINE_MAX + 2);
    assert_non_null(line);
    len = SMTPD_PROTO_LINE_MAX;
    memset(line, 'x', len);
    memcpy(line, prefix, sizeof(prefix) - 1);
    line[len] = 0;
    assert_int_equal(smtpd_proto_parse(line, &msg, err, sizeof(err)), 0);
    assert_int_equal(strlen(msg.params), len - (sizeof(prefix) - 1));
    memset(line, 'x', len + 1);
    memcpy(line, prefix, sizeof(prefix) - 1);
    line[len + 1] = 0;
    assert_int_equal(smtpd_proto_parse(line, &msg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "too long"));
    /* An answer that does not fit is refused whole, never cut. */
    assert_int_equal(smtpd_proto_dataline(out, sizeof(out), SMTPD_PROTO_V07, "ab", "cd",
					  "a line that is longer than the output buffer of this test"), -1);
    assert_string_equal(out, "");
    free(line);
}

static void test_smtpd_proto_register(void **state)
{
    const char *const *r;
    int     n = 0;
    int     rcpt = 0;
    int     data = 0;
    int     auth = 0;

    (void) state;
    for (r = smtpd_proto_register; *r; r++) {
	n++;
	assert_true(strncmp(*r, "register|", 9) == 0);
	assert_null(strchr(*r, '\n'));
	rcpt += strcmp(*r, "register|filter|smtp-in|rcpt-to") == 0;
	data += strcmp(*r, "register|filter|smtp-in|data-line") == 0;
	auth += strcmp(*r, "register|report|smtp-in|link-auth") == 0;
	/* Only smtp-in: registering an unadvertised subsystem is fatal to smtpd. */
	if (strcmp(*r, "register|ready") != 0)
	    assert_non_null(strstr(*r, "|smtp-in|"));
    }
    assert_true(n >= 7);
    assert_string_equal(smtpd_proto_register[n - 1], "register|ready");
    assert_int_equal(rcpt, 1);
    /* Issue 11: data-line only when tagging (smtpd 6.8 cuts long body lines). */
    assert_int_equal(data, 0);
    assert_string_equal(smtpd_proto_register_data, "register|filter|smtp-in|data-line");
    assert_int_equal(auth, 1);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_smtpd_proto_parse),
	cmocka_unit_test(test_smtpd_proto_version),
	cmocka_unit_test(test_smtpd_proto_report),
	cmocka_unit_test(test_smtpd_proto_format),
	cmocka_unit_test(test_smtpd_proto_cap),
	cmocka_unit_test(test_smtpd_proto_register),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
