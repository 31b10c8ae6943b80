/* SPDX-License-Identifier: ISC */
#ifndef DNS_RR_H_INCLUDED
#define DNS_RR_H_INCLUDED

/*
 * NAME
 *	dns_rr 3h
 * SUMMARY
 *	DNS names and RDATA to dns.h results: the pure half of dns.c
 * SYNOPSIS
 *	#include "dns_rr.h"
 *
 *	int	dns_rr_name_norm(const char *name, char *out, size_t size,
 *			WHY *why)
 *	int	dns_rr_same_name(const char *a, const char *b)
 *	size_t	dns_rr_wire_name(const unsigned char *rdata, size_t len,
 *			char *out, size_t size)
 *	const char *dns_rr_type_name(int type)
 *
 *	int	dns_rr_txt(const char *qname, const DNS_RRSET *set,
 *			const DNS_INFO *info, DNS_TXT **out, WHY *why)
 *	int	dns_rr_mx(const char *qname, const DNS_RRSET *set,
 *			const DNS_INFO *info, DNS_MX **out, WHY *why)
 *	int	dns_rr_tlsa(const char *qname, const DNS_RRSET *set,
 *			const DNS_INFO *info, DNS_TLSA **out, WHY *why)
 *	void	dns_rr_addr(DNS_ADDR *out, const char *qname, int type,
 *			const DNS_RRSET *set)
 * DESCRIPTION
 *	Private to dns*.c (and to the unit tests and fuzz_dns, which feed
 *	it bytes). Nothing here does I/O or knows libunbound: an RRset is
 *	the uncompressed RDATA of each record of one answer, as
 *	libunbound's ub_result lists it (data[i], len[i], count records).
 *	Every RDATA is untrusted and parsed with bounds checks; a malformed
 *	record is skipped with log_warn().
 *
 *	dns_rr_name_norm() checks a text-form name (RFC 1035 section 2.3.4:
 *	at most 253 octets without the trailing dot, labels of 1-63
 *	letters, digits, "-" or "_") and copies it lowercased without the
 *	trailing dot; STATUS_OK or STATUS_INVAL (out is then "").
 *	dns_rr_same_name() compares two names ignoring case and a trailing
 *	dot. dns_rr_wire_name() decodes an uncompressed wire-format name
 *	(RFC 1035 section 3.1; no compression pointers, RFC 3597 section 4)
 *	into lowercase text without the trailing dot ("" for the root) and
 *	returns the octets consumed, or 0 when it is malformed, has a label
 *	character other than those above or does not fit. dns_rr_type_name()
 *	names an RR type for messages.
 *
 *	dns_rr_txt(), dns_rr_mx() and dns_rr_tlsa() build the result of
 *	dns_txt(), dns_mx() and dns_tlsa() (dns.h describes them) from an
 *	RRset and the answer's DNS_INFO, and return STATUS_OK with *out
 *	set, STATUS_NOTFOUND (TXT, MX: no well-formed record; *out null),
 *	or STATUS_RETRY (out of memory; *out null). MX: a single "0 ." is
 *	a null MX (RFC 7505 section 3), sorted by preference (RFC 5321
 *	section 5.1), ties in answer order, the DNS_LIST_MAX most preferred
 *	kept. TXT and TLSA keep the first DNS_LIST_MAX records. TLSA
 *	records need 3 octets (RFC 6698 section 2.1); count 0 when none is
 *	well-formed. dns_rr_addr() appends the A (4 octets, RFC 1035 section
 *	3.4.1) or AAAA (16 octets, RFC 3596 section 2.2) records to out,
 *	whose addr array has DNS_LIST_MAX entries.
 *
 *	Results are freed with the dns_*_free() of dns.h.
 */

#include <stddef.h>

#include "dns.h"
#include "why.h"

#define DNS_T_A		1
#define DNS_T_MX	15
#define DNS_T_TXT	16
#define DNS_T_AAAA	28
#define DNS_T_TLSA	52

#define DNS_HOST_MAX	253		/* RFC 1035 section 2.3.4, text form */
#define DNS_LABEL_MAX	63

typedef struct DNS_RRSET {
    char   *const *data;		/* RDATA of each record */
    const int *len;			/* its length */
    int     count;
} DNS_RRSET;

extern int dns_rr_name_norm(const char *, char *, size_t, WHY *);
extern int dns_rr_same_name(const char *, const char *);
extern size_t dns_rr_wire_name(const unsigned char *, size_t, char *, size_t);
extern const char *dns_rr_type_name(int);
extern int dns_rr_txt(const char *, const DNS_RRSET *, const DNS_INFO *, DNS_TXT **, WHY *);
extern int dns_rr_mx(const char *, const DNS_RRSET *, const DNS_INFO *, DNS_MX **, WHY *);
extern int dns_rr_tlsa(const char *, const DNS_RRSET *, const DNS_INFO *, DNS_TLSA **, WHY *);
extern void dns_rr_addr(DNS_ADDR *, const char *, int, const DNS_RRSET *);

#endif
