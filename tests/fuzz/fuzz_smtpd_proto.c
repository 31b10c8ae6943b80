/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_smtpd_proto 1
 * SUMMARY
 *	libFuzzer target for the OpenSMTPD filter protocol lines
 *	(filter/smtpd_proto.h), what stsfilter-smtpd reads from smtpd
 * DESCRIPTION
 *	The input, up to its first NUL and at most SMTPD_PROTO_LINE_MAX + 16
 *	octets, is one line given to smtpd_proto_parse(); a line it accepts
 *	then goes through every reader and writer that stsfilter-smtpd
 *	would use on it, into exact-size buffers.
 *
 *	Properties:
 *	- parse returns 0 or -1; -1 leaves a reason and stream 0;
 *	- 0: a known stream; report and filter lines have version 0.6 or
 *	  0.7 and a session of 1 to 16 hex digits; filter lines a token
 *	  too, and parameters (possibly ""); a line over
 *	  SMTPD_PROTO_LINE_MAX is always refused;
 *	- smtpd_proto_version() returns -1, 0, 6 or 7;
 *	- link-auth gives "pass", "fail" or "error", and a user name
 *	  exactly when it gives a result (cut to its buffer, NUL-terminated);
 *	  tx-mail and tx-rcpt give "ok",
 *	  "permfail" or "tempfail"; link-connect gives an address that
 *	  inet_pton() reads, or "";
 *	- every output is NUL-terminated inside its buffer; a formatted
 *	  filter-result or filter-dataline is one line: its prefix, one
 *	  LF at the end and no other LF (and no CR in a result);
 *	- parsing is stable: the echoed data line, read back as smtpd
 *	  would send it, gives the same parameters.
 *
 *	A broken property calls abort(). Nothing is leaked.
 *
 *	fuzz-max-len: 66000 (past SMTPD_PROTO_LINE_MAX; read by tests/fuzz/run)
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpd_proto.h"

#define FUZZ_INPUT_MAX	(SMTPD_PROTO_LINE_MAX + 16)
#define FUZZ_OUT_MAX	(SMTPD_PROTO_LINE_MAX + 128)

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_smtpd_proto: property violated: %s\n", what);
    abort();
}

static int fuzz_hex(const char *s)
{
    size_t  n = strspn(s, "0123456789abcdefABCDEF");

    return (s[n] == 0 && n >= 1 && n <= SMTPD_PROTO_ID_MAX);
}

/* fuzz_line - a formatted answer is one line with this prefix */

static void fuzz_line(const char *buf, int n, const char *prefix)
{
    if (n < 0) {
	if (buf[0] != 0)
	    fuzz_fail("refused output left text behind");
	return;
    }
    if ((size_t) n != strlen(buf) || n < 2 || buf[n - 1] != '\n' || memchr(buf, '\n', (size_t) n - 1) != 0)
	fuzz_fail("formatted output is not exactly one line");
    if (strncmp(buf, prefix, strlen(prefix)) != 0)
	fuzz_fail("formatted output has the wrong prefix");
}

static void fuzz_report(const SMTPD_PROTO_MSG *msg)
{
    char   *addr;
    char    res[16];
    char    user[32];
    char   *rcpt;
    unsigned char bin[sizeof(struct in6_addr)];
    size_t  asize = 64;
    size_t  rsize = 300;

    if ((addr = malloc(asize)) == 0 || (rcpt = malloc(rsize)) == 0)
	abort();
    if (smtpd_proto_link_connect(msg, addr, asize) == 0) {
	if (addr[0] && inet_pton(AF_INET, addr, bin) != 1 && inet_pton(AF_INET6, addr, bin) != 1)
	    fuzz_fail("link-connect address that is no address");
    } else if (addr[0] != 0) {
	fuzz_fail("refused link-connect left an address");
    }
    if (smtpd_proto_link_auth(msg, res, sizeof(res)) == 0) {
	if (strcmp(res, "pass") != 0 && strcmp(res, "fail") != 0 && strcmp(res, "error") != 0)
	    fuzz_fail("link-auth result not pass, fail or error");
    } else if (res[0] != 0) {
	fuzz_fail("refused link-auth left a result");
    }
    /* A small buffer: a long user name is cut, never refused. */
    if (smtpd_proto_link_auth_user(msg, user, sizeof(user)) != (res[0] ? 0 : -1))
	fuzz_fail("link-auth user and result disagree");
    if (strnlen(user, sizeof(user)) >= sizeof(user) || (res[0] == 0 && user[0] != 0))
	fuzz_fail("link-auth user not NUL-terminated, or left by a refused report");
    if (smtpd_proto_tx_mail(msg, res, sizeof(res), rcpt, rsize) == 0) {
	if (strcmp(res, "ok") != 0 && strcmp(res, "permfail") != 0 && strcmp(res, "tempfail") != 0)
	    fuzz_fail("tx-mail result not ok, permfail or tempfail");
	if (strnlen(rcpt, rsize) >= rsize)
	    fuzz_fail("tx-mail address not NUL-terminated");
    } else if (res[0] != 0 || rcpt[0] != 0) {
	fuzz_fail("refused tx-mail left output");
    }
    if (smtpd_proto_tx_rcpt(msg, res, sizeof(res), rcpt, rsize) == 0) {
	if (strcmp(res, "ok") != 0 && strcmp(res, "permfail") != 0 && strcmp(res, "tempfail") != 0)
	    fuzz_fail("tx-rcpt result not ok, permfail or tempfail");
	if (strnlen(rcpt, rsize) >= rsize)
	    fuzz_fail("tx-rcpt address not NUL-terminated");
    } else if (res[0] != 0 || rcpt[0] != 0) {
	fuzz_fail("refused tx-rcpt left output");
    }
    free(addr);
    free(rcpt);
}

