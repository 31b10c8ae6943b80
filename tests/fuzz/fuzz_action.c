/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_action 1
 * SUMMARY
 *	libFuzzer target for the SMTP reply and tag header builders
 *	(action.h) and the %-escaping for smfi_setreply() (text.h)
 * DESCRIPTION
 *	The input's first octets choose the verdict class (or an internal
 *	error), the configured action and monitor mode, the domain-level
 *	reason and up to VERDICT_HOSTS_MAX hosts with their reasons; the
 *	rest, split at LF, gives the recipient, the domain, the domain-level
 *	detail, the TLS-RPT record, host names and details, and further
 *	domains for the tag header. Strings that verdict.h says are stored
 *	sanitized go through text_sanitize() first (the VERDICT contract);
 *	the recipient and the domain arguments are passed raw, as a front
 *	end gets them. The explanation is either built by verdict_explain()
 *	or taken from the input.
 *
 *	Properties. action_reply(): -1 and a zeroed reply unless the action
 *	is defer or reject; otherwise a 3-digit code whose class (4 or 5)
 *	matches the action and the enhanced status code, "CODE DSN TEXT" at
 *	most ACTION_LINE_MAX octets (RFC 5321 section 4.5.3.1.5), no control
 *	octet or octet over 0x7e. text_escape_percent() of the reply into
 *	buffers of every small size and of the documented size: always
 *	NUL-terminated, never half of a "%%" pair, the unescaped output a
 *	prefix of the input, and 0 exactly when all of it fit.
 *	action_tag_add(): the value stays within the buffer and under
 *	ACTION_TAG_MAX, holds only clean text, a domain is added once (a
 *	second add returns 0 or -1, never 1), and it returns 1 only when the
 *	value grew. answer_reasons() stays in its buffer, says -1 when it
 *	truncated, and gives "-" for no reason.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is allocated by the code under test.
 *
 *	fuzz-max-len: 1024 (fields are cut to their VERDICT sizes anyway; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "log.h"
#include "text.h"
#include "verdict.h"

#define FUZZ_FIELDS	32		/* LF-separated input fields used */
#define FUZZ_TAG_DOMAINS 8		/* domains added to one tag value */

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

/* __ubsan_default_options - make UBSan findings fatal, so libFuzzer saves them */

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

/* fuzz_fail - report a broken property; libFuzzer saves the input */

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_action: property violated: %s\n", what);
    abort();
}

/* fuzz_clean - only printable ASCII */

static int fuzz_clean(const char *s)
{
    for (; *s; s++)
	if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
	    return (0);
    return (1);
}

/* fuzz_escape - text_escape_percent() into a buffer of size octets */

static void fuzz_escape(const char *src, size_t size)
{
    char   *dst;
    char   *plain;
    size_t  i;
    size_t  n = 0;
    int     rc;

    if ((dst = malloc(size ? size : 1)) == 0 || (plain = malloc(size + 1)) == 0) {
	free(dst);
	return;
    }
    rc = text_escape_percent(dst, size, src);
    if (size == 0) {
	if (rc != -1)
	    fuzz_fail("text_escape_percent into 0 octets did not fail");
	goto out;
    }
    if (strnlen(dst, size) >= size)
	fuzz_fail("text_escape_percent output not NUL-terminated in its buffer");
    for (i = 0; dst[i]; i++) {
	if (dst[i] == '%') {
	    if (dst[i + 1] != '%')
		fuzz_fail("text_escape_percent left a lone %");
	    i++;
	}
	plain[n++] = dst[i];
    }
    plain[n] = 0;
    if (strncmp(plain, src, n) != 0)
	fuzz_fail("unescaped output is not a prefix of the input");
    if ((rc == 0) != (src[n] == 0))
	fuzz_fail("text_escape_percent return value disagrees with what fit");

out:
    free(dst);
    free(plain);
}

/* fuzz_reply - action_reply() and the escaping of its text */

