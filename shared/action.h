/* SPDX-License-Identifier: ISC */
#ifndef ACTION_H_INCLUDED
#define ACTION_H_INCLUDED

/*
 * NAME
 *	action 3h
 * SUMMARY
 *	from a verdict to what a front end does at RCPT TO: the action, the
 *	SMTP reply and the tag header
 * SYNOPSIS
 *	#include "action.h"
 *
 *	void	action_decide(const CONF *conf, int verdict, ACTION *act)
 *
 *	int	action_reply(const ACTION *act, const ANSWER *a,
 *			const char *domain, const char *rcpt, ACTION_REPLY *reply)
 *
 *	int	action_tag_add(char *header, size_t size, const ACTION *act,
 *			const ANSWER *a, const char *domain)
 *
 *	const char *action_name(int action)
 *
 *	int	action_scope_client(const CONF *conf, int authenticated,
 *			const struct sockaddr *addr)
 *
 *	int	action_scope_domain(const CONF *conf, const char *domain)
 * DESCRIPTION
 *	The one mapping shared by every front end (milter, OpenSMTPD
 *	filter): the front end only transports what this module decides.
 *
 *	action_decide() maps a verdict class (VERDICT_*, or
 *	ACTION_INTERNAL_ERROR when the filter itself failed) to the action
 *	configured for it (action_enforce_fail, action_testing_fail,
 *	action_temporary, action_null_mx, action_internal_error; ok, none
 *	and no-policy are always accepted). act->configured is what the
 *	configuration says; act->action is what is done: in monitor_mode a
 *	defer or reject becomes a tag (log and tag, never refuse), and
 *	act->monitor is set. act->tag is set when the recipient's domain
 *	goes into the tag header.
 *
 *	action_reply() fills the reply for a defer or reject: a 3-digit
 *	code, an RFC 3463 enhanced status code and one line of text, built
 *	from the recipient and the answer's sanitized explanation (and its
 *	TLS-RPT address, a->tlsrpt_uri, when there is one: answer.h). The whole
 *	line "CODE DSN TEXT" is at most ACTION_LINE_MAX bytes, so that with
 *	CRLF it fits the 512 octets of RFC 5321 section 4.5.3.1.5; it holds
 *	no CR, LF or other control byte. a may be null (internal error).
 *	Returns 0, or -1 when act is not a defer or reject (reply zeroed).
 *	The text is not %-escaped: text_escape_percent() it for
 *	smfi_setreply().
 *
 *	Codes (RFC 3463 enhanced status codes):
 *	defer, MTA-STS or DANE failure	450 4.7.5 (cryptographic failure;
 *				RFC 8461 section 5.1 treats a failure as
 *				temporary, so never 5xx by default)
 *	reject, MTA-STS or DANE failure	550 5.7.5
 *	defer, null MX		450 4.1.10
 *	reject, null MX		556 5.1.10 (RFC 7505 section 4.3)
 *	defer, temporary	451 4.4.3 (directory server failure: DNS or
 *				fetch trouble, RFC 3463 section 3.5)
 *	reject, temporary	550 5.4.3
 *	defer, internal error	451 4.3.0 (RFC 3463 section 3.4)
 *	reject, internal error	554 5.3.0
 *
 *	action_tag_add() appends "DOMAIN VERDICT (REASONS)" (REASONS is
 *	a->reasons, answer_reasons(); plus
 *	" would-ACTION" in monitor mode) to a tag header value, entries
 *	separated by "; ", once per domain. The value stays under
 *	ACTION_TAG_MAX bytes (RFC 5322 section 2.1.1: 998 per line); an
 *	entry that does not fit is dropped whole and "..." ends the value.
 *	Returns 1 when added, 0 when the domain was already there, -1 when
 *	it did not fit.
 *
 *	action_name() names an action ("accept", "tag", "defer",
 *	"reject").
 *
 *	action_scope_client() says whether mail from this client is
 *	checked (act_on): "all"; "authenticated" when authenticated is
 *	non-zero; "mynetworks" when addr (IPv4, IPv6, IPv4-mapped IPv6) is
 *	in mynetworks. addr may be null (unknown client: not in
 *	mynetworks). Returns 1 or 0.
 *
 *	action_scope_domain() returns 0 when the (normalized, lowercase)
 *	recipient domain is listed in local_domains or skip_domains, 1
 *	otherwise. "example.com" matches that domain only; ".example.com"
 *	matches its subdomains (as Postfix's parent_domain_matches_subdomains
 *	turned off).
 *
 *	Everything here is pure and thread-safe; nothing is allocated.
 */

#include <stddef.h>
#include <sys/socket.h>

#include "answer.h"
#include "conf.h"
#include "verdict.h"

/* Same order as the words of the action_* keys in conf_table.h. */
#define ACTION_ACCEPT	0
#define ACTION_TAG	1
#define ACTION_DEFER	2
#define ACTION_REJECT	3

#define ACTION_INTERNAL_ERROR	(-1)	/* verdict class of a filter failure */

#define ACTION_LINE_MAX	510		/* "CODE DSN TEXT" without CRLF */
#define ACTION_TAG_MAX	900		/* one tag header value */
#define ACTION_RCPT_MAX	256		/* recipient shown in a reply */

typedef struct ACTION {
    int     verdict;			/* VERDICT_* or ACTION_INTERNAL_ERROR */
    int     configured;			/* ACTION_*, from the configuration */
    int     action;			/* ACTION_*, what is done */
    int     monitor;			/* monitor_mode turned it into a tag */
    int     tag;			/* add the domain to the tag header */
} ACTION;

typedef struct ACTION_REPLY {
    char    code[4];			/* "450" */
    char    dsn[16];			/* "4.7.5" */
    char    text[ACTION_LINE_MAX + 1];	/* without code and DSN */
} ACTION_REPLY;

extern void action_decide(const CONF *, int, ACTION *);
extern int action_reply(const ACTION *, const ANSWER *, const char *, const char *, ACTION_REPLY *);
extern int action_tag_add(char *, size_t, const ACTION *, const ANSWER *, const char *);
extern const char *action_name(int);
extern int action_scope_client(const CONF *, int, const struct sockaddr *);
extern int action_scope_domain(const CONF *, const char *);

#endif
