/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	policy 3
 * SUMMARY
 *	MTA-STS policy parser and MX pattern matching (RFC 8461 sections
 *	3.2 and 4.1)
 * SYNOPSIS
 *	#include "policy.h"
 * DESCRIPTION
 *	See policy.h for the API. policy_parse() and policy_lint() share
 *	one scanner (policy_lint() with a reporter), so they can never
 *	disagree. The grammar, from RFC 8461 section 3.2:
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
 *	sts-policy-vchar     = %x21-7E / UTF8-2 / UTF8-3 / UTF8-4
 *	sts-policy-term      = LF / CRLF
 *
 *	Where the RFC is silent, or implementations differ, this parser
 *	follows the grammar and says so:
 *
 *	version, mode and max_age are "required once" (grammar comments):
 *	a repeated one makes the policy invalid, even with the same value.
 *	(Some implementations take the first, some the last; refusing is
 *	the only reading that cannot be wrong.)
 *
 *	Empty lines are not in the grammar (every term is followed by a
 *	field), so an empty line, also a trailing one ("...\n\n"), makes
 *	the policy invalid. So does leading white space on a line, a CR
 *	that is not followed by LF, and a name that is not an ext-name.
 *
 *	Extension fields are checked against the grammar (name, and a
 *	value of printable ASCII, SP and well-formed UTF-8 without
 *	leading or trailing space) and then ignored; policy_lint() warns.
 *
 *	max_age has 1 to 10 digits (more is invalid, a sign or blank is
 *	invalid); values over 31557600 are clamped (policy_lint() warns),
 *	computed without overflow on any long.
 *
 *	An mx pattern may end in one dot, which is not in the RFC 5321
 *	Domain syntax but is ignored in section 4.1 matching: it is
 *	accepted, stripped, and policy_lint() warns. Patterns are stored
 *	in lowercase. A repeated pattern (compared case-insensitively) is
 *	kept once; policy_lint() warns. There is no cap on the number of
 *	patterns below what a POLICY_BODY_MAX body can hold.
 *
 *	A NUL byte anywhere, or a body over POLICY_BODY_MAX octets, makes
 *	the policy invalid.
 *
 *	Out of memory is reported as an error (STATUS_INVAL), so that a
 *	policy is never half-parsed.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "policy.h"
#include "status.h"
#include "str.h"
#include "why.h"

/* RFC 5234 Appendix B.1 core rules; locale-independent. */
#define POLICY_IS_ALPHA(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define POLICY_IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define POLICY_IS_WSP(c)	((c) == ' ' || (c) == '\t')
#define POLICY_LOWER(c)		(((c) >= 'A' && (c) <= 'Z') ? (c) - 'A' + 'a' : (c))

 /* RFC 8461 §3.2: sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
#define POLICY_NAME_MAX		32
#define POLICY_NAME_FIRST(c)	(POLICY_IS_ALPHA(c) || POLICY_IS_DIGIT(c))
#define POLICY_NAME_CHAR(c)	(POLICY_IS_ALPHA(c) || POLICY_IS_DIGIT(c) \
				 || (c) == '_' || (c) == '-' || (c) == '.')

 /* RFC 1035 §2.3.4: 63-octet labels, 255-octet names (253 in text form). */
#define POLICY_LABEL_MAX	63
#define POLICY_NAME_TEXT_MAX	253

 /* RFC 8461 §3.2: "weeks or greater" is expected; warn under one day. */
#define POLICY_MAX_AGE_LOW	86400L

#define POLICY_MSG_MAX		300

/* The state of one scan. */

typedef struct POLICY_SCAN {
    void    (*report) (void *, int, int, const char *);
    void   *ctx;
    int     errors;
    int     seen_version;
    int     seen_mode;
    int     seen_max_age;
    HTABLE *mx_seen;			/* lowercased pattern -> index + 1 */
} POLICY_SCAN;

/* policy_report - count errors and pass a message on */

static void policy_report(POLICY_SCAN *scan, int lineno, int is_error, const char *msg)
{
    if (is_error)
	scan->errors++;
    if (scan->report)
	scan->report(scan->ctx, lineno, is_error, msg);
}

/* policy_mode_name - constant name of a mode */

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

/* policy_free - destroy a policy and clear the pointer */

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

/* policy_pattern_valid - is this an RFC 8461 mx pattern */

