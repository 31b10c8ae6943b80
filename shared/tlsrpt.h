/* SPDX-License-Identifier: ISC */
#ifndef TLSRPT_H_INCLUDED
#define TLSRPT_H_INCLUDED

/*
 * NAME
 *	tlsrpt 3h
 * SUMMARY
 *	SMTP TLS Reporting TXT record parser (RFC 8460 section 3)
 * SYNOPSIS
 *	#include "tlsrpt.h"
 *
 *	int	tlsrpt_parse(const char *record, size_t len,
 *			TLSRPT_RECORD *out, WHY *why)
 *
 *	int	tlsrpt_select(const char *const *records, const size_t *lens,
 *			size_t count, TLSRPT_RECORD *out, WHY *why)
 * DESCRIPTION
 *	Pure functions: no I/O; safe to fuzz. The only library used is
 *	libcurl's URL API (curl_url()), which parses the https: URIs.
 *
 *	tlsrpt_parse() parses one complete (already joined) record exactly
 *	to the RFC 8460 section 3 ABNF: "v=TLSRPTv1" first, then exactly
 *	one "rua" field with one or more URIs separated by "," (optional
 *	WSP around it), extension fields allowed and ignored, fields
 *	separated by ";" with optional surrounding WSP, optional trailing
 *	";". Each URI is stored in out->rua[] in record order with its
 *	kind: TLSRPT_MAILTO ("mailto:" and an addr-spec with "@") or
 *	TLSRPT_HTTPS (an absolute https URL with a host, as libcurl
 *	parses it). URIs of other schemes are skipped (section 3 defines
 *	only these two); a record left with none is invalid. Returns
 *	STATUS_OK, or STATUS_INVAL with a reason.
 *
 *	tlsrpt_select() applies the section 3 selection: discard records
 *	that do not begin with "v=TLSRPTv1;"; exactly one must remain and
 *	it must parse. Returns STATUS_OK; STATUS_NOTFOUND when none
 *	remains; STATUS_INVAL when more than one remains or the one left
 *	is invalid (the sender then assumes the domain does not implement
 *	TLS-RPT), with a reason.
 *
 *	On any status other than STATUS_OK, out->rua_count is 0.
 *
 *	Caps: a record is at most TLSRPT_RECORD_MAX octets, a URI at most
 *	TLSRPT_URI_MAX - 1 octets, at most TLSRPT_RUA_MAX URIs; a record
 *	over a cap is invalid (never silently truncated).
 *
 *	No error text quotes the record: reasons name the problem and its
 *	octet offset only.
 */

#include <stddef.h>

#include "why.h"

#define TLSRPT_RUA_MAX		16	/* URIs kept from one rua field */
#define TLSRPT_URI_MAX		512	/* buffer for one URI with its NUL */
#define TLSRPT_RECORD_MAX	4096	/* input cap for one joined record */

#define TLSRPT_MAILTO		1	/* mailto: URI (RFC 6068) */
#define TLSRPT_HTTPS		2	/* https: URI (RFC 8460 section 5.3.1) */

typedef struct TLSRPT_RUA {
    int     kind;			/* TLSRPT_MAILTO or TLSRPT_HTTPS */
    char    uri[TLSRPT_URI_MAX];	/* as published, NUL-terminated */
} TLSRPT_RUA;

typedef struct TLSRPT_RECORD {
    int     rua_count;
    TLSRPT_RUA rua[TLSRPT_RUA_MAX];
} TLSRPT_RECORD;

extern int tlsrpt_parse(const char *, size_t, TLSRPT_RECORD *, WHY *);
extern int tlsrpt_select(const char *const *, const size_t *, size_t, TLSRPT_RECORD *, WHY *);

#endif
