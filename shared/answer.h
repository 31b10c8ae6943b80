/* SPDX-License-Identifier: ISC */
#ifndef ANSWER_H_INCLUDED
#define ANSWER_H_INCLUDED

/*
 * NAME
 *	answer 3h
 * SUMMARY
 *	the compact answer about one recipient domain: what a front end
 *	needs at RCPT TO, and what the engine keeps for a warm decision
 * SYNOPSIS
 *	#include "answer.h"
 *
 *	void	answer_from_verdict(const VERDICT *v, ANSWER *a)
 *	void	answer_internal(ANSWER *a, const char *domain)
 *
 *	int	answer_reasons(const VERDICT *v, char *buf, size_t size)
 * DESCRIPTION
 *	A VERDICT is the engine's whole evidence (about 61 KB, with every
 *	host's certificate names); `stsfilter check` shows it. Front ends
 *	need only a few lines of it: the verdict class, the reason labels
 *	for the log and the tag header, the explanation and the TLS-RPT
 *	address for the reply. An ANSWER holds exactly that, in fixed
 *	fields without pointers, so that the engine can keep it per
 *	domain (route_answer(), route.h) and copy it to a front end with
 *	no allocation and no parsing. The socketmap reply, which may be
 *	up to SOCKETMAP_REPLY_MAX bytes, is kept beside it by the engine
 *	(route_answer()), not in it.
 *
 *	answer_from_verdict() fills a from v: every string is already
 *	sanitized in v (verdict.h), and is copied cut to its field.
 *	a->tlsrpt_uri is the first rua URI of v->tlsrpt as tlsrpt.c
 *	reads it (RFC 8460 section 3), empty when there is none or when
 *	it is over ANSWER_TLSRPT_URI_MAX bytes (too long for a reply).
 *	a->until is v->answer_until; a->built is clock_now().
 *
 *	answer_internal() fills a for a filter failure: verdict
 *	ACTION_INTERNAL_ERROR (action.h), no reason.
 *
 *	answer_reasons() writes the distinct reason labels of a verdict
 *	(domain-level first, then each failed host's), comma-separated,
 *	or "-" when there is none. Returns 0, or -1 when truncated. v may
 *	be null ("-").
 *
 *	Pure and thread-safe; nothing is allocated.
 */

#include <stddef.h>
#include <time.h>

#include "domain.h"
#include "verdict.h"

#define ANSWER_REASONS_MAX	256
#define ANSWER_TLSRPT_URI_MAX	200
#define ANSWER_BASIS_MAX	96

typedef struct ANSWER {
    int     verdict;			/* VERDICT_* or ACTION_INTERNAL_ERROR */
    int     reason;			/* domain-level REASON_* */
    int     policy_mx_count;		/* mx patterns of the policy in force */
    int     dane;			/* TLSA records decided a host (RFC 7672) */
    time_t  built;			/* clock_now() when made */
    time_t  until;			/* reusable until; <= built: not at all */
    int     kept;			/* served from the kept answer (route_answer()) */
    int     stale;			/* kept, and served past until (route_answer()) */
    char    domain[DOMAIN_MAX + 1];
    char    reasons[ANSWER_REASONS_MAX];	/* answer_reasons() */
    char    explanation[VERDICT_TEXT_MAX];
    char    tlsrpt_uri[ANSWER_TLSRPT_URI_MAX + 1];
    /* Socketmap (route_answer() with ROUTE_SOCKETMAP) */
    int     socketmap_status;		/* SOCKETMAP_* */
    int     socketmap_flags;		/* SOCKETMAP_TRUNCATED */
    char    socketmap_basis[ANSWER_BASIS_MAX];
    size_t  socketmap_len;		/* reply length */
} ANSWER;

extern void answer_from_verdict(const VERDICT *, ANSWER *);
extern void answer_internal(ANSWER *, const char *);
extern int answer_reasons(const VERDICT *, char *, size_t);

#endif
