/*
 * NAME
 *	policy 3
 * SUMMARY
 *	MTA-STS policy parser and MX pattern matching (RFC 8461 sections
 *	3.2 and 4.1)
 * DESCRIPTION
 *	See policy.h. The grammar, from RFC 8461 section 3.2:
 *
 *	sts-policy-record = sts-policy-field *WSP
 *	                    *(sts-policy-term sts-policy-field *WSP)
 *	                    [sts-policy-term]
 *	field-delim       = ":" *WSP
 *	sts-policy-version-value = %s"STSv1"
 *	sts-policy-mode-value    = %s"testing" / %s"enforce" / %s"none"
 *	sts-policy-mx-value      = ["*."] Domain
 *	sts-policy-max-age-value = 1*10(DIGIT)
 *	sts-policy-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	sts-policy-ext-value = sts-policy-vchar
 *	                       [*(%x20 / sts-policy-vchar) sts-policy-vchar]
 *	sts-policy-term      = LF / CRLF
 *
 *	Where this parser departs from a literal reading, it says so:
 *	- version, mode and max_age are "required once": a repeated one
 *	  makes the policy invalid (some implementations take the first);
 *	- empty lines are not in the grammar; they carry no field, so they
 *	  are skipped (policy_lint() warns);
 *	- an mx pattern may end in one dot, which is ignored (section 4.1
 *	  matching ignores trailing dots).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "status.h"
#include "str.h"

#define POLICY_IS_ALPHA(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define POLICY_IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define POLICY_IS_WSP(c)	((c) == ' ' || (c) == '\t')
#define POLICY_LOWER(c)		(((c) >= 'A' && (c) <= 'Z') ? (c) - 'A' + 'a' : (c))

/* The state of one policy_lint() run. */

typedef struct POLICY_SCAN {
    void    (*report) (void *, int, int, const char *);
    void   *ctx;
    int     errors;
    int     seen_version;
    int     seen_mode;
    int     seen_max_age;
} POLICY_SCAN;

static void policy_report(POLICY_SCAN *scan, int lineno, int is_error, const char *msg)
{
    if (is_error)
	scan->errors++;
    if (scan->report)
	scan->report(scan->ctx, lineno, is_error, msg);
}

const char *policy_mode_name(int mode)
{
    switch (mode) {
    case POLICY_MODE_ENFORCE:
	return ("enforce");
    case POLICY_MODE_TESTING:
	return ("testing");
    case POLICY_MODE_NONE:
	return ("none");
    default:
	return ("unknown");
    }
}

void    policy_free(POLICY **pp)
{
    POLICY *p;
    int     i;

    if (pp == 0 || (p = *pp) == 0)
	return;
    for (i = 0; i < p->mx_count; i++)
	free(p->mx[i]);
    free(p->mx);
    free(p);
    *pp = 0;
}

/*
 * RFC 8461 §3.2: sts-policy-mx-value = ["*."] Domain, with Domain from
 * RFC 5321 §4.1.2: sub-domain *("." sub-domain), sub-domain = Let-dig
 * [Ldh-str]. Labels of 1-63 octets, names of at most 253 (RFC 1035 §2.3.4).
 */
int     policy_pattern_valid(const char *pattern, WHY *why)
{
    const char *p = pattern;
    size_t  len = strlen(pattern);
    size_t  label = 0;

    if (len > 0 && pattern[len - 1] == '.')
	len--;					/* §4.1: a trailing dot is ignored */
    if (len >= 2 && p[0] == '*' && p[1] == '.') {
	p += 2;
	len -= 2;
    }
    if (len == 0) {
	why_set(why, "empty mx pattern");
	return (0);
    }
    if (len > 253) {
	why_set(why, "mx pattern longer than 253 characters");
	return (0);
    }
    for (; len > 0; p++, len--) {
	if (*p == '.') {
	    if (label == 0 || p[-1] == '-') {
		why_set(why, "bad mx pattern \"%.100s\": empty label or label ending in \"-\"", pattern);
		return (0);
	    }
	    label = 0;
	    continue;
	}
	if (!POLICY_IS_ALPHA(*p) && !POLICY_IS_DIGIT(*p) && !(*p == '-' && label > 0)) {
	    why_set(why, "bad mx pattern \"%.100s\": %s", pattern,
		    *p == '*' ? "a wildcard may only be the whole leftmost label" :
		    "only letters, digits, \"-\" and \".\" are allowed");
	    return (0);
	}
	if (++label > 63) {
	    why_set(why, "bad mx pattern \"%.100s\": label longer than 63 characters", pattern);
	    return (0);
	}
    }
    if (label == 0 || p[-1] == '-') {
	why_set(why, "bad mx pattern \"%.100s\": empty label or label ending in \"-\"", pattern);
	return (0);
    }
    return (1);
}

