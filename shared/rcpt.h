/* SPDX-License-Identifier: ISC */
#ifndef RCPT_H_INCLUDED
#define RCPT_H_INCLUDED

/*
 * NAME
 *	rcpt 3h
 * SUMMARY
 *	the domain of an envelope recipient, read from the raw address
 * SYNOPSIS
 *	#include "rcpt.h"
 *
 *	int	rcpt_domain(const char *addr, char *domain, size_t size,
 *			WHY *why)
 *
 *	size_t	rcpt_show(char *buf, size_t size, const char *addr)
 * DESCRIPTION
 *	The one place where a front end (milter, OpenSMTPD filter) turns
 *	the recipient that the MTA hands over into the domain that is
 *	checked. It reads the raw address, as the MTA received it, by the
 *	syntax of RFC 5321 section 4.1.2 with the SMTPUTF8 extensions of
 *	RFC 6531 section 3.3:
 *
 *	Path = "<" [ A-d-l ":" ] Mailbox ">" (the brackets are optional:
 *	OpenSMTPD hands over the bare mailbox); a source route (A-d-l,
 *	"@a,@b:") is skipped (RFC 5321 section 4.1.2 and appendix C: it
 *	is ignored). Mailbox = Local-part "@" ( Domain / address-literal ).
 *	The local part is a Dot-string (atext, with UTF-8 allowed by RFC
 *	6531) or a Quoted-string, which may hold "@", quoted pairs and
 *	UTF-8; its length is not capped here (RFC 5321 section 4.5.3.1.1
 *	makes 64 octets a SHOULD, and the MTA accepted it). The domain
 *	goes through domain_normalize() (domain.c: IDNA through libidn2,
 *	lowercase, RFC 1035 lengths).
 *
 *	rcpt_domain() returns
 *	STATUS_OK	domain holds the normalized (A-label) domain;
 *	STATUS_NOTFOUND	the recipient has no domain to check: an address
 *			literal ("[192.0.2.1]", "[IPv6:...]", domain holds
 *			the literal as written) or the bare local
 *			"postmaster" of RFC 5321 section 4.1.1.3 (domain
 *			is ""); the MTA delivers those without MX;
 *	STATUS_INVAL	the domain cannot be read (bad syntax, invalid
 *			IDNA, overlong name, or an address longer than
 *			RCPT_INPUT_MAX octets); why says why. A front end
 *			logs it and applies action_internal_error.
 *	size should be at least DOMAIN_MAX + 1 (an address literal that
 *	does not fit is STATUS_INVAL). why never quotes the input.
 *
 *	rcpt_show() writes the recipient as it may be shown in a log line
 *	or a reply: without the angle brackets, sanitized (text_sanitize()),
 *	and, when it does not fit, shortened in the local part ("...") so
 *	that the domain as written stays visible. Returns the length.
 *
 *	Pure and thread-safe; nothing is allocated.
 */

#include <stddef.h>

#include "domain.h"
#include "why.h"

#define RCPT_INPUT_MAX	4096		/* longer addresses are refused unread */

extern int rcpt_domain(const char *, char *, size_t, WHY *);
extern size_t rcpt_show(char *, size_t, const char *);

#endif