int     policy_pattern_valid(const char *pattern, WHY *why)
{
    const char *p;
    size_t  len;
    size_t  label = 0;
    int     result = STATUS_INVAL;

    if (pattern == 0) {
	why_set(why, "no mx pattern");
	goto out;
    }
    /* Bounded: anything longer than "*." plus a name plus a dot is too long. */
    len = strnlen(pattern, POLICY_HOST_MAX + 2);
    /* Not in RFC 5321 Domain, but RFC 8461 §4.1 matching ignores it: one trailing dot. */
    if (len > 0 && pattern[len - 1] == '.')
	len--;
    p = pattern;
    /* RFC 8461 §3.2: sts-policy-mx-value = ["*."] Domain */
    if (len >= 2 && p[0] == '*' && p[1] == '.') {
	p += 2;
	len -= 2;
    }
    if (len == 0) {
	why_set(why, "empty mx pattern");
	goto out;
    }
    if (len > POLICY_NAME_TEXT_MAX) {
	why_set(why, "mx pattern longer than %d characters", POLICY_NAME_TEXT_MAX);
	goto out;
    }

    /*
     * RFC 5321 §4.1.2: Domain = sub-domain *("." sub-domain), sub-domain =
     * Let-dig [Ldh-str], Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig.
     */
    for (; len > 0; p++, len--) {
	if (*p == '.') {
	    if (label == 0 || p[-1] == '-') {
		why_set(why, "bad mx pattern \"%.100s\": empty label or label ending in \"-\"", pattern);
		goto out;
	    }
	    label = 0;
	    continue;
	}
	if (!POLICY_IS_ALPHA(*p) && !POLICY_IS_DIGIT(*p) && !(*p == '-' && label > 0)) {
	    why_set(why, "bad mx pattern \"%.100s\": %s", pattern,
		    *p == '*' ? "a wildcard may only be the whole leftmost label" :
		    *p == '-' ? "label beginning with \"-\"" :
		    "only letters, digits, \"-\" and \".\" are allowed");
	    goto out;
	}
	if (++label > POLICY_LABEL_MAX) {
	    why_set(why, "bad mx pattern \"%.100s\": label longer than %d characters",
		    pattern, POLICY_LABEL_MAX);
	    goto out;
	}
    }
    if (label == 0 || p[-1] == '-') {
	why_set(why, "bad mx pattern \"%.100s\": empty label or label ending in \"-\"", pattern);
	goto out;
    }
    result = STATUS_OK;

out:
    return (result);
}

/* policy_eq - case-insensitive comparison of a[0..n) and b[0..n) */

static int policy_eq(const char *a, const char *b, size_t n)
{
    size_t  i;

    for (i = 0; i < n; i++)
	if (POLICY_LOWER((unsigned char) a[i]) != POLICY_LOWER((unsigned char) b[i]))
	    return (0);
    return (1);
}

/* policy_pattern_match - RFC 8461 section 4.1 */

int     policy_pattern_match(const char *pattern, const char *host)
{
    size_t  plen;
    size_t  hlen;
    size_t  prefix;

    if (pattern == 0 || host == 0)
	return (0);
    plen = strnlen(pattern, POLICY_HOST_MAX + 2);
    hlen = strnlen(host, POLICY_HOST_MAX + 2);
    if (plen > POLICY_HOST_MAX + 1 || hlen > POLICY_HOST_MAX + 1)
	return (0);

    /* RFC 8461 §4.1: names compare case-insensitively; a trailing dot is ignored (see above). */
    if (plen > 0 && pattern[plen - 1] == '.')
	plen--;
    if (hlen > 0 && host[hlen - 1] == '.')
	hlen--;
    if (plen == 0 || hlen == 0)
	return (0);

    /* RFC 8461 §4.1: a wildcard matches exactly one leftmost label. */
    if (plen > 2 && pattern[0] == '*' && pattern[1] == '.') {
	if (hlen <= plen - 1 || !policy_eq(host + hlen - (plen - 1), pattern + 1, plen - 1))
	    return (0);
	prefix = hlen - (plen - 1);
	return (memchr(host, '.', prefix) == 0);
    }
    return (plen == hlen && policy_eq(pattern, host, plen));
}

/* policy_match - does any mx pattern of the policy match host */

