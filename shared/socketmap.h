/* SPDX-License-Identifier: ISC */
#ifndef SOCKETMAP_H_INCLUDED
#define SOCKETMAP_H_INCLUDED

/*
 * NAME
 *	socketmap 3h
 * SUMMARY
 *	Postfix TLS policy socketmap: request keys and replies
 * SYNOPSIS
 *	#include "socketmap.h"
 *
 *	int	socketmap_request(const char *req, size_t len, char *name,
 *			size_t nsize, char *key, size_t ksize, WHY *why)
 *
 *	int	socketmap_key(const char *key, char *domain, size_t size,
 *			WHY *why)
 *
 *	int	socketmap_reply(const VERDICT *v, char *out, size_t size,
 *			int *flags, const char **basis)
 *
 *	int	socketmap_reply_ext(const VERDICT *v, int opts, char *out,
 *			size_t size, int *flags, const char **basis)
 *
 *	int	socketmap_name_tlsrpt(const char *name)
 *
 *	const char *socketmap_status_name(int status)
 * DESCRIPTION
 *	Pure functions for stsfilter-policyd: no I/O, no engine.
 *
 *	socketmap_request() splits the DATA of one request netstring
 *	("NAME KEY", socketmap_table(5)) into the map name and the key
 *	(NUL-terminated copies). STATUS_INVAL (why says why) for an empty
 *	name or key, a NUL or control character, or a part too long.
 *
 *	socketmap_key() turns a key as Postfix's smtp(8) looks it up in
 *	smtp_tls_policy_maps into the domain the engine checks:
 *	"example.com", "example.com.", "[example.com]",
 *	"[example.com]:587", "example.com:25", and with a service name in
 *	place of the port as Postfix's next-hop syntax allows,
 *	"[example.com]:submission" and "example.com:smtp", all give
 *	"example.com" (domain.c normalizes: IDNA, lowercase, no trailing
 *	dot; a service name is checked for the RFC 6335 section 5.1
 *	syntax only, as the port never changes the answer).
 *	STATUS_NOTFOUND for keys this map never answers: "[192.0.2.1]",
 *	IPv4 and IPv6 literals with or without brackets or "ipv6:", and
 *	".example.com" (Postfix's parent-domain form: RFC 8461 section 3.4
 *	says a policy applies to its own domain only, so a lookup never
 *	falls back to a parent). STATUS_INVAL for a key that is not a
 *	domain (why says why). Both mean the reply NOTFOUND.
 *
 *	socketmap_reply() is the one place where a verdict becomes a reply:
 *	it writes the reply (without framing) for the verdict of one domain
 *	and returns SOCKETMAP_OK, SOCKETMAP_NOTFOUND or SOCKETMAP_TEMP; v
 *	may be null (internal error: TEMP). *basis (when basis is not
 *	null) gets a constant phrase saying why it is that reply, for the
 *	log line, so that the log never says other than the reply. The
 *	replies are those of postfix-mta-sts-resolver, so that an admin
 *	switches by changing one line of main.cf:
 * .IP "OK secure match=P1:P2 servername=hostname"
 *	an MTA-STS policy in enforce mode (RFC 8461 section 4.1), whatever
 *	the probes found: Postfix verifies the certificate itself. A
 *	pattern "*.example.com" becomes Postfix's ".example.com"
 *	(postconf(5), smtp_tls_policy_maps "match"). Postfix's form also
 *	matches deeper subdomains, where RFC 8461 section 4.1 allows one
 *	label only; Postfix cannot express that.
 * .IP "OK dane-only", "OK dane"
 *	usable TLSA records (RFC 7672 section 2.2): "dane-only" when every
 *	MX host the engine looked at has them, "dane" when only some do
 *	(RFC 7672 section 2.2: hosts without TLSA records are reached
 *	opportunistically; Postfix's "dane" level does that per host,
 *	"dane-only" would fail them). DANE comes before MTA-STS (RFC 8461
 *	section 2).
 * .IP "NOTFOUND "
 *	no policy, a policy in testing or none mode, a null MX (RFC
 *	7505: Postfix bounces by itself), and a TXT record whose policy
 *	could not be fetched with none cached (RFC 8461 section 5: deliver
 *	as though the domain had no MTA-STS).
 * .IP "TEMP reason"
 *	not decided in time, a temporary DNS error, a DNSSEC-bogus answer
 *	(RFC 7672 section 2.1.1: no delivery on bogus data; also a bogus
 *	TLSA RRset while no host passed, whatever the other hosts' TLSA
 *	records say) or an internal
 *	error: Postfix defers the mail and asks again.
 * .PP
 *	Every mx pattern of the policy is written, in policy order: a
 *	policy body is at most 64 KiB (RFC 8461 section 3.3), so its
 *	match list always fits SOCKETMAP_REPLY_MAX, Postfix's limit for a
 *	socketmap reply (dict_sockmap.c: 100000 bytes without the netstring
 *	framing). *flags gets SOCKETMAP_TRUNCATED when a pattern was left
 *	out because it cannot be written in Postfix's syntax (the caller
 *	logs it).
 *
 *	socketmap_reply_ext() is socketmap_reply() with options; opts 0 is
 *	socketmap_reply(). SOCKETMAP_WANT_TLSRPT adds, to the "OK secure"
 *	reply only, the RFC 8460 policy data that Postfix 3.10 takes for
 *	TLSRPT (TLSRPT_README, "MTA-STS Support via smtp_tls_policy_maps"):
 * .nf
 *	OK secure match=.example.net:mx.example.com servername=hostname
 *	  policy_type=sts policy_domain=example.com
 *	  mx_host_pattern=*.example.net mx_host_pattern=mx.example.com
 *	  { policy_string = version: STSv1 } { policy_string = mode: enforce }
 *	  { policy_string = mx: *.example.net }
 *	  { policy_string = mx: mx.example.com }
 *	  { policy_string = max_age: 604800 }
 * .fi
 *	(one line). mx_host_pattern= keeps the RFC 8461 form "*.": Postfix
 *	matches it as RFC 8461 section 4.1 says (one label), and with
 *	smtp_tls_enforce_sts_mx_patterns uses it in place of match=. The
 *	policy strings (RFC 8460 section 4.4) are the lines of the policy as
 *	applied: version, mode, each mx in policy order, max_age (as
 *	clamped by the parser); extension fields, which the engine does not
 *	keep, are not among them. Nothing is added to "dane" and
 *	"dane-only": Postfix builds the TLS-RPT data of a DANE policy itself
 *	from the TLSA records it looks up, and accepts only "sts" and
 *	"no-policy-found" as policy_type (TLSRPT_README: "It is an error to
 *	specify these attributes for a non-STS policy"). NOTFOUND and TEMP
 *	carry no value. The attributes are all or none: when a pattern was
 *	left out of match= (SOCKETMAP_TRUNCATED), or the reply with them
 *	would be SOCKETMAP_REPLY_MAX bytes or more (Postfix fails a lookup
 *	whose reply is over its limit; it does not cut it), the reply is
 *	the plain one and *flags gets SOCKETMAP_TLSRPT_OMITTED. Postfix
 *	3.9 and older refuse these attributes ("invalid attribute name")
 *	and defer the mail: they are sent only when the map name asks.
 *
 *	socketmap_name_tlsrpt() says whether a request's map name asks for
 *	the TLS-RPT attributes: a name ending in "tlsrpt", in any case, such
 *	as postfix-tlspol's "QUERYwithTLSRPT" or "postfix-tlsrpt".
 *
 *	Memory: nothing is allocated.
 */