static void fuzz_filter(const SMTPD_PROTO_MSG *msg)
{
    char   *buf;
    char   *again;
    char    prefix[64];
    SMTPD_PROTO_MSG back;
    int     n;

    if ((buf = malloc(FUZZ_OUT_MAX)) == 0)
	abort();
    (void) snprintf(prefix, sizeof(prefix), "filter-result|%s|%s|", msg->session, msg->token);
    fuzz_line(buf, smtpd_proto_result(buf, FUZZ_OUT_MAX, msg->version, msg->session, msg->token, "proceed", 0),
	      prefix);
    n = smtpd_proto_result(buf, FUZZ_OUT_MAX, msg->version, msg->session, msg->token, "reject", msg->params);
    fuzz_line(buf, n, prefix);
    if (n >= 0 && strchr(buf, '\r') != 0)
	fuzz_fail("a reject answer holds CR");
    (void) snprintf(prefix, sizeof(prefix), "filter-dataline|%s|%s|", msg->session, msg->token);
    n = smtpd_proto_dataline(buf, FUZZ_OUT_MAX, msg->version, msg->session, msg->token, msg->params);
    fuzz_line(buf, n, prefix);
    /* Read back as smtpd would send the line: the same parameters. */
    if (n >= 0) {
	if ((again = malloc((size_t) n + 64)) == 0)
	    abort();
	(void) snprintf(again, (size_t) n + 64, "filter|0.%d|1.2|smtp-in|data-line|%s|%s|%.*s",
			msg->version, msg->session, msg->token, n - 1 - (int) strlen(prefix),
			buf + strlen(prefix));
	if (strlen(again) <= SMTPD_PROTO_LINE_MAX) {
	    if (smtpd_proto_parse(again, &back, 0, 0) != 0 || back.params == 0
		|| strcmp(back.params, msg->params) != 0)
		fuzz_fail("an echoed data line does not read back the same");
	}
	free(again);
    }
    /* A small buffer: refused whole. */
    n = smtpd_proto_dataline(buf, 8, msg->version, msg->session, msg->token, msg->params);
    if (n >= 0 && (size_t) n >= 8)
	fuzz_fail("dataline wrote past its size");
    free(buf);
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    SMTPD_PROTO_MSG msg;
    char   *line;
    char    err[128];
    size_t  len = size < FUZZ_INPUT_MAX ? size : FUZZ_INPUT_MAX;
    int     rc;
    int     v;

    if ((line = malloc(len + 1)) == 0)
	abort();
    memcpy(line, data, len);
    line[len] = 0;
    len = strlen(line);
    rc = smtpd_proto_parse(line, &msg, err, sizeof(err));
    if (rc != 0 && rc != -1)
	fuzz_fail("parse returned neither 0 nor -1");
    if (rc < 0) {
	if (err[0] == 0 || msg.stream != 0 || msg.params != 0)
	    fuzz_fail("refused line without a reason, or with a message");
	goto out;
    }
    if (len > SMTPD_PROTO_LINE_MAX)
	fuzz_fail("a line over SMTPD_PROTO_LINE_MAX was accepted");
    switch (msg.stream) {
    case SMTPD_PROTO_CONFIG:
	if (msg.key == 0)
	    fuzz_fail("config line without a key");
	v = smtpd_proto_version(msg.key, msg.value);
	if (v != -1 && v != 0 && v != SMTPD_PROTO_V06 && v != SMTPD_PROTO_V07)
	    fuzz_fail("undocumented version");
	break;
    case SMTPD_PROTO_REPORT:
    case SMTPD_PROTO_FILTER:
	if ((msg.version != SMTPD_PROTO_V06 && msg.version != SMTPD_PROTO_V07) || !fuzz_hex(msg.session)
	    || msg.event == 0 || msg.subsystem == 0)
	    fuzz_fail("report or filter line with a bad version, session or name");
	if (msg.stream == SMTPD_PROTO_REPORT) {
	    fuzz_report(&msg);
	} else {
	    if (!fuzz_hex(msg.token) || msg.params == 0)
		fuzz_fail("filter line without a token or parameters");
	    fuzz_filter(&msg);
	}
	break;
    default:
	fuzz_fail("unknown stream accepted");
    }

out:
    free(line);
    return (0);
}
