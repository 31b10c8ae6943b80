/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_audit_log 1
 * SUMMARY
 *	libFuzzer target for the mail log readers of `stsfilter audit`
 *	(filter/audit_log.h)
 * DESCRIPTION
 *	The input is a mail log: audit_log_read() reads it (fmemopen())
 *	line by line, and each line goes through audit_log_detect() and
 *	audit_log_parse() in every format.
 *
 *	Properties: a line read is at most AUDIT_LINE_MAX octets and holds
 *	no LF; the lines read and skipped account for every LF of the
 *	input; detect names a known format; parse returns STATUS_OK,
 *	STATUS_NOTFOUND or STATUS_INVAL, with 1 to AUDIT_RCPT_MAX
 *	recipients exactly when STATUS_OK (and only Sendmail lines have
 *	more than one or drop some); a queue id is 1 to 31 letters and
 *	digits (none for a list of domains); every recipient's text is
 *	printable ASCII and NUL-terminated in its field; a valid domain is
 *	lowercase LDH, its own normal form.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 9000 (past two lines of AUDIT_LINE_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_log.h"
#include "domain.h"
#include "status.h"
#include "why.h"

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_audit_log: property violated: %s\n", what);
    abort();
}

static void fuzz_text(const char *s, size_t size, const char *what)
{
    size_t  n = strnlen(s, size);
    size_t  i;

    if (n >= size)
	fuzz_fail(what);
    for (i = 0; i < n; i++)
	if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] >= 0x7f)
	    fuzz_fail(what);
}

static void fuzz_line(const char *line, size_t len)
{
    AUDIT_LINE out;
    char    again[DOMAIN_MAX + 1];
    WHY     why;
    int     format, st, i;
    size_t  q;

    if ((st = audit_log_detect(line, len)) < AUDIT_FORMAT_AUTO || st > AUDIT_FORMAT_DOMAINS)
	fuzz_fail("detect: unknown format");
    for (format = AUDIT_FORMAT_POSTFIX; format <= AUDIT_FORMAT_DOMAINS; format++) {
	st = audit_log_parse(format, line, len, &out);
	if (st != STATUS_OK && st != STATUS_NOTFOUND && st != STATUS_INVAL)
	    fuzz_fail("parse: undocumented status");
	if ((st == STATUS_OK) != (out.rcpt_count > 0) || out.rcpt_count > AUDIT_RCPT_MAX)
	    fuzz_fail("parse: recipient count");
	if (format != AUDIT_FORMAT_SENDMAIL && (out.rcpt_count > 1 || out.rcpt_dropped))
	    fuzz_fail("parse: several recipients outside Sendmail");
	if (st != STATUS_OK)
	    continue;
	q = strnlen(out.qid, sizeof(out.qid));
	if (q >= sizeof(out.qid) || (format == AUDIT_FORMAT_DOMAINS) != (q == 0))
	    fuzz_fail("parse: queue id length");
	if (strspn(out.qid, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != q)
	    fuzz_fail("parse: queue id characters");
	if (out.status < AUDIT_STATUS_SENT || out.status > AUDIT_STATUS_OTHER)
	    fuzz_fail("parse: status");
	fuzz_text(out.agent, sizeof(out.agent), "parse: agent");
	for (i = 0; i < out.rcpt_count; i++) {
	    fuzz_text(out.rcpt[i].addr, sizeof(out.rcpt[i].addr), "parse: address");
	    fuzz_text(out.rcpt[i].domain, sizeof(out.rcpt[i].domain), "parse: domain");
	    if (!out.rcpt[i].valid)
		continue;
	    if (domain_normalize(out.rcpt[i].domain, again, sizeof(again), &why) != STATUS_OK
		|| strcmp(again, out.rcpt[i].domain) != 0)
		fuzz_fail("parse: a valid domain is not its own normal form");
	}
    }
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    buf[AUDIT_LINE_MAX + 2];
    FILE   *fp;
    size_t  len, lf = 0, i;
    long    lines = 0;
    int     got;

    if (size == 0 || (fp = fmemopen((void *) data, size, "r")) == 0)
	return (0);
    for (i = 0; i < size; i++)
	lf += (data[i] == '\n');
    while ((got = audit_log_read(fp, buf, sizeof(buf), &len)) != 0) {
	lines++;
	if (got < 0)
	    continue;
	if (len > AUDIT_LINE_MAX || len != strlen(buf) || memchr(buf, '\n', len))
	    fuzz_fail("read: line over the cap or with LF");
	fuzz_line(buf, len);
    }
    (void) fclose(fp);
    /* Every LF ends one line; text after the last LF is one more. */
    if ((size_t) lines != lf + (data[size - 1] != '\n'))
	fuzz_fail("read: lines do not account for the input");
    return (0);
}