/* Case-insensitive comparison of a[0..n) and b[0..n). */

static int policy_eq(const char *a, const char *b, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++)
	if (POLICY_LOWER((unsigned char) a[i]) != POLICY_LOWER((unsigned char) b[i]))
	    return (0);
    return (1);
}

int     policy_pattern_match(const char *pattern, const char *host)
{
    size_t  plen = strlen(pattern);
    size_t  hlen = strlen(host);
    size_t  prefix;

    /* RFC 8461 §4.1: names are compared case-insensitively; a trailing dot is ignored. */
    if (plen > 0 && pattern[plen - 1] == '.')
	plen--;
    if (hlen > 0 && host[hlen - 1] == '.')
	hlen--;
    if (plen == 0 || hlen == 0)
	return (0);
    if (plen >= 2 && pattern[0] == '*' && pattern[1] == '.') {
	/* RFC 8461 §4.1: a wildcard matches exactly one leftmost label. */
	if (hlen <= plen - 1 || !policy_eq(host + hlen - (plen - 1), pattern + 1, plen - 1))
	    return (0);
	prefix = hlen - (plen - 1);
	return (prefix > 0 && memchr(host, '.', prefix) == 0);
    }
    return (plen == hlen && policy_eq(pattern, host, plen));
}

int     policy_match(const POLICY *policy, const char *host)
{
    int     i;

    for (i = 0; i < policy->mx_count; i++)
	if (policy_pattern_match(policy->mx[i], host))
	    return (1);
    return (0);
}

/* Add a pattern, lowercase, without its trailing dot. */

static int policy_add_mx(POLICY *p, const char *value, size_t len)
{
    char  **nmx;
    char   *copy;
    size_t  i;

    if (len > 0 && value[len - 1] == '.')
	len--;
    if ((copy = malloc(len + 1)) == 0)
	return (-1);
    for (i = 0; i < len; i++)
	copy[i] = (char) POLICY_LOWER((unsigned char) value[i]);
    copy[len] = 0;
    if ((nmx = realloc(p->mx, sizeof(*nmx) * (size_t) (p->mx_count + 1))) == 0) {
	free(copy);
	return (-1);
    }
    p->mx = nmx;
    p->mx[p->mx_count++] = copy;
    return (0);
}

/* One "name: value" line (without its terminator). */

