/* SPDX-License-Identifier: ISC */
#ifndef DNS_H_INCLUDED
#define DNS_H_INCLUDED

/*
 * NAME
 *	dns 3h
 * SUMMARY
 *	DNS lookups with DNSSEC status through libunbound
 * SYNOPSIS
 *	#include "dns.h"
 *
 *	int	dns_create(const DNS_OPTS *opts, DNS **dns, WHY *why)
 *	void	dns_free(DNS **dns)
 *
 *	int	dns_txt(DNS *dns, const char *name, int timeout_ms,
 *			DNS_TXT **out, WHY *why)
 *	int	dns_mx(DNS *dns, const char *domain, int timeout_ms,
 *			DNS_MX **out, WHY *why)
 *	int	dns_addr(DNS *dns, const char *host, int timeout_ms,
 *			DNS_ADDR **out, WHY *why)
 *	int	dns_tlsa(DNS *dns, const char *host, int port, int timeout_ms,
 *			DNS_TLSA **out, WHY *why)
 *
 *	void	dns_txt_free(DNS_TXT **), dns_mx_free(DNS_MX **),
 *		dns_addr_free(DNS_ADDR **), dns_tlsa_free(DNS_TLSA **)
 * DESCRIPTION
 *	The only module that calls libunbound. One DNS handle is shared by
 *	all threads of a process; every lookup function is thread-safe and
 *	returns within timeout_ms (the query is cancelled at the deadline).
 *
 *	dns_create() builds a validating resolver from opts: forwarders
 *	(empty: the resolvers in /etc/resolv.conf), stub zones, a trust
 *	anchor file (empty: the system root anchor if present), and extra
 *	unbound options ("name: value", e.g. `local-zone: "test." nodefault`)
 *	in unbound.conf(5) syntax, applied through a generated "server:"
 *	config file (libunbound 1.17's ub_ctx_set_option() silently ignores
 *	`local-zone: ... nodefault`). Errors name the bad option. It starts
 *	one thread; dns_free() stops it and must not be called while a
 *	lookup is in progress.
 *
 *	Every result carries the answer's DNS_INFO: DNSSEC status
 *	(DNS_SECURE, DNS_INSECURE, DNS_BOGUS with unbound's why_bogus text in
 *	why), the canonical name after CNAMEs (cname is non-empty when it
 *	differs from the query name), and the minimum TTL of the answer.
 *
 *	Status codes: STATUS_OK (data; *out is set), STATUS_NOTFOUND
 *	(NXDOMAIN or NODATA; *out is null and why says which),
 *	STATUS_RETRY (SERVFAIL, timeout, network error, BOGUS),
 *	STATUS_INVAL (bad name: empty label, label over 63 or name over 253
 *	octets, a character other than letter, digit, "-" or "_"). A BOGUS
 *	answer is always STATUS_RETRY, never data (RFC 7672 section 2.1.1):
 *	*out is then set to an empty result (count 0) whose
 *	info.security == DNS_BOGUS. So the caller frees *out whenever it is
 *	non-null, whatever the status; on every other non-OK status *out
 *	is null.
 *
 *	dns_txt() returns each TXT RR of name joined into one string (RFC
 *	8461 section 3.1: the character-strings concatenated without
 *	spaces; txt_join_rdata()), following CNAMEs.
 *
 *	dns_mx() returns the MX RRset sorted by preference (ties in answer
 *	order), targets lowercased without the trailing dot; malformed
 *	records and "." targets among other MX records are skipped with a
 *	warning (none left: STATUS_NOTFOUND). A single record "0 ." is
 *	reported as null_mx with count 0 (RFC 7505 section 3). With no MX
 *	RRset (NODATA) but an address for the domain, it returns the
 *	implicit MX (RFC 5321 section 5.1): one entry with preference 0,
 *	the domain itself (its canonical name when it is an alias, as
 *	section 5.1 says), implicit set; without an address, NOTFOUND.
 *
 *	dns_addr() returns the IPv4 and IPv6 addresses of host (A then
 *	AAAA, queried in parallel), following CNAMEs; info.cname tells when
 *	host is an alias. info.security is DNS_SECURE only when both
 *	answers validated. When one type has data and the other fails
 *	temporarily, the addresses found are returned (logged).
 *
 *	dns_tlsa() looks up _port._tcp.host TLSA (RFC 7672 section 2.2.3:
 *	when host is an alias reached through a secure CNAME chain, first at
 *	the CNAME-expanded name, falling back to host only when the
 *	expanded name has no TLSA RRset) and returns the records with
 *	usage, selector, mtype and data, unchecked. info.cname is the
 *	expanded name when the records came from there (it is then the TLSA
 *	base domain), else empty. count is 0 when the RRset exists but no
 *	record is well-formed (RFC 7672 section 2.2: unusable, not absent).
 *
 *	Results are allocated; the caller frees them with the matching
 *	dns_*_free(), which sets the pointer to null.
 */

