/* SPDX-License-Identifier: ISC */
#ifndef SENDER_H_INCLUDED
#define SENDER_H_INCLUDED

/*
 * NAME
 *	sender 3h
 * SUMMARY
 *	named sender behaviours: what a given sending MTA concludes from
 *	the evidence of one route check
 * SYNOPSIS
 *	#include "sender.h"
 *
 *	int	sender_view(int behaviour, const VERDICT *v, SENDER_VIEW *out)
 *
 *	int	sender_reason(const VERDICT *v)
 *
 *	const char *sender_name(int behaviour)
 *	int	sender_code(const char *name)
 * DESCRIPTION
 *	The engine (route.c) decides as RFC 8461 says; that is the
 *	behaviour "rfc", and the one the milter, the OpenSMTPD filter and
 *	the socketmap use. Big senders do not all follow the RFC, and a
 *	postmaster needs to know what they will do. This module replays
 *	the evidence a route check gathered (MX hosts, their CNAME
 *	targets, the certificate names each presented, the policy's mx
 *	patterns) under another sender's rules, without any network
 *	access:
 *
 *	rfc	RFC 8461 section 4.1: the MX host name, as the MX record
 *		gives it, is matched against the policy and against the
 *		certificate (section 4.2); a CNAME target plays no part.
 *		The view is the verdict itself.
 *
 *	outlook	Outlook.com (Exchange Online), as seen in seed 001: when an
 *		MX host name is an alias, it follows the CNAME and requires
 *		the policy to list, and the certificate to name, the
 *		target. RFC 2181 section 10.3 forbids an MX that points
 *		to an alias, which is Microsoft's justification. DANE hosts
 *		(RFC 7672) and hosts that are not aliases are judged as by
 *		rfc.
 *
 *	sender_view() fills out: the verdict (VERDICT_*) and deciding
 *	reason (REASON_*) this sender reaches, one SENDER_HOST per MX host
 *	(the name it checks, whether that name is listed, whether the host
 *	passes, and whether the evidence tells at all: a host that was
 *	not probed, or whose certificate has more names than the verdict
 *	keeps, is "unknown"), whether the view differs from rfc, a
 *	one-line explanation, and a one-line fix for the domain's owner
 *	(empty when there is nothing to fix). Returns STATUS_OK, or
 *	STATUS_INVAL for an unknown behaviour.
 *
 *	sender_reason() returns the reason that decides v's verdict: the
 *	domain-level reason when there is one; for a failure (testing-fail,
 *	enforce-fail, temporary) without one, the reason of the host that
 *	explains it (a listed one first, as verdict_explain() picks), so
 *	that a failure never has the reason "none"; REASON_NONE otherwise.
 *
 *	sender_name() returns "rfc" or "outlook" ("unknown" otherwise);
 *	sender_code() the SENDER_* code of a name, or -1.
 *
 *	Pure functions; out belongs to the caller, nothing is allocated.
 *	Every string in out is sanitized (the VERDICT's strings are).
 */

#include "verdict.h"

#define SENDER_RFC	0
#define SENDER_OUTLOOK	1
#define SENDER_COUNT	2

typedef struct SENDER_HOST {
    char    name[256];			/* the name this sender checks */
    int     alias;			/* name is the MX host's CNAME target */
    int     listed;			/* name matches the policy */
    int     cert_ok;			/* the certificate names it */
    int     passed;
    int     reason;			/* REASON_*, REASON_NONE if passed */
    int     known;			/* 0: the evidence does not tell */
} SENDER_HOST;

typedef struct SENDER_VIEW {
    int     behaviour;			/* SENDER_* */
    int     verdict;			/* VERDICT_* */
    int     reason;			/* REASON_* that decides it */
    int     differs;			/* verdict or a host differs from rfc */
    int     host_count;
    SENDER_HOST host[VERDICT_HOSTS_MAX];
    char    explanation[VERDICT_TEXT_MAX];
    char    fix[VERDICT_TEXT_MAX];
} SENDER_VIEW;

extern int sender_view(int, const VERDICT *, SENDER_VIEW *);
extern int sender_reason(const VERDICT *);
extern const char *sender_name(int);
extern int sender_code(const char *);

#endif
