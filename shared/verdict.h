/* SPDX-License-Identifier: ISC */
#ifndef VERDICT_H_INCLUDED
#define VERDICT_H_INCLUDED

/*
 * NAME
 *	verdict 3h
 * SUMMARY
 *	the engine's answer about one recipient domain: verdict, reasons,
 *	evidence and a one-line explanation
 * SYNOPSIS
 *	#include "verdict.h"
 *
 *	VERDICT *verdict_create(const char *domain)
 *	VERDICT *verdict_copy(const VERDICT *v)
 *	void	verdict_free(VERDICT **v)
 *
 *	int	verdict_set_policy_mx(VERDICT *v, char *const *mx, int count)
 *
 *	VERDICT_HOST *verdict_add_host(VERDICT *v, const char *name, int pref)
 *	void	verdict_warn(VERDICT *v, const char *fmt, ...)
 *	void	verdict_no_policy(VERDICT *v, int reason, int transient)
 *	void	verdict_explain(VERDICT *v)
 *
 *	const char *verdict_name(int verdict)
 *	const char *verdict_reason_name(int reason)
 *	int	verdict_reason_code(const char *name)
 * DESCRIPTION
 *	The verdict is data: the front ends (milter, OpenSMTPD filter,
 *	socketmap, CLI) never decide anything themselves; they map
 *	v->verdict to an action (action.c) and show v->explanation.
 *
 *	Verdicts (one per domain):
 *	no-policy	no usable MTA-STS policy and no usable DANE TLSA
 *			records: none published, or one announced that
 *			cannot be used (v->reason says why; RFC 8461
 *			section 3.3: senders deliver as though the domain
 *			had no MTA-STS);
 *	none		an MTA-STS policy in mode none;
 *	ok		at least one valid TLS route exists;
 *	testing-fail	no valid route, policy in testing mode;
 *	enforce-fail	no valid route, policy in enforce mode or DANE;
 *	temporary	undecided for now, may change within minutes: a
 *			DNS timeout or SERVFAIL, DNSSEC bogus, the time
 *			budget ran out, or a probe failed for a transient
 *			reason;
 *	null-mx		the domain accepts no mail (RFC 7505).
 *
 *	Reasons (per MX host, and for the policy as a whole) are named
 *	after the RFC 8460 section 4.3 result types, plus "mx-not-listed"
 *	(an MX host that the policy does not list, RFC 8461 section 4.1;
 *	RFC 8460 reports it as validation-failure, which
 *	verdict_reason_name() returns for it) and reachability codes.
 *
 *	Every string in a VERDICT is sanitized (text.h) before it is stored,
 *	so front ends may put them in replies, headers and logs as they are
 *	(after text_escape_percent() for smfi_setreply()).
 *
 *	verdict_no_policy() decides for a domain without a policy in force
 *	and without DANE: reason is REASON_NONE (nothing published),
 *	an MTA-STS fetch result (REASON_STS_*: announced but unusable) or
 *	a DNS reason (REASON_DNS_ERROR, REASON_DNSSEC_INVALID); transient
 *	says the failure may be gone within minutes. It sets v->verdict
 *	and v->reason, and adds a warning for an unusable policy. This is
 *	the one place of the RFC 8461 section 3.3 rule.
 *
 *	verdict_explain() fills v->explanation with one line a sender can
 *	act on, from the verdict and the first reason that explains it.
 *
 *	verdict_set_policy_mx() stores every mx pattern of the policy in
 *	force (sanitized copies, in policy order; RFC 8461 section 3.2
 *	puts no limit on their number, so neither does the verdict) in
 *	v->policy_mx, v->policy_mx_count entries; -1 when out of memory
 *	(then none are kept).
 *
 *	Lifetimes (route.c, route_answer()): h->valid_until is when
 *	the earliest input of a host's result expires (its TLSA RRset
 *	TTL, its cached probe result), 0 when nothing of the host limits
 *	it; v->answer_until is when the earliest input of the whole
 *	verdict expires, 0 when the verdict must not be reused (a
 *	temporary verdict).
 *
 *	Memory: verdict_create() allocates; verdict_copy() makes a deep
 *	copy; verdict_free() frees the verdict with its hosts and mx
 *	patterns and sets the pointer to null.
 */

#include <time.h>

#define VERDICT_NO_POLICY	0
#define VERDICT_NONE		1
#define VERDICT_OK		2
#define VERDICT_TESTING_FAIL	3
#define VERDICT_ENFORCE_FAIL	4
#define VERDICT_TEMPORARY	5
#define VERDICT_NULL_MX		6
#define VERDICT_COUNT		7