int     policy_match(const POLICY *policy, const char *host)
{
    int     i;

    if (policy == 0 || host == 0)
	return (0);
    for (i = 0; i < policy->mx_count; i++)
	if (policy_pattern_match(policy->mx[i], host))
	    return (1);
    return (0);
}

/* policy_utf8_len - length of one RFC 3629 §4 UTF8-2/3/4 sequence at s, or 0 */

static size_t policy_utf8_len(const unsigned char *s, size_t len)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80;
    unsigned char hi = 0xbf;
    size_t  need;
    size_t  i;

    /* RFC 3629 §4: no overlongs, no surrogates, nothing above U+10FFFF. */
    if (c >= 0xc2 && c <= 0xdf)
	need = 2;
    else if (c >= 0xe0 && c <= 0xef) {
	need = 3;
	if (c == 0xe0)
	    lo = 0xa0;
	else if (c == 0xed)
	    hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
	need = 4;
	if (c == 0xf0)
	    lo = 0x90;
	else if (c == 0xf4)
	    hi = 0x8f;
    } else
	return (0);
    if (len < need || s[1] < lo || s[1] > hi)
	return (0);
    for (i = 2; i < need; i++)
	if (s[i] < 0x80 || s[i] > 0xbf)
	    return (0);
    return (need);
}

/* policy_ext_value_ok - RFC 8461 §3.2 sts-policy-ext-value (already trimmed of WSP) */

static int policy_ext_value_ok(const char *value, size_t len)
{
    const unsigned char *v = (const unsigned char *) value;
    size_t  i = 0;
    size_t  n;

    /* sts-policy-vchar [*(%x20 / sts-policy-vchar) sts-policy-vchar]: no CTLs, no TAB inside. */
    if (len == 0 || v[0] == ' ' || v[len - 1] == ' ')
	return (0);
    while (i < len) {
	if (v[i] >= 0x20 && v[i] <= 0x7e) {
	    i++;
	} else if (v[i] >= 0x80 && (n = policy_utf8_len(v + i, len - i)) > 0) {
	    i += n;
	} else
	    return (0);
    }
    return (1);
}

/* policy_add_mx - add a validated pattern, lowercase, without its trailing dot */

