/* SPDX-License-Identifier: ISC */
#ifndef DOMAIN_H_INCLUDED
#define DOMAIN_H_INCLUDED

/*
 * NAME
 *	domain 3h
 * SUMMARY
 *	recipient domain normalization (IDNA through libidn2)
 * SYNOPSIS
 *	#include "domain.h"
 *
 *	int	domain_normalize(const char *in, char *out, size_t outsize,
 *			WHY *why)
 *
 *	int	domain_from_address(const char *addr, char *out,
 *			size_t outsize, WHY *why)
 * DESCRIPTION
 *	domain_normalize() turns a domain as typed or as found in an
 *	envelope address into the form used for every lookup and cache
 *	key: U-labels converted to A-labels (IDNA2008 with TR46
 *	non-transitional mapping, libidn2), ASCII lowercased, one trailing
 *	dot removed. It refuses address literals ("[192.0.2.1]", bare
 *	IPv4/IPv6 addresses), empty labels, labels over 63 octets, names
 *	over 253 octets, and characters outside LDH (RFC 1123 section
 *	2.1, RFC 5890). Returns STATUS_OK, or STATUS_INVAL with a reason.
 *	outsize should be at least DOMAIN_MAX + 1.
 *
 *	domain_from_address() takes an RFC 5321 path or mailbox
 *	("<user@Example.COM>", "user@example.com", with or without the
 *	angle brackets) and normalizes the part after the last "@".
 *	Returns STATUS_OK, or STATUS_INVAL (no domain, null path "<>",
 *	invalid domain) with a reason.
 *
 *	This is the only module that calls libidn2.
 */

#include <stddef.h>

#include "why.h"

#define DOMAIN_MAX	253

extern int domain_normalize(const char *, char *, size_t, WHY *);
extern int domain_from_address(const char *, char *, size_t, WHY *);

#endif
