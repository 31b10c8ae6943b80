/* SPDX-License-Identifier: ISC */
#ifndef CACHE_PROBE_H_INCLUDED
#define CACHE_PROBE_H_INCLUDED

/*
 * NAME
 *	cache_probe 3h
 * SUMMARY
 *	the body of a cached probe record (cache.h, PROBE BODY)
 * SYNOPSIS
 *	#include "cache_probe.h"
 *
 *	int	cache_probe_encode(const VERDICT_HOST *host, int probe_reason,
 *			int secure, char *buf, size_t size)
 *	int	cache_probe_decode(const char *body, VERDICT_HOST *host,
 *			int *probe_reason, int *secure)
 * DESCRIPTION
 *	cache_probe_encode() writes the outcome of one MX host's probe
 *	(passed, probe reason, detail, address, TLS version, certificate
 *	summary, CNAME, probe time) as a PROBE BODY; secure says the MX
 *	RRset it was made for was DNSSEC-secure. STATUS_OK, or STATUS_INVAL
 *	when it does not fit in size (at most CACHE_PROBE_BODY_MAX).
 *
 *	cache_probe_decode() parses an untrusted body into host (only the
 *	fields above; name, pref, listed and dane are left alone), and
 *	returns STATUS_OK, or STATUS_INVAL for anything that is not a
 *	version 1 body exactly as cache.h describes it (host is then
 *	partly written; the caller discards it).
 */

#include <stddef.h>

#include "verdict.h"

extern int cache_probe_encode(const VERDICT_HOST *, int, int, char *, size_t);
extern int cache_probe_decode(const char *, VERDICT_HOST *, int *, int *);

#endif