static int policy_add_mx(POLICY *p, const char *value, size_t len)
{
    char  **nmx;
    char   *copy;
    size_t  i;

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

/* policy_max_age - RFC 8461 §3.2 max_age value */

static void policy_max_age(POLICY_SCAN *scan, POLICY *p, int lineno,
			           const char *v, size_t vlen)
{
    char    msg[POLICY_MSG_MAX];
    long    age = 0;
    int     clamped = 0;
    size_t  i;

    /* RFC 8461 §3.2: sts-policy-max-age-value = 1*10(DIGIT); no sign, no blanks. */
    if (vlen < 1 || vlen > 10) {
	policy_report(scan, lineno, 1, "max_age must be 1 to 10 digits");
	return;
    }
    for (i = 0; i < vlen; i++) {
	if (!POLICY_IS_DIGIT(v[i])) {
	    policy_report(scan, lineno, 1, "max_age must be 1 to 10 digits");
	    return;
	}
	/* Stop accumulating once over the cap: no overflow even with a 32-bit long. */
	if (!clamped) {
	    age = age * 10 + (v[i] - '0');
	    if (age > POLICY_MAX_AGE_MAX)
		clamped = 1;
	}
    }
    /* RFC 8461 §3.2: max_age is at most 31557600; larger values are clamped. */
    if (clamped) {
	(void) snprintf(msg, sizeof(msg), "max_age %.*s is over %ld and is treated as %ld",
			(int) vlen, v, POLICY_MAX_AGE_MAX, POLICY_MAX_AGE_MAX);
	policy_report(scan, lineno, 0, msg);
	age = POLICY_MAX_AGE_MAX;
    } else if (age < POLICY_MAX_AGE_LOW) {
	/* RFC 8461 §3.2: values of weeks or greater are expected. */
	policy_report(scan, lineno, 0, "max_age is under one day; RFC 8461 expects weeks or more");
    }
    p->max_age = age;
}

/*
 * Duplicate mx patterns, in linear time: a 64 KiB body holds thousands
 * of patterns. scan->mx_seen maps a pattern, lowercased, to its index
 * plus one; it is made with the first pattern.
 */

static void policy_mx_key(char *key, size_t size, const char *s, size_t len)
{
    size_t  i;

    for (i = 0; i < len && i + 1 < size; i++)
	key[i] = (char) POLICY_LOWER((unsigned char) s[i]);
    key[i] = 0;
}

/* policy_mx_insert - remember p->mx[idx] (on no memory, duplicates go unseen) */

static void policy_mx_insert(POLICY_SCAN *scan, const POLICY *p, int idx)
{
    char    key[POLICY_HOST_MAX + 2];

    if (scan->mx_seen == 0)
	return;
    policy_mx_key(key, sizeof(key), p->mx[idx], strlen(p->mx[idx]));
    (void) htable_enter(scan->mx_seen, key, (void *) (intptr_t) (idx + 1));
}

/* policy_mx_seen - index of an equal pattern, -1 if none, -2 out of memory */

static int policy_mx_seen(POLICY_SCAN *scan, const char *value, size_t len)
{
    char    key[POLICY_HOST_MAX + 2];
    void   *idx;

    if (scan->mx_seen == 0 && htable_create(64, &scan->mx_seen) != STATUS_OK)
	return (-2);
    policy_mx_key(key, sizeof(key), value, len);
    if ((idx = htable_find(scan->mx_seen, key)) == 0)
	return (-1);
    return ((int) (intptr_t) idx - 1);
}

/* policy_mx - RFC 8461 §3.2 mx value */

static void policy_mx(POLICY_SCAN *scan, POLICY *p, int lineno,
		              const char *v, size_t vlen)
{
    char    msg[POLICY_MSG_MAX];
    char    value[POLICY_HOST_MAX + 2];
    size_t  nlen;
    int     i;
    WHY     why;

    if (vlen > POLICY_HOST_MAX + 1) {
	policy_report(scan, lineno, 1, "mx pattern longer than 255 characters");
	return;
    }
    memcpy(value, v, vlen);
    value[vlen] = 0;
    why.text[0] = 0;
    if (policy_pattern_valid(value, &why) != STATUS_OK) {
	policy_report(scan, lineno, 1, why.text);
	return;
    }
    nlen = vlen;
    if (value[nlen - 1] == '.') {
	nlen--;
	policy_report(scan, lineno, 0, "mx pattern ends in \".\" (not in the RFC 5321 Domain syntax; ignored)");
    }
    if ((i = policy_mx_seen(scan, value, nlen)) >= 0) {
	(void) snprintf(msg, sizeof(msg), "duplicate mx pattern %s (kept once)", p->mx[i]);
	policy_report(scan, lineno, 0, msg);
	return;
    }
    if (i == -2) {
	policy_report(scan, lineno, 1, "out of memory");
	return;
    }
    if (p->mx_count >= POLICY_MX_MAX) {
	(void) snprintf(msg, sizeof(msg), "more than %d mx patterns", POLICY_MX_MAX);
	policy_report(scan, lineno, 1, msg);
	return;
    }
    if (policy_add_mx(p, value, nlen) != 0)
	policy_report(scan, lineno, 1, "out of memory");
    else
	policy_mx_insert(scan, p, p->mx_count - 1);
}

/* policy_line - one "name: value" line, without its terminator */

static void policy_line(POLICY_SCAN *scan, POLICY *p, int lineno, const char *line, size_t len)
{
    char    msg[POLICY_MSG_MAX];
    size_t  name_len;
    size_t  vlen;
    size_t  i;
    const char *v;

    /* RFC 8461 §3.2: sts-policy-ext-name, which also covers the four keywords. */
    if (len == 0 || !POLICY_NAME_FIRST(line[0])) {
	policy_report(scan, lineno, 1, len == 0 ? "empty line (not allowed by the RFC 8461 grammar)" :
		      POLICY_IS_WSP(line[0]) ? "line begins with white space" :
		      "line does not begin with a field name");
	return;
    }
    for (name_len = 1; name_len < len && POLICY_NAME_CHAR(line[name_len]); name_len++)
	 /* void */ ;
    if (name_len >= len || line[name_len] != ':') {
	policy_report(scan, lineno, 1, "line is not \"name: value\"");
	return;
    }
    if (name_len > POLICY_NAME_MAX) {
	(void) snprintf(msg, sizeof(msg), "field name longer than %d characters", POLICY_NAME_MAX);
	policy_report(scan, lineno, 1, msg);
	return;
    }
    /* RFC 8461 §3.2: field-delim = ":" *WSP; the field is followed by *WSP. */
    v = line + name_len + 1;
    vlen = len - name_len - 1;
    while (vlen > 0 && POLICY_IS_WSP(*v))
	v++, vlen--;
    while (vlen > 0 && POLICY_IS_WSP(v[vlen - 1]))
	vlen--;
    for (i = 0; i < vlen; i++) {
	if ((unsigned char) v[i] < 0x20 && v[i] != '\t') {
	    policy_report(scan, lineno, 1, v[i] == '\r' ? "CR not followed by LF" :
			  "control character in value");
	    return;
	}
    }

    /* RFC 8461 §3.2: field names are case-sensitive ("Mode" is an extension field). */
    if (name_len == 7 && memcmp(line, "version", 7) == 0) {
	/* RFC 8461 §3.2: version is required once; a repeat is invalid (see above). */
	if (scan->seen_version++) {
	    policy_report(scan, lineno, 1, "version given more than once");
	    return;
	}
	/* RFC 8461 §3.2: sts-policy-version-value = %s"STSv1" */
	if (vlen != 5 || memcmp(v, "STSv1", 5) != 0)
	    policy_report(scan, lineno, 1, "version must be STSv1");
	return;
    }
    if (name_len == 4 && memcmp(line, "mode", 4) == 0) {
	/* RFC 8461 §3.2: mode is required once; a repeat is invalid (see above). */
	if (scan->seen_mode++) {
	    policy_report(scan, lineno, 1, "mode given more than once");
	    return;
	}
	/* RFC 8461 §3.2: %s"testing" / %s"enforce" / %s"none" */
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
	/* RFC 8461 §3.2: max_age is required once; a repeat is invalid (see above). */
	if (scan->seen_max_age++) {
	    policy_report(scan, lineno, 1, "max_age given more than once");
	    return;
	}
	policy_max_age(scan, p, lineno, v, vlen);
	return;
    }
    if (name_len == 2 && memcmp(line, "mx", 2) == 0) {
	/* RFC 8461 §3.2: mx may be given more than once. */
	policy_mx(scan, p, lineno, v, vlen);
	return;
    }
    /* RFC 8461 §3.2: other fields are extensions; checked, then ignored. */
    if (!policy_ext_value_ok(v, vlen)) {
	policy_report(scan, lineno, 1, vlen == 0 ? "empty value" :
		      "bad character in value (tab, control or malformed UTF-8)");
	return;
    }
    (void) snprintf(msg, sizeof(msg), "unknown field \"%.*s\" ignored", (int) name_len, line);
    policy_report(scan, lineno, 0, msg);
}

/* policy_lint - parse, reporting every problem */

int     policy_lint(const char *body, size_t len, POLICY **out,
		            void (*report) (void *, int, int, const char *), void *ctx)
{
    POLICY_SCAN scan;
    POLICY *p = 0;
    const char *nl;
    size_t  pos;
    size_t  llen;
    size_t  next;
    int     lineno = 0;
    int     result = STATUS_INVAL;

    if (out)
	*out = 0;
    memset(&scan, 0, sizeof(scan));
    scan.report = report;
    scan.ctx = ctx;
    if (body == 0 && len > 0) {
	policy_report(&scan, 0, 1, "no policy body");
	goto out;
    }
    /* RFC 8461 §3.3: a body over 64 KiB is invalid; never truncated. */
    if (len > POLICY_BODY_MAX) {
	policy_report(&scan, 0, 1, "policy is larger than 64 KiB");
	goto out;
    }
    if (len == 0) {
	policy_report(&scan, 0, 1, "empty policy");
	goto out;
    }
    if ((p = calloc(1, sizeof(*p))) == 0) {
	policy_report(&scan, 0, 1, "out of memory");
	goto out;
    }
    p->mode = -1;

    /* Lines, by offset: never form a pointer past body + len. */
    for (pos = 0; pos < len; pos = next) {
	lineno++;
	if ((nl = memchr(body + pos, '\n', len - pos)) != 0) {
	    llen = (size_t) (nl - (body + pos));
	    next = pos + llen + 1;
	    /* RFC 8461 §3.2: sts-policy-term = LF / CRLF */
	    if (llen > 0 && body[pos + llen - 1] == '\r')
		llen--;
	} else {
	    /* RFC 8461 §3.2: [sts-policy-term]: the last one is optional. */
	    llen = len - pos;
	    next = len;
	}
	if (memchr(body + pos, 0, llen) != 0) {
	    policy_report(&scan, lineno, 1, "NUL byte in line");
	    continue;
	}
	policy_line(&scan, p, lineno, body + pos, llen);
    }

    /* RFC 8461 §3.2: version, mode and max_age are required. */
    if (!scan.seen_version)
	policy_report(&scan, 0, 1, "version field missing");
    if (!scan.seen_mode)
	policy_report(&scan, 0, 1, "mode field missing");
    if (!scan.seen_max_age)
	policy_report(&scan, 0, 1, "max_age field missing");
    /* RFC 8461 §3.2: mx is required at least once, except when mode is "none". */
    if ((p->mode == POLICY_MODE_ENFORCE || p->mode == POLICY_MODE_TESTING) && p->mx_count == 0)
	policy_report(&scan, 0, 1, "no mx pattern (required in enforce and testing mode)");
    if (scan.errors == 0) {
	if (out) {
	    *out = p;
	    p = 0;
	}
	result = STATUS_OK;
    }

out:
    htable_free(&scan.mx_seen, 0);
    policy_free(&p);
    return (result);
}

/* policy_parse() keeps the first error. */

typedef struct POLICY_FIRST {
    WHY    *why;
    int     have;
} POLICY_FIRST;

/* policy_first_error - reporter that keeps the first error */

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

/* policy_parse - parse, keeping the first error */

int     policy_parse(const char *body, size_t len, POLICY **out, WHY *why)
{
    POLICY_FIRST first;

    first.why = why;
    first.have = 0;
    return (policy_lint(body, len, out, policy_first_error, &first));
}

/*
 * policy_lenient() - what strict and lenient parsers make of a policy.
 * The strict reading is policy_lint(); the lenient one rewrites the body
 * as such parsers read it and parses the result strictly.
 */

#define POLICY_BOM		"\xef\xbb\xbf"	/* UTF-8 byte-order mark */
#define POLICY_BOM_LEN		3

typedef struct POLICY_FIRST_LINE {
    int     have;
    int     lineno;
    char    msg[POLICY_MSG_MAX];
} POLICY_FIRST_LINE;

/* policy_first_line - reporter that keeps the first error and its line */

static void policy_first_line(void *ctx, int lineno, int is_error, const char *msg)
{
    POLICY_FIRST_LINE *first = (POLICY_FIRST_LINE *) ctx;

    if (!is_error || first->have)
	return;
    first->have = 1;
    first->lineno = lineno;
    (void) str_copy(first->msg, sizeof(first->msg), msg);
}

/* policy_escape_line - line lineno (LF-separated, 1-based) of body, escaped */

static void policy_escape_line(const char *body, size_t len, int lineno, char *out, size_t size)
{
    const unsigned char *p = (const unsigned char *) body;
    size_t  pos = 0;
    size_t  used = 0;
    char    esc[8];
    int     n = 1;

    out[0] = 0;
    while (n < lineno && pos < len) {
	if (p[pos++] == '\n')
	    n++;
    }
    for (; pos < len && p[pos] != '\n'; pos++) {
	if (p[pos] == '\r' && pos + 1 < len && p[pos + 1] == '\n')
	    break;				/* CRLF: the terminator */
	if (p[pos] == '\r')
	    (void) str_copy(esc, sizeof(esc), "\\r");
	else if (p[pos] == '\t')
	    (void) str_copy(esc, sizeof(esc), "\\t");
	else if (p[pos] == '\\')
	    (void) str_copy(esc, sizeof(esc), "\\\\");
	else if (p[pos] < 0x20 || p[pos] > 0x7e)
	    (void) snprintf(esc, sizeof(esc), "\\x%02X", p[pos]);
	else {
	    esc[0] = (char) p[pos];
	    esc[1] = 0;
	}
	if (used + strlen(esc) + 4 > size) {
	    (void) str_append(out, size, "...");
	    return;
	}
	(void) str_append(out, size, esc);
	used += strlen(esc);
    }
}

/* policy_field_of - "version", "mode" or "max_age" when line is that field, else null */

static const char *policy_field_of(const char *line, size_t len)
{
    static const char *once[] = {"version", "mode", "max_age"};
    size_t  n;
    int     i;

    for (i = 0; i < 3; i++) {
	n = strlen(once[i]);
	if (len > n && memcmp(line, once[i], n) == 0 && line[n] == ':')
	    return (once[i]);
    }
    return (0);
}

/* policy_value_of - the value of a "name: value" line, trimmed */

static void policy_value_of(const char *line, size_t len, const char **v, size_t *vlen)
{
    const char *colon = memchr(line, ':', len);

    *v = colon ? colon + 1 : line + len;
    *vlen = (size_t) (line + len - *v);
    while (*vlen > 0 && POLICY_IS_WSP(**v))
	(*v)++, (*vlen)--;
    while (*vlen > 0 && POLICY_IS_WSP((*v)[*vlen - 1]))
	(*vlen)--;
}

/*
 * policy_lenient_body - the body as a lenient parser reads it: no BOM,
 * lines at LF, CRLF or lone CR, blank lines skipped, the first of each
 * repeated version/mode/max_age kept. Returns a new buffer, or null.
 */
static char *policy_lenient_body(const char *body, size_t len, size_t *outlen, int *ambiguous)
{
    const char *kept_v[3] = {0, 0, 0};
    size_t  kept_n[3] = {0, 0, 0};
    const char *field, *v;
    size_t  vlen;
    size_t  pos = 0, end, llen, i;
    size_t  used = 0;
    char   *out;
    int     k;

    if ((out = malloc(len + 2)) == 0)
	return (0);
    if (len >= POLICY_BOM_LEN && memcmp(body, POLICY_BOM, POLICY_BOM_LEN) == 0)
	pos = POLICY_BOM_LEN;
    while (pos < len) {
	for (end = pos; end < len && body[end] != '\n' && body[end] != '\r'; end++)
	     /* void */ ;
	llen = end - pos;
	for (i = 0; i < llen && POLICY_IS_WSP(body[pos + i]); i++)
	     /* void */ ;
	if (i < llen) {				/* not a blank line */
	    if ((field = policy_field_of(body + pos, llen)) != 0) {
		k = field[0] == 'v' ? 0 : field[1] == 'o' ? 1 : 2;
		policy_value_of(body + pos, llen, &v, &vlen);
		if (kept_v[k] != 0) {
		    if (vlen != kept_n[k] || memcmp(v, kept_v[k], vlen) != 0)
			*ambiguous = 1;
		    goto next;
		}
		kept_v[k] = v;
		kept_n[k] = vlen;
	    }
	    memcpy(out + used, body + pos, llen);
	    used += llen;
	    out[used++] = '\n';
	}
next:
	/* A line ends at LF, CRLF or a lone CR. */
	if (end < len && body[end] == '\r' && end + 1 < len && body[end + 1] == '\n')
	    end++;
	pos = end + 1;
    }
    *outlen = used;
    return (out);
}

/* policy_lenient - strict and lenient readings of a policy */

int     policy_lenient(const char *body, size_t len, POLICY_LENIENT *out)
{
    POLICY_FIRST_LINE first;
    POLICY *lenient = 0;
    char   *copy = 0;
    size_t  clen = 0;
    int     result;

    memset(out, 0, sizeof(*out));
    memset(&first, 0, sizeof(first));
    if ((result = policy_lint(body, len, &lenient, policy_first_line, &first)) == STATUS_OK) {
	out->lenient_ok = 1;
	out->lenient_mode = lenient->mode;
	goto done;
    }
    out->line = first.lineno;
    if (len >= POLICY_BOM_LEN && memcmp(body, POLICY_BOM, POLICY_BOM_LEN) == 0) {
	out->line = 1;
	(void) str_copy(out->problem, sizeof(out->problem),
			"the policy begins with a UTF-8 byte-order mark (EF BB BF)");
    } else {
	(void) str_copy(out->problem, sizeof(out->problem), first.msg);
    }
    if (out->line > 0)
	policy_escape_line(body, len, out->line, out->line_text, sizeof(out->line_text));
    /* Size and NUL checks are the same for every reader. */
    if (body == 0 || len == 0 || len > POLICY_BODY_MAX || memchr(body, 0, len) != 0)
	goto done;
    if ((copy = policy_lenient_body(body, len, &clen, &out->ambiguous)) == 0)
	goto done;
    if (policy_parse(copy, clen, &lenient, 0) == STATUS_OK) {
	out->lenient_ok = 1;
	out->lenient_mode = lenient->mode;
    }

done:
    policy_free(&lenient);
    free(copy);
    return (result);
}
