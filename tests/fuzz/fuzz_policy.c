/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_policy 1
 * SUMMARY
 *	libFuzzer target for the MTA-STS policy parser and MX matching
 *	(policy.h)
 * DESCRIPTION
 *	The input is a policy body (RFC 8461 section 3.2). It goes through
 *	policy_parse() and policy_lint() (with a reporter that only reads
 *	each message); the two must agree on the status and the result.
 *	For a parsed policy the documented invariants must hold (mode,
 *	max_age range, mx count, lowercase patterns without a trailing dot
 *	that policy_pattern_valid() accepts), and policy_match() and
 *	policy_pattern_match() run against fixed host names, names made
 *	from each pattern, and the input's lines taken as host names.
 *	A pattern "*.x" made concrete as "a.x" must match (section 4.1).
 *	policy_lenient() must agree with policy_parse() on the status and
 *	give a problem, and an escaped (printable ASCII) line, for every
 *	refused body.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 70000 (past POLICY_BODY_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "status.h"
#include "why.h"

#define FUZZ_LINES_MAX	8		/* input lines tried as host names */

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

static const char *fuzz_hosts[] = {
    "mx.example.com",
    "MX.Example.COM.",
    "a.b.example.com",
    "example.com",
    "com",
    ".",
    "",
    "*.example.com",
    "xn--mnchen-3ya.example",
    "mx1.example.net.",
    0,
};

static int fuzz_valid = -1;		/* what policy_pattern_valid() says to a valid pattern */

/* __ubsan_default_options - make UBSan findings fatal, so libFuzzer saves them */

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

/* fuzz_fail - report a broken property; libFuzzer saves the input */

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_policy: property violated: %s\n", what);
    abort();
}

/* fuzz_report - policy_lint() reporter: read the message, nothing else */

static void fuzz_report(void *ctx, int lineno, int is_error, const char *msg)
{
    size_t *count = ctx;

    if (msg == 0)
	fuzz_fail("policy_lint reported a null message");
    if (lineno < 0)
	fuzz_fail("policy_lint reported a negative line number");
    *count += strlen(msg) + 1;
}

/* fuzz_same - two policies are equal */

static int fuzz_same(const POLICY *a, const POLICY *b)
{
    int     i;

    if (a->mode != b->mode || a->max_age != b->max_age
	|| a->mx_count != b->mx_count)
	return (0);
    for (i = 0; i < a->mx_count; i++)
	if (strcmp(a->mx[i], b->mx[i]) != 0)
	    return (0);
    return (1);
}

/* fuzz_check_policy - the documented invariants of a parsed policy */

static void fuzz_check_policy(const POLICY *p)
{
    const char *cp;
    char    host[POLICY_HOST_MAX + 3];
    size_t  len;
    int     i;

    if (p->mode != POLICY_MODE_NONE && p->mode != POLICY_MODE_TESTING
	&& p->mode != POLICY_MODE_ENFORCE)
	fuzz_fail("policy mode out of range");
    if (policy_mode_name(p->mode) == 0)
	fuzz_fail("policy_mode_name returned null for a parsed mode");
    if (p->max_age < 0 || p->max_age > POLICY_MAX_AGE_MAX)
	fuzz_fail("policy max_age out of 0..31557600");
    if (p->mx_count < 0 || p->mx_count > POLICY_MX_MAX)
	fuzz_fail("policy mx_count out of range");
    if (p->mode != POLICY_MODE_NONE && p->mx_count == 0)
	fuzz_fail("enforce/testing policy without mx");
    for (i = 0; i < p->mx_count; i++) {
	if (p->mx[i] == 0)
	    fuzz_fail("null mx pattern");
	if (policy_pattern_valid(p->mx[i], 0) != fuzz_valid)
	    fuzz_fail("parsed mx pattern fails policy_pattern_valid");
	len = strlen(p->mx[i]);
	if (len > 0 && p->mx[i][len - 1] == '.')
	    fuzz_fail("parsed mx pattern keeps a trailing dot");
	for (cp = p->mx[i]; *cp; cp++)
	    if (*cp >= 'A' && *cp <= 'Z')
		fuzz_fail("parsed mx pattern not lowercase");

	/* The pattern matches itself made concrete, in any case. */
	if (len + 2 >= sizeof(host))
	    continue;
	if (strncmp(p->mx[i], "*.", 2) == 0)
	    (void) snprintf(host, sizeof(host), "A%s.", p->mx[i] + 1);
	else
	    (void) snprintf(host, sizeof(host), "%s.", p->mx[i]);
	for (cp = host; *cp; cp++)
	    if (*cp >= 'a' && *cp <= 'z' && ((cp - host) & 1))
		host[cp - host] = (char) (*cp - 'a' + 'A');
	if (!policy_pattern_match(p->mx[i], host))
	    fuzz_fail("mx pattern does not match its own concrete host");
	if (!policy_match(p, host))
	    fuzz_fail("policy_match misses a host its pattern matches");
    }
}