static void fuzz_reply(const ACTION *act, const ANSWER *v, const char *domain,
		               const char *rcpt)
{
    static const ACTION_REPLY zero;
    ACTION_REPLY reply;
    char    line[ACTION_LINE_MAX * 2 + 16];
    size_t  size;
    int     rc;

    rc = action_reply(act, v, domain, rcpt, &reply);
    if (act->action != ACTION_DEFER && act->action != ACTION_REJECT) {
	if (rc != -1 || memcmp(&reply, &zero, sizeof(reply)) != 0)
	    fuzz_fail("action_reply answered for an action that refuses nothing");
	return;
    }
    if (rc != 0)
	fuzz_fail("action_reply failed for a defer or reject");
    if (strlen(reply.code) != 3 || reply.code[0] != (act->action == ACTION_DEFER ? '4' : '5')
	|| reply.code[1] < '0' || reply.code[1] > '9' || reply.code[2] < '0' || reply.code[2] > '9')
	fuzz_fail("action_reply: bad reply code");
    if (reply.dsn[0] != reply.code[0] || reply.dsn[1] != '.')
	fuzz_fail("action_reply: enhanced status code class differs from the code");
    if (strnlen(reply.text, sizeof(reply.text)) >= sizeof(reply.text))
	fuzz_fail("action_reply: text not NUL-terminated");
    (void) snprintf(line, sizeof(line), "%s %s %s", reply.code, reply.dsn, reply.text);
    if (strlen(line) > ACTION_LINE_MAX)
	fuzz_fail("action_reply: reply line over ACTION_LINE_MAX");
    if (!fuzz_clean(line))
	fuzz_fail("action_reply: control or non-ASCII octet in the reply");

    /* As milter.c does before smfi_setreply(), and into small buffers. */
    fuzz_escape(reply.text, ACTION_LINE_MAX * 2 + 1);
    size = (strlen(reply.text) * (unsigned char) reply.text[0]) % (ACTION_LINE_MAX + 1);
    fuzz_escape(reply.text, size);
}

/* fuzz_tags - action_tag_add() over several domains, with repeats */

static void fuzz_tags(const ACTION *act, const ANSWER *v, char **field, int nfield, size_t size)
{
    char   *header;
    char    before[ACTION_TAG_MAX + 2];
    int     rc;
    int     i;

    if (size == 0 || (header = calloc(1, size)) == 0)
	return;
    for (i = 0; i < FUZZ_TAG_DOMAINS && i < nfield * 2; i++) {
	const char *dom = field[i % nfield];

	(void) snprintf(before, sizeof(before), "%s", header);
	rc = action_tag_add(header, size, act, v, dom);
	if (rc < -1 || rc > 1)
	    fuzz_fail("action_tag_add returned an undocumented value");
	if (strnlen(header, size) >= size)
	    fuzz_fail("action_tag_add: value not NUL-terminated in its buffer");
	if (strlen(header) > ACTION_TAG_MAX)
	    fuzz_fail("action_tag_add: value over ACTION_TAG_MAX");
	if (!fuzz_clean(header))
	    fuzz_fail("action_tag_add: control or non-ASCII octet in the value");
	if (rc == 1 && strlen(header) <= strlen(before))
	    fuzz_fail("action_tag_add said added but the value did not grow");
	if (rc == 0 && strcmp(header, before) != 0)
	    fuzz_fail("action_tag_add said already there but changed the value");
	if (rc == 1 && action_tag_add(header, size, act, v, dom) == 1)
	    fuzz_fail("action_tag_add added the same domain twice");
    }
    free(header);
}

/* fuzz_reasons - answer_reasons() into buffers of several sizes */

