/* SPDX-License-Identifier: ISC */
#ifndef POLICY_H_INCLUDED
#define POLICY_H_INCLUDED

/*
 * NAME
 *	policy 3h
 * SUMMARY
 *	MTA-STS policy parser and MX pattern matching (RFC 8461 sections
 *	3.2 and 4.1)
 * SYNOPSIS
 *	#include "policy.h"
 *
 *	int	policy_parse(const char *body, size_t len, POLICY **out,
 *			WHY *why)
 *
 *	int	policy_lint(const char *body, size_t len, POLICY **out,
 *			void (*report)(void *ctx, int lineno, int is_error,
 *				const char *msg), void *ctx)
 *
 *	int	policy_lenient(const char *body, size_t len,
 *			POLICY_LENIENT *out)
 *
 *	void	policy_free(POLICY **policy)
 *
 *	int	policy_pattern_valid(const char *pattern, WHY *why)
 *
 *	int	policy_pattern_match(const char *pattern, const char *host)
 *
 *	int	policy_match(const POLICY *policy, const char *host)
 *
 *	const char *policy_mode_name(int mode)
 * DESCRIPTION
 *	Pure functions: no I/O; safe to fuzz.
 *
 *	policy_parse() parses a policy body (RFC 8461 section 3.2): LF or
 *	CRLF line endings, case-sensitive keywords, unknown fields
 *	ignored, "version: STSv1" required, "mode" one of enforce,
 *	testing, none, "max_age" 0..31557600 (larger values are clamped
 *	to 31557600 with no overflow), "mx" patterns validated; enforce
 *	and testing need at least one mx. Bodies longer than
 *	POLICY_BODY_MAX are invalid (never truncated). On STATUS_OK *out
 *	is a new POLICY the caller frees with policy_free(); otherwise
 *	STATUS_INVAL with the first error in why, and *out is null.
 *
 *	policy_lint() is policy_parse() that reports every error and
 *	warning (with its 1-based line number, 0 for whole-body problems)
 *	through report() instead of stopping at the first. It returns the
 *	same status and result.
 *
 *	policy_lenient() is a diagnosis of a policy that policy_parse()
 *	refuses: the first line a strict parser refuses (out->line, 1-based;
 *	0 for a whole-body problem such as a missing field), that line as
 *	published (out->line_text, escaped: \r, \t, \xHH for other bytes
 *	outside printable ASCII, cut with "..."), why (out->problem), and
 *	whether a lenient parser takes the policy (out->lenient_ok, with
 *	the mode it then applies in out->lenient_mode). The lenient reading
 *	is what postfix-mta-sts-resolver and parsers like it do: a UTF-8
 *	byte-order mark at the start is dropped, a lone CR ends a line as
 *	LF and CRLF do, empty and blank lines are skipped, and of a
 *	repeated version, mode or max_age one is used (the first here;
 *	out->ambiguous says that the copies differ, so lenient parsers may
 *	disagree). Strict parsers (this one; RFC 8461 section 3.2 has no
 *	empty lines, no lone CR, no byte-order mark and each of these
 *	fields once) ignore such a policy: the sender treats the domain as
 *	having none. Returns STATUS_INVAL with out filled, or STATUS_OK
 *	(out cleared, lenient_ok set) when policy_parse() accepts body.
 *
 *	policy_free() frees a POLICY and sets the pointer to null.
 *
 *	policy_pattern_valid() returns STATUS_OK when pattern is an RFC
 *	8461 section 3.2 mx value, ["*."] Domain (labels of 1-63 LDH
 *	octets, at most 253 after the "*."; upper case and one trailing
 *	dot are accepted), else STATUS_INVAL with a reason.
 *
 *	policy_parse() and policy_lint() accept a null out (check only);
 *	policy_lint() accepts a null report.
 *
 *	policy_pattern_match() implements section 4.1: case-insensitive,
 *	trailing dot ignored on both sides, and a leading "*." matches
 *	exactly one leftmost label. policy_match() is true when any of the
 *	policy's mx patterns matches host.
 */

#include <stddef.h>
#include <time.h>

#include "why.h"

#define POLICY_BODY_MAX		65536	/* RFC 8461 section 3.3: 64 KiB */
#define POLICY_MAX_AGE_MAX	31557600L	/* RFC 8461 section 3.2 */
/* Every pattern a 64 KiB body can hold ("mx:a\n" is 5 octets): no lower cap. */
#define POLICY_MX_MAX		(POLICY_BODY_MAX / 5)
#define POLICY_HOST_MAX		255	/* RFC 1035 name length */

#define POLICY_MODE_NONE	0
#define POLICY_MODE_TESTING	1
#define POLICY_MODE_ENFORCE	2

typedef struct POLICY {
    int     mode;			/* POLICY_MODE_* */
    long    max_age;			/* seconds, clamped */
    int     mx_count;
    char  **mx;				/* lowercase patterns, no trailing dot */
} POLICY;

typedef struct POLICY_LENIENT {
    int     line;			/* first line refused; 0: whole body */
    char    line_text[128];		/* that line, escaped */
    char    problem[256];		/* why a strict parser refuses it */
    int     lenient_ok;			/* a lenient parser accepts it */
    int     lenient_mode;		/* POLICY_MODE_* it then applies */
    int     ambiguous;			/* a repeated field's copies differ */
} POLICY_LENIENT;

extern int policy_parse(const char *, size_t, POLICY **, WHY *);
extern int policy_lenient(const char *, size_t, POLICY_LENIENT *);
extern int policy_lint(const char *, size_t, POLICY **,
		          void (*) (void *, int, int, const char *), void *);
extern void policy_free(POLICY **);
extern int policy_pattern_valid(const char *, WHY *);
extern int policy_pattern_match(const char *, const char *);
extern int policy_match(const POLICY *, const char *);
extern const char *policy_mode_name(int);

#endif