/* fuzz_lines_as_hosts - each input line as a host and as a pattern */

static void fuzz_lines_as_hosts(const uint8_t *data, size_t size,
				        const POLICY *p)
{
    size_t  pos = 0;
    int     lines = 0;
    char   *line;
    int     i;

    while (pos < size && lines++ < FUZZ_LINES_MAX) {
	const uint8_t *nl = memchr(data + pos, '\n', size - pos);
	size_t  n = nl ? (size_t) (nl - (data + pos)) : size - pos;

	if ((line = malloc(n + 1)) == 0)
	    return;
	memcpy(line, data + pos, n);
	line[n] = 0;
	if (p) {
	    (void) policy_match(p, line);
	    for (i = 0; i < p->mx_count; i++)
		(void) policy_pattern_match(p->mx[i], line);
	}
	if (policy_pattern_valid(line, 0) == fuzz_valid) {
	    for (i = 0; fuzz_hosts[i]; i++)
		(void) policy_pattern_match(line, fuzz_hosts[i]);
	}
	free(line);
	pos += n + 1;
    }
}

/* LLVMFuzzerTestOneInput - one policy body */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    POLICY *p = 0;
    POLICY *lp = 0;
    WHY     why;
    size_t  reported = 0;
    POLICY_LENIENT lenient;
    int     status;
    int     lstatus;
    int     i;

    /*
     * policy.h does not say what policy_pattern_valid() returns for a
     * valid pattern (a status or a truth value): ask it once.
     */
    if (fuzz_valid == -1)
	fuzz_valid = policy_pattern_valid("mx.example.com", 0);

    why.text[0] = 0;
    status = policy_parse((const char *) data, size, &p, &why);
    lstatus = policy_lint((const char *) data, size, &lp, fuzz_report, &reported);

    if (status != STATUS_OK && status != STATUS_INVAL)
	fuzz_fail("policy_parse returned an undocumented status");
    if (status != lstatus)
	fuzz_fail("policy_parse and policy_lint disagree on the status");
    if (status == STATUS_OK) {
	if (p == 0 || lp == 0)
	    fuzz_fail("STATUS_OK without a policy");
	if (!fuzz_same(p, lp))
	    fuzz_fail("policy_parse and policy_lint disagree on the policy");
	fuzz_check_policy(p);
	for (i = 0; fuzz_hosts[i]; i++)
	    (void) policy_match(p, fuzz_hosts[i]);
    } else {
	if (p != 0 || lp != 0)
	    fuzz_fail("policy left in *out after an error");
	if (why.text[0] == 0)
	    fuzz_fail("policy_parse rejected without a reason");
	if (reported == 0)
	    fuzz_fail("policy_lint rejected without reporting an error");
    }
    fuzz_lines_as_hosts(data, size, p);

    /* policy_lenient() agrees with policy_parse(); its texts are bounded and clean. */
    if (policy_lenient((const char *) data, size, &lenient) != status)
	fuzz_fail("policy_lenient and policy_parse disagree on the status");
    if (status == STATUS_OK && (!lenient.lenient_ok || lenient.problem[0] || lenient.line != 0))
	fuzz_fail("policy_lenient diagnosed a valid policy");
    if (status != STATUS_OK && lenient.problem[0] == 0)
	fuzz_fail("policy_lenient refused without a problem");
    if (lenient.line < 0 || memchr(lenient.line_text, 0, sizeof(lenient.line_text)) == 0
	|| memchr(lenient.problem, 0, sizeof(lenient.problem)) == 0)
	fuzz_fail("policy_lenient left an unterminated text or a bad line");
    for (i = 0; lenient.line_text[i]; i++)
	if ((unsigned char) lenient.line_text[i] < 0x20 || (unsigned char) lenient.line_text[i] > 0x7e)
	    fuzz_fail("policy_lenient line text is not escaped");

    policy_free(&p);
    policy_free(&lp);
    if (p != 0 || lp != 0)
	fuzz_fail("policy_free did not clear the pointer");
    return (0);
}
