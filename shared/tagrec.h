/* SPDX-License-Identifier: ISC */
#ifndef TAGREC_H_INCLUDED
#define TAGREC_H_INCLUDED

/*
 * NAME
 *	tagrec 3h
 * SUMMARY
 *	the tag-value TXT record grammar shared by MTA-STS (RFC 8461
 *	section 3.1) and TLS-RPT (RFC 8460 section 3)
 * SYNOPSIS
 *	#include "tagrec.h"
 *
 *	typedef int (*TAGREC_FIELD_FN)(const unsigned char *s, size_t len,
 *			size_t name, size_t name_len, size_t *pos,
 *			void *ctx, WHY *why)
 *
 *	int	tagrec_parse(const char *record, size_t len, size_t max,
 *			const char *version, TAGREC_FIELD_FN fn, void *ctx,
 *			WHY *why)
 * DESCRIPTION
 *	Pure functions: no I/O, no allocation; the callers (txt.c,
 *	tlsrpt.c) are fuzzed.
 *
 *	tagrec_parse() matches one joined record of at most max octets
 *	that begins with version: fields separated by ";" with optional
 *	WSP around it, an optional trailing ";". For each field it reads
 *	the name (the ext-name rule) and the "=", then calls fn with the
 *	name at s[name .. name + name_len) and *pos at the first octet of
 *	the value. fn returns STATUS_OK after it consumed the value
 *	(advancing *pos to the octet after it), STATUS_INVAL with a reason,
 *	or STATUS_NOTFOUND for a name it does not know: the value is then
 *	checked against the ext-value rule and ignored. Returns STATUS_OK,
 *	or STATUS_INVAL with a reason that never quotes the record.
 */

#include <stddef.h>

#include "why.h"

/* RFC 5234 Appendix B.1: WSP = SP / HTAB */
#define TAGREC_WSP(c)	((c) == ' ' || (c) == '\t')

typedef int (*TAGREC_FIELD_FN) (const unsigned char *, size_t, size_t, size_t, size_t *,
				        void *, WHY *);

extern int tagrec_parse(const char *, size_t, size_t, const char *, TAGREC_FIELD_FN, void *, WHY *);

#endif
