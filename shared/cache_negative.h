/* SPDX-License-Identifier: ISC */
#ifndef CACHE_NEGATIVE_H_INCLUDED
#define CACHE_NEGATIVE_H_INCLUDED

/*
 * NAME
 *	cache_negative 3h
 * SUMMARY
 *	the body of a cached negative record (cache.h: "no MTA-STS policy
 *	and no DNSSEC-secure MX")
 * SYNOPSIS
 *	#include "cache_negative.h"
 *
 *	int	cache_negative_encode(const VERDICT *v, char *buf, size_t size)
 *	int	cache_negative_decode(char *body, VERDICT *v)
 * DESCRIPTION
 *	The body (version 1) is "implicit\n" when the MX was the implicit
 *	one (RFC 5321 section 5.1), then one "PREF NAME\n" line per MX host
 *	in order: PREF 0-65535, NAME a host name of letters, digits, "-",
 *	"." and "_" of at most DOMAIN_MAX octets.
 *
 *	cache_negative_encode() writes v->implicit_mx and v's hosts;
 *	STATUS_OK, or STATUS_INVAL when it does not fit in size (buf is
 *	then "").
 *
 *	cache_negative_decode() parses an untrusted body (modifying it in
 *	place) into v: implicit_mx and hosts added with verdict_add_host()
 *	(at most VERDICT_HOSTS_MAX). It returns STATUS_OK when there is at
 *	least one host and every line is well-formed, else STATUS_INVAL
 *	with v's host_count and implicit_mx reset to 0 (the caller treats
 *	the entry as a miss).
 */

#include <stddef.h>

#include "verdict.h"

extern int cache_negative_encode(const VERDICT *, char *, size_t);
extern int cache_negative_decode(char *, VERDICT *);

#endif