#include <netinet/in.h>
#include <sys/socket.h>

#include "why.h"

#define DNS_INSECURE	0
#define DNS_SECURE	1
#define DNS_BOGUS	2

#define DNS_NAME_MAX	255
#define DNS_LIST_MAX	64		/* cap on records kept per RRset */

typedef struct DNS DNS;

typedef struct DNS_OPTS {
    const char *const *forwarders;	/* "IP" or "IP@port" */
    int     forwarder_count;
    const char *const *stub_zones;	/* "zone=IP[@port]" */
    int     stub_zone_count;
    const char *trust_anchor_file;	/* null or "": default */
    const char *const *options;		/* "name: value" */
    int     option_count;
} DNS_OPTS;

typedef struct DNS_INFO {
    int     security;			/* DNS_SECURE etc. */
    int     ttl;			/* minimum TTL of the answer */
    char    cname[DNS_NAME_MAX + 1];	/* canonical name if aliased */
} DNS_INFO;

typedef struct DNS_TXT {
    DNS_INFO info;
    int     count;
    char  **text;			/* joined strings, NUL-terminated */
    size_t *len;			/* their lengths (may contain NULs) */
} DNS_TXT;

typedef struct DNS_MX_HOST {
    int     pref;
    char    name[DNS_NAME_MAX + 1];
} DNS_MX_HOST;

typedef struct DNS_MX {
    DNS_INFO info;
    int     null_mx;			/* RFC 7505 */
    int     implicit;			/* RFC 5321 section 5.1 */
    int     count;
    DNS_MX_HOST *host;
} DNS_MX;

typedef struct DNS_ADDR {
    DNS_INFO info;
    int     count;
    struct sockaddr_storage *addr;	/* port 0 */
} DNS_ADDR;

typedef struct DNS_TLSA_RR {
    unsigned char usage;
    unsigned char selector;
    unsigned char mtype;
    size_t  len;
    unsigned char *data;
} DNS_TLSA_RR;

typedef struct DNS_TLSA {
    DNS_INFO info;
    int     count;
    DNS_TLSA_RR *rr;
} DNS_TLSA;

extern int dns_create(const DNS_OPTS *, DNS **, WHY *);
extern void dns_free(DNS **);
extern int dns_txt(DNS *, const char *, int, DNS_TXT **, WHY *);
extern int dns_mx(DNS *, const char *, int, DNS_MX **, WHY *);
extern int dns_addr(DNS *, const char *, int, DNS_ADDR **, WHY *);
extern int dns_tlsa(DNS *, const char *, int, int, DNS_TLSA **, WHY *);
extern void dns_txt_free(DNS_TXT **);
extern void dns_mx_free(DNS_MX **);
extern void dns_addr_free(DNS_ADDR **);
extern void dns_tlsa_free(DNS_TLSA **);

#endif