#include <stddef.h>

#include "verdict.h"
#include "why.h"

#define SOCKETMAP_OK		0
#define SOCKETMAP_NOTFOUND	1
#define SOCKETMAP_TEMP		2
#define SOCKETMAP_PERM		3

#define SOCKETMAP_TRUNCATED	(1<<0)	/* *flags: a pattern left out */
#define SOCKETMAP_TLSRPT_OMITTED (1<<1)	/* *flags: TLS-RPT asked, left out */

#define SOCKETMAP_WANT_TLSRPT	(1<<0)	/* opts: TLS-RPT attributes */
#define SOCKETMAP_TLSRPT_SUFFIX	"tlsrpt"	/* map names that ask for them */

#define SOCKETMAP_NAME_MAX	64	/* map name */
#define SOCKETMAP_KEY_MAX	1024	/* key as received */
#define SOCKETMAP_REPLY_MAX	100000	/* Postfix dict_sockmap_max_reply */

extern int socketmap_request(const char *, size_t, char *, size_t, char *, size_t, WHY *);
extern int socketmap_key(const char *, char *, size_t, WHY *);
extern int socketmap_reply(const VERDICT *, char *, size_t, int *, const char **);
extern int socketmap_reply_ext(const VERDICT *, int, char *, size_t, int *, const char **);
extern int socketmap_name_tlsrpt(const char *);
extern const char *socketmap_status_name(int);

#endif