static void policy_line(POLICY_SCAN *scan, POLICY *p, int lineno, const char *line, size_t len)
{
    char    msg[300];
    char    value[POLICY_HOST_MAX + 2];
    const char *colon = memchr(line, ':', len);
    size_t  name_len, vlen, i;
    const char *v;
    WHY     why;

    if (colon == 0) {
	policy_report(scan, lineno, 1, "line is not \"name: value\"");
	return;
    }
    name_len = (size_t) (colon - line);
    v = colon + 1;
    vlen = len - name_len - 1;
    /* field-delim = ":" *WSP; then *WSP after the value (sts-policy-record). */
    while (vlen > 0 && POLICY_IS_WSP(*v))
	v++, vlen--;
    while (vlen > 0 && POLICY_IS_WSP(v[vlen - 1]))
	vlen--;
    for (i = 0; i < vlen; i++) {
	if ((unsigned char) v[i] < 0x20 || (unsigned char) v[i] == 0x7f) {
	    policy_report(scan, lineno, 1, "control character in value");
	    return;
	}
    }

    /* RFC 8461 §3.2: field names are case-sensitive ("Mode" is an extension field). */
    if (name_len == 7 && memcmp(line, "version", 7) == 0) {
	if (scan->seen_version++) {
	    policy_report(scan, lineno, 1, "version given more than once (required once, RFC 8461 section 3.2)");
	    return;
	}
	if (vlen != 5 || memcmp(v, "STSv1", 5) != 0)
	    policy_report(scan, lineno, 1, "version must be STSv1");
	return;
    }
    if (name_len == 4 && memcmp(line, "mode", 4) == 0) {
	if (scan->seen_mode++) {
	    policy_report(scan, lineno, 1, "mode given more than once (required once, RFC 8461 section 3.2)");
	    return;
	}
	if (vlen == 7 && memcmp(v, "enforce", 7) == 0)
	    p->mode = POLICY_MODE_ENFORCE;
	else if (vlen == 7 && memcmp(v, "testing", 7) == 0)
	    p->mode = POLICY_MODE_TESTING;
	else if (vlen == 4 && memcmp(v, "none", 4) == 0)
	    p->mode = POLICY_MODE_NONE;
	else
	    policy_report(scan, lineno, 1, "mode must be enforce, testing or none");
	return;
    }
    if (name_len == 7 && memcmp(line, "max_age", 7) == 0) {
	long    age = 0;

	if (scan->seen_max_age++) {
	    policy_report(scan, lineno, 1, "max_age given more than once (required once, RFC 8461 section 3.2)");
	    return;
	}
	/* RFC 8461 §3.2: max_age = 1*10(DIGIT) */
	if (vlen < 1 || vlen > 10) {
	    policy_report(scan, lineno, 1, "max_age must be 1 to 10 digits");
	    return;
	}
	for (i = 0; i < vlen; i++) {
	    if (!POLICY_IS_DIGIT(v[i])) {
		policy_report(scan, lineno, 1, "max_age must be 1 to 10 digits");
		return;
	    }
	    /* 10 digits fit in a long on every platform we build for (LP64). */
	    age = age * 10 + (v[i] - '0');
	}
	/* RFC 8461 §3.2: max_age is at most 31557600; clamp larger values. */
	if (age > POLICY_MAX_AGE_MAX) {
	    (void) snprintf(msg, sizeof(msg), "max_age %ld is over %ld and is treated as %ld",
			    age, POLICY_MAX_AGE_MAX, POLICY_MAX_AGE_MAX);
	    policy_report(scan, lineno, 0, msg);
	    age = POLICY_MAX_AGE_MAX;
	} else if (age < 86400) {
	    /* RFC 8461 §3.2: values of weeks or greater are recommended. */
	    policy_report(scan, lineno, 0, "max_age is under one day; RFC 8461 recommends weeks or more");
	}
	p->max_age = age;
	return;
    }
    if (name_len == 2 && memcmp(line, "mx", 2) == 0) {
	if (vlen > POLICY_HOST_MAX) {
	    policy_report(scan, lineno, 1, "mx pattern longer than 255 characters");
	    return;
	}
	memcpy(value, v, vlen);
	value[vlen] = 0;
	why.text[0] = 0;
	if (!policy_pattern_valid(value, &why)) {
	    policy_report(scan, lineno, 1, why.text);
	    return;
	}
	for (i = 0; i < (size_t) p->mx_count; i++) {
	    size_t  plen = strlen(p->mx[i]);
	    size_t  nlen = vlen - (vlen > 0 && value[vlen - 1] == '.');

	    if (plen == nlen && policy_eq(p->mx[i], value, nlen)) {
		(void) snprintf(msg, sizeof(msg), "duplicate mx pattern %s", p->mx[i]);
		policy_report(scan, lineno, 0, msg);
		return;
	    }
	}
	if (p->mx_count >= POLICY_MX_MAX) {
	    policy_report(scan, lineno, 1, "more than 256 mx patterns");
	    return;
	}
	if (policy_add_mx(p, value, vlen) != 0)
	    policy_report(scan, lineno, 1, "out of memory");
	return;
    }
    /* RFC 8461 §3.2: sts-policy-ext-name; unknown fields are ignored. */
    if (name_len < 1 || name_len > 32 || !(POLICY_IS_ALPHA(line[0]) || POLICY_IS_DIGIT(line[0]))) {
	policy_report(scan, lineno, 1, "bad field name");
	return;
    }
    for (i = 1; i < name_len; i++) {
	if (!POLICY_IS_ALPHA(line[i]) && !POLICY_IS_DIGIT(line[i])
	    && line[i] != '_' && line[i] != '-' && line[i] != '.') {
	    policy_report(scan, lineno, 1, "bad field name");
	    return;
	}
    }
    if (vlen == 0) {
	policy_report(scan, lineno, 1, "empty value");
	return;
    }
    (void) snprintf(msg, sizeof(msg), "unknown field \"%.*s\" ignored", (int) name_len, line);
    policy_report(scan, lineno, 0, msg);
}