static void fuzz_reasons(const VERDICT *v)
{
    char    buf[512];
    size_t  size;
    int     rc;

    for (size = v->host_count % 4; size <= sizeof(buf); size += sizeof(buf) - 3) {
	memset(buf, 'x', sizeof(buf));
	rc = answer_reasons(v, buf, size);
	if (size == 0) {
	    if (rc != -1)
		fuzz_fail("answer_reasons into 0 octets did not fail");
	    continue;
	}
	if (strnlen(buf, size) >= size)
	    fuzz_fail("answer_reasons: not NUL-terminated in its buffer");
	if (!fuzz_clean(buf))
	    fuzz_fail("answer_reasons: unclean label");
	if (size == sizeof(buf) && rc != 0)
	    fuzz_fail("answer_reasons: truncated in a large buffer");
	if (rc == 0 && buf[0] == 0)
	    fuzz_fail("answer_reasons: empty instead of \"-\"");
    }
}

/* fuzz_log - discard log lines (the code under test logs nothing) */

static void fuzz_log(int sev, const char *line)
{
    (void) sev;
    (void) line;
}

/* LLVMFuzzerTestOneInput - one verdict, reply and tag header */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static VERDICT v;
    static ANSWER a;
    char   *copy;
    char   *field[FUZZ_FIELDS];
    char   *p;
    char   *nl;
    ACTION  act;
    int     nfield = 0;
    int     hosts;
    int     i;

    if (size < 5)
	return (0);
    log_set_hook(fuzz_log);
    memset(&v, 0, sizeof(v));
    memset(&act, 0, sizeof(act));
    act.verdict = data[0] % (VERDICT_COUNT + 1);
    if (act.verdict == VERDICT_COUNT)
	act.verdict = ACTION_INTERNAL_ERROR;
    act.action = data[1] & 3;
    act.configured = (data[1] >> 2) & 3;
    act.monitor = (data[1] >> 4) & 1;
    act.tag = act.action == ACTION_TAG;
    v.verdict = act.verdict == ACTION_INTERNAL_ERROR ? VERDICT_TEMPORARY : act.verdict;
    v.reason = data[2] % REASON_COUNT;
    hosts = data[3] % (VERDICT_HOSTS_MAX + 1);

    /* Fields: the rest of the input split at LF, each a C string. */
    if ((copy = malloc(size - 4 + 1)) == 0)
	return (0);
    memcpy(copy, data + 4, size - 4);
    copy[size - 4] = 0;
    for (p = copy; nfield < FUZZ_FIELDS; p = nl + 1) {
	field[nfield++] = p;
	if ((nl = strchr(p, '\n')) == 0)
	    break;
	*nl = 0;
    }
    while (nfield < 6)
	field[nfield++] = "";

    /* The VERDICT contract: stored strings are sanitized. */
    (void) text_sanitize(v.domain, sizeof(v.domain), field[1]);
    (void) text_sanitize(v.detail, sizeof(v.detail), field[2]);
    (void) text_sanitize(v.tlsrpt, sizeof(v.tlsrpt), field[3]);
    for (i = 0; i < hosts; i++) {
	VERDICT_HOST *h = &v.host[i];
	unsigned char b = data[(size_t) (4 + i) % size];

	(void) text_sanitize(h->name, sizeof(h->name), field[(4 + i) % nfield]);
	(void) text_sanitize(h->detail, sizeof(h->detail), field[(5 + i) % nfield]);
	h->passed = b & 1;
	h->dane = (b >> 1) & 1;
	h->reason = h->passed ? REASON_NONE : (b >> 2) % REASON_COUNT;
	h->pref = b;
    }
    v.host_count = hosts;
    if (data[4] & 1)
	verdict_explain(&v);
    else
	(void) text_sanitize(v.explanation, sizeof(v.explanation), field[4 % nfield]);

    answer_from_verdict(&v, &a);
    fuzz_reply(&act, &a, data[1] & 0x20 ? 0 : field[1], field[0]);
    if (data[1] & 0x40)
	fuzz_reply(&act, 0, field[1], 0);
    fuzz_reasons(&v);
    if (data[1] & 0x80)
	fuzz_tags(&act, data[2] & 1 ? 0 : &a, field, nfield, 1 + (data[2] % 96));
    else
	fuzz_tags(&act, &a, field, nfield, ACTION_TAG_MAX + 1);
    fuzz_escape(field[0], 1 + data[3] % 64);
    free(copy);
    return (0);
}
