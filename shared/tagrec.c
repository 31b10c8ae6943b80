/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	tagrec 3
 * SUMMARY
 *	the tag-value TXT record grammar shared by MTA-STS (RFC 8461
 *	section 3.1) and TLS-RPT (RFC 8460 section 3)
 * SYNOPSIS
 *	#include "tagrec.h"
 * DESCRIPTION
 *	See tagrec.h for the API. Both records have the same shape; only
 *	their version keyword and their known fields differ:
 *
 *	record     = version 1*(sep field) [sep]
 *	sep        = *WSP ";" *WSP
 *	field      = known / extension
 *	extension  = ext-name "=" ext-value
 *	ext-name   = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	ext-value  = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 *	(RFC 8461 section 3.1: sts-text-record, sts-sep, sts-extension;
 *	RFC 8460 section 3: tlsrpt-record, field-delim, tlsrpt-extension.)
 *	The record is matched exactly as the ABNF says: keywords are
 *	case-sensitive, white space is allowed only around ";", and
 *	trailing white space without a ";" is invalid.
 *
 *	No error text ever quotes the record: reasons name the problem
 *	and its octet offset only.
 */

#include <string.h>

#include "status.h"
#include "tagrec.h"
#include "why.h"

/* RFC 5234 Appendix B.1 core rules; locale-independent. */
#define TAGREC_ALPHA(c)	(((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define TAGREC_DIGIT(c)	((c) >= '0' && (c) <= '9')

#define TAGREC_EXT_NAME_MAX	32
#define TAGREC_EXT_NAME_FIRST(c) (TAGREC_ALPHA(c) || TAGREC_DIGIT(c))
#define TAGREC_EXT_NAME_CHAR(c)	(TAGREC_ALPHA(c) || TAGREC_DIGIT(c) || (c) == '_' \
				 || (c) == '-' || (c) == '.')
#define TAGREC_EXT_VALUE_CHAR(c) ((c) >= 0x21 && (c) <= 0x7e && (c) != ';' && (c) != '=')

/* tagrec_field - one field at *pos: the name here, the value by fn or as an extension */

static int tagrec_field(const unsigned char *s, size_t len, size_t *pos,
			        TAGREC_FIELD_FN fn, void *ctx, WHY *why)
{
    size_t  start = *pos;
    size_t  p = start;
    size_t  n;
    int     st;

    /* ext-name, which also covers the known field names. */
    if (p >= len || !TAGREC_EXT_NAME_FIRST(s[p])) {
	why_set(why, "field name expected at offset %lu", (unsigned long) p);
	return (STATUS_INVAL);
    }
    for (p++; p < len && TAGREC_EXT_NAME_CHAR(s[p]); p++)
	 /* void */ ;
    if (p - start > TAGREC_EXT_NAME_MAX) {
	why_set(why, "field name longer than %d characters at offset %lu",
		TAGREC_EXT_NAME_MAX, (unsigned long) start);
	return (STATUS_INVAL);
    }
    if (p >= len || s[p] != '=') {
	why_set(why, "'=' expected at offset %lu", (unsigned long) p);
	return (STATUS_INVAL);
    }
    p++;
    if ((st = fn(s, len, start, p - 1 - start, &p, ctx, why)) != STATUS_NOTFOUND) {
	if (st == STATUS_OK)
	    *pos = p;
	return (st);
    }

    /* An extension: both RFCs allow it; the value is checked and ignored. */
    for (n = 0; p < len && TAGREC_EXT_VALUE_CHAR(s[p]); p++, n++)
	 /* void */ ;
    if (p < len && !TAGREC_WSP(s[p]) && s[p] != ';') {
	why_set(why, "invalid character in extension value at offset %lu",
		(unsigned long) p);
	return (STATUS_INVAL);
    }
    if (n == 0) {
	why_set(why, "empty extension value at offset %lu", (unsigned long) p);
	return (STATUS_INVAL);
    }
    *pos = p;
    return (STATUS_OK);
}

/* tagrec_parse - one joined record: version, then fields and separators */

int     tagrec_parse(const char *record, size_t len, size_t max, const char *version,
		             TAGREC_FIELD_FN fn, void *ctx, WHY *why)
{
    const unsigned char *s = (const unsigned char *) record;
    size_t  vlen = strlen(version);
    size_t  pos;
    int     nfield = 0;
    int     result = STATUS_INVAL;

    if (record == 0) {
	why_set(why, "no record");
	goto out;
    }
    if (len > max) {
	why_set(why, "record longer than %lu octets", (unsigned long) max);
	goto out;
    }
    /* No ABNF rule admits a NUL; say so plainly rather than "bad character". */
    if (memchr(record, 0, len) != 0) {
	why_set(why, "record contains a NUL byte");
	goto out;
    }
    /* The record begins with its version, case-sensitive (%s"..."). */
    if (len < vlen || memcmp(s, version, vlen) != 0) {
	why_set(why, "record does not begin with \"%s\"", version);
	goto out;
    }
    pos = vlen;

    /* 1*(sep field) [sep], sep = *WSP ";" *WSP */
    for (;;) {
	if (pos >= len) {
	    if (nfield == 0) {
		why_set(why, "no field after \"%s\"", version);
		goto out;
	    }
	    break;
	}
	while (pos < len && TAGREC_WSP(s[pos]))
	    pos++;
	if (pos >= len || s[pos] != ';') {
	    why_set(why, "';' expected at offset %lu", (unsigned long) pos);
	    goto out;
	}
	pos++;
	while (pos < len && TAGREC_WSP(s[pos]))
	    pos++;
	if (pos >= len) {
	    if (nfield == 0) {
		why_set(why, "no field after \"%s\"", version);
		goto out;
	    }
	    break;				/* the optional trailing sep */
	}
	if (tagrec_field(s, len, &pos, fn, ctx, why) != STATUS_OK)
	    goto out;
	nfield++;
    }
    result = STATUS_OK;

out:
    return (result);
}