/* Reason codes; names in verdict.c. */
#define REASON_NONE			0
#define REASON_STS_FETCH_ERROR		1	/* sts-policy-fetch-error */
#define REASON_STS_POLICY_INVALID	2	/* sts-policy-invalid */
#define REASON_STS_WEBPKI_INVALID	3	/* sts-webpki-invalid */
#define REASON_STARTTLS_NOT_SUPPORTED	4	/* starttls-not-supported */
#define REASON_CERT_HOST_MISMATCH	5	/* certificate-host-mismatch */
#define REASON_CERT_EXPIRED		6	/* certificate-expired */
#define REASON_CERT_NOT_TRUSTED		7	/* certificate-not-trusted */
#define REASON_VALIDATION_FAILURE	8	/* validation-failure */
#define REASON_TLSA_INVALID		9	/* tlsa-invalid */
#define REASON_DNSSEC_INVALID		10	/* dnssec-invalid */
#define REASON_DANE_REQUIRED		11	/* dane-required */
#define REASON_MX_NOT_LISTED		12	/* validation-failure (RFC 8461 4.1) */
#define REASON_UNREACHABLE		13	/* no connection */
#define REASON_TIMEOUT			14	/* no answer in time */
#define REASON_DNS_ERROR		15	/* temporary DNS failure */
#define REASON_PROTOCOL			16	/* bad SMTP dialogue */
#define REASON_NOT_PROBED		17	/* budget ran out first */
#define REASON_COUNT			18

#define VERDICT_TEXT_MAX	512
#define VERDICT_HOSTS_MAX	16
#define VERDICT_WARN_MAX	16
#define VERDICT_TXT_SHOWN	4

typedef struct VERDICT_HOST {
    char    name[256];			/* MX host name */
    int     pref;
    int     listed;			/* matches the MTA-STS policy */
    char    cname[256];			/* CNAME target, if an alias */
    int     dane;			/* TLSA records decided this host */
    int     passed;
    int     reason;			/* REASON_*, REASON_NONE if passed */
    char    detail[256];		/* sanitized */
    char    address[64];
    char    tls_version[16];
    int     cert_name_count;
    char    cert_names[8][256];
    char    cert_issuer[256];
    time_t  cert_not_after;
    long    probe_ms;
    time_t  valid_until;		/* this result's inputs expire; 0: no limit */
} VERDICT_HOST;

typedef struct VERDICT {
    char    domain[256];
    int     verdict;			/* VERDICT_* */
    int     reason;			/* domain-level reason, REASON_* */
    char    detail[VERDICT_TEXT_MAX];	/* domain-level detail, sanitized */
    /* MTA-STS */
    int     has_txt;
    char    txt_id[33];
    int     txt_ttl;
    int     has_policy;
    int     policy_mode;		/* POLICY_MODE_* */
    long    policy_max_age;
    int     policy_mx_count;		/* entries in policy_mx */
    char  **policy_mx;			/* every pattern, sanitized; owned */
    int     policy_cached;		/* from cache (RFC 8461 section 5.1) */
    int     policy_host_ttl;
    /* DNS */
    int     mx_secure;
    int     implicit_mx;
    int     dane;			/* some host has usable TLSA */
    char    tlsrpt[VERDICT_TEXT_MAX];	/* the valid _smtp._tls record (tlsrpt.h), if asked */
    /* Hosts in preference order */
    int     host_count;
    VERDICT_HOST host[VERDICT_HOSTS_MAX];
    /* Warnings (sanitized) */
    int     warn_count;
    char    warn[VERDICT_WARN_MAX][256];
    /* Timing by stage, milliseconds */
    long    dns_ms;
    long    fetch_ms;
    long    probe_ms;
    long    total_ms;
    /* Diagnosis for `stsfilter check` (sanitized; route.c fills it) */
    int     txt_count;			/* TXT records at _mta-sts */
    char    txt_records[VERDICT_TXT_SHOWN][256];	/* the first ones */
    char    txt_problem[256];		/* records, but no valid one: why */
    int     policy_lenient;		/* refused policy: lenient parsers take it */
    int     policy_lenient_mode;	/* POLICY_MODE_* they then apply */
    int     policy_line;		/* line strict parsers refuse; 0: whole body */
    char    policy_line_text[128];	/* that line, escaped (policy.h) */
    char    policy_problem[256];	/* why strict parsers refuse it */
    char    explanation[VERDICT_TEXT_MAX];
    time_t  answer_until;		/* answer reusable until; 0: not at all */
} VERDICT;

#if defined(__GNUC__)
#define VERDICT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VERDICT_PRINTF(a, b)
#endif

extern VERDICT *verdict_create(const char *);
extern VERDICT *verdict_copy(const VERDICT *);
extern void verdict_free(VERDICT **);
extern int verdict_set_policy_mx(VERDICT *, char *const *, int);
extern VERDICT_HOST *verdict_add_host(VERDICT *, const char *, int);
extern void verdict_warn(VERDICT *, const char *,...) VERDICT_PRINTF(2, 3);
extern void verdict_no_policy(VERDICT *, int, int);
extern void verdict_explain(VERDICT *);
extern const char *verdict_name(int);
extern const char *verdict_reason_name(int);
extern const char *verdict_reason_label(int);
extern int verdict_reason_code(const char *);

#endif