int     policy_lint(const char *body, size_t len, POLICY **out,
		            void (*report) (void *, int, int, const char *), void *ctx)
{
    POLICY_SCAN scan;
    POLICY *p = 0;
    const char *line, *nl, *end = body + len;
    size_t  llen;
    int     lineno = 0;
    int     status = STATUS_INVAL;

    *out = 0;
    memset(&scan, 0, sizeof(scan));
    scan.report = report;
    scan.ctx = ctx;
    /* RFC 8461 §3.3: a body over 64 KiB makes the policy invalid; never truncated. */
    if (len > POLICY_BODY_MAX) {
	policy_report(&scan, 0, 1, "policy is larger than 64 KiB");
	goto done;
    }
    if (memchr(body, 0, len) != 0) {
	policy_report(&scan, 0, 1, "policy contains a NUL byte");
	goto done;
    }
    if ((p = calloc(1, sizeof(*p))) == 0) {
	policy_report(&scan, 0, 1, "out of memory");
	goto done;
    }
    p->mode = -1;
    for (line = body; line < end; line = nl + 1) {
	lineno++;
	if ((nl = memchr(line, '\n', (size_t) (end - line))) == 0)
	    nl = end;				/* [sts-policy-term]: optional at the end */
	llen = (size_t) (nl - line);
	/* RFC 8461 §3.2: sts-policy-term = LF / CRLF */
	if (llen > 0 && line[llen - 1] == '\r')
	    llen--;
	if (llen == 0) {
	    if (nl != end)
		policy_report(&scan, lineno, 0, "empty line (not in the RFC 8461 grammar; ignored)");
	    continue;
	}
	policy_line(&scan, p, lineno, line, llen);
    }
    if (!scan.seen_version)
	policy_report(&scan, 0, 1, "version field missing");
    if (scan.seen_mode == 0)
	policy_report(&scan, 0, 1, "mode field missing");
    if (!scan.seen_max_age)
	policy_report(&scan, 0, 1, "max_age field missing");
    /* RFC 8461 §3.2: mx is required at least once, except in mode none. */
    if ((p->mode == POLICY_MODE_ENFORCE || p->mode == POLICY_MODE_TESTING) && p->mx_count == 0)
	policy_report(&scan, 0, 1, "no mx pattern (required in enforce and testing mode)");
    if (scan.errors == 0) {
	*out = p;
	p = 0;
	status = STATUS_OK;
    }

done:
    policy_free(&p);
    return (status);
}

/* policy_parse() keeps the first error. */

typedef struct POLICY_FIRST {
    WHY    *why;
    int     have;
} POLICY_FIRST;

static void policy_first_error(void *ctx, int lineno, int is_error, const char *msg)
{
    POLICY_FIRST *first = (POLICY_FIRST *) ctx;

    if (!is_error || first->have)
	return;
    first->have = 1;
    if (lineno > 0)
	why_set(first->why, "line %d: %s", lineno, msg);
    else
	why_set(first->why, "%s", msg);
}

int     policy_parse(const char *body, size_t len, POLICY **out, WHY *why)
{
    POLICY_FIRST first;

    first.why = why;
    first.have = 0;
    return (policy_lint(body, len, out, policy_first_error, &first));
}
