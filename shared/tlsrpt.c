/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	tlsrpt 3
 * SUMMARY
 *	SMTP TLS Reporting TXT record parser (RFC 8460 section 3)
 * SYNOPSIS
 *	#include "tlsrpt.h"
 * DESCRIPTION
 *	See tlsrpt.h for the API. This module implements the "_smtp._tls"
 *	TXT record grammar of RFC 8460 section 3:
 *
 *	tlsrpt-record    = tlsrpt-version 1*(field-delim tlsrpt-field)
 *	                   [field-delim]
 *	field-delim      = *WSP ";" *WSP
 *	tlsrpt-field     = tlsrpt-rua / tlsrpt-extension
 *	tlsrpt-version   = %s"v=TLSRPTv1"
 *	tlsrpt-rua       = %s"rua=" tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri)
 *	tlsrpt-uri       = URI	; RFC 3986; "," and "!" MUST be encoded
 *	tlsrpt-extension = tlsrpt-ext-name "=" tlsrpt-ext-value
 *	tlsrpt-ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	tlsrpt-ext-value = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 *	Where the RFC is silent or ambiguous:
 *
 *	A field named "rua" is always the rua field, never an extension.
 *	"rua" is required (section 3: "This field is required"); a record
 *	with two rua fields is invalid, as the RFC gives no rule to merge
 *	them.
 *
 *	A URI ends at WSP, "," or ";" (the ABNF's delimiters); its other
 *	octets must be RFC 3986 URI characters, "%" must start a
 *	pct-encoded triplet, and "!" is refused unencoded (section 3).
 *	The scheme (RFC 3986 section 3.1) is matched case-insensitively.
 *	A mailto: URI must carry an addr-spec with a non-empty local part
 *	and domain (RFC 6068 section 2); an https: URI must parse with
 *	libcurl's URL API to scheme https with a host. URIs of any other
 *	scheme are skipped, as section 3 defines only these two.
 *
 *	The record is matched exactly as the ABNF says: keywords are
 *	case-sensitive, white space is allowed only around ";" and ",",
 *	and trailing white space without a ";" is invalid.
 *
 *	Selection (tlsrpt_select) discards every record that does not
 *	begin with the eleven octets "v=TLSRPTv1;", literally as section 3
 *	says.
 */

#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "status.h"
#include "tagrec.h"
#include "tlsrpt.h"
#include "why.h"

/* RFC 5234 Appendix B.1 core rules; locale-independent. */
#define TLSRPT_ALPHA(c)		(((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define TLSRPT_DIGIT(c)		((c) >= '0' && (c) <= '9')
#define TLSRPT_HEXDIG(c)	(TLSRPT_DIGIT(c) || ((c) >= 'A' && (c) <= 'F') \
				 || ((c) >= 'a' && (c) <= 'f'))

 /*
  * RFC 3986 §2: unreserved / gen-delims / sub-delims / "%"; minus the
  * record's delimiters ";" and ",", and "!" (RFC 8460 §3: MUST be encoded).
  */
#define TLSRPT_URI_CHAR(c)	(TLSRPT_ALPHA(c) || TLSRPT_DIGIT(c) \
				 || ((c) != 0 && strchr("-._~:/?#[]@$&'()*+=%", (c)) != 0))

 /* RFC 8460 §3: tlsrpt-version = %s"v=TLSRPTv1" (case-sensitive) */
#define TLSRPT_VERSION		"v=TLSRPTv1"

 /* RFC 8460 §3: records that do not begin with "v=TLSRPTv1;" are discarded */
#define TLSRPT_SELECT_PREFIX	"v=TLSRPTv1;"
#define TLSRPT_SELECT_PREFIX_LEN (sizeof(TLSRPT_SELECT_PREFIX) - 1)

/* tlsrpt_scheme - length of the RFC 3986 §3.1 scheme before ":", or 0 */

static size_t tlsrpt_scheme(const char *uri)
{
    size_t  n;

    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
    if (!TLSRPT_ALPHA(uri[0]))
	return (0);
    for (n = 1; TLSRPT_ALPHA(uri[n]) || TLSRPT_DIGIT(uri[n]) || uri[n] == '+'
	 || uri[n] == '-' || uri[n] == '.'; n++)
	 /* void */ ;
    return (uri[n] == ':' ? n : 0);
}

/* tlsrpt_https - an absolute https URL with a host, per libcurl's URL API */

static int tlsrpt_https(const char *uri)
{
    CURLU  *u = 0;
    char   *scheme = 0;
    char   *host = 0;
    int     result = 0;

    if ((u = curl_url()) == 0)
	goto out;
    if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK)
	goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
	|| strcmp(scheme, "https") != 0)
	goto out;
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || host[0] == 0)
	goto out;
    result = 1;

out:
    curl_free(host);
    curl_free(scheme);
    if (u)
	curl_url_cleanup(u);
    return (result);
}

/* tlsrpt_mailto - RFC 6068 §2: "mailto:" addr-spec [ "?" hfields ] */

static int tlsrpt_mailto(const char *uri)
{
    const char *addr = uri + sizeof("mailto:") - 1;
    size_t  len = strcspn(addr, "?");
    const char *at = memchr(addr, '@', len);

    /* One addr-spec with a non-empty local part and domain. */
    return (at != 0 && at > addr && (size_t) (at - addr) + 1 < len
	    && memchr(at + 1, '@', len - (size_t) (at - addr) - 1) == 0);
}

/* tlsrpt_uri - parse one tlsrpt-uri at *pos into out (or skip it) */

static int tlsrpt_uri(const unsigned char *s, size_t len, size_t *pos,
		              TLSRPT_RECORD *out, WHY *why)
{
    size_t  start = *pos;
    size_t  p = start;
    size_t  n;
    size_t  slen;
    char    uri[TLSRPT_URI_MAX];
    int     kind;

    for (; p < len && !TAGREC_WSP(s[p]) && s[p] != ',' && s[p] != ';'; p++) {
	if (s[p] == '!') {
	    why_set(why, "unencoded '!' in rua URI at offset %lu (RFC 8460 section 3)",
		    (unsigned long) p);
	    return (STATUS_INVAL);
	}
	if (!TLSRPT_URI_CHAR(s[p])) {
	    why_set(why, "invalid character in rua URI at offset %lu", (unsigned long) p);
	    return (STATUS_INVAL);
	}
	/* RFC 3986 §2.1: pct-encoded = "%" HEXDIG HEXDIG */
	if (s[p] == '%' && (p + 2 >= len || !TLSRPT_HEXDIG(s[p + 1])
			    || !TLSRPT_HEXDIG(s[p + 2]))) {
	    why_set(why, "bad percent-encoding in rua URI at offset %lu", (unsigned long) p);
	    return (STATUS_INVAL);
	}
    }
    if ((n = p - start) == 0) {
	why_set(why, "empty rua URI at offset %lu", (unsigned long) start);
	return (STATUS_INVAL);
    }
    if (n >= sizeof(uri)) {
	why_set(why, "rua URI at offset %lu longer than %d octets",
		(unsigned long) start, TLSRPT_URI_MAX - 1);
	return (STATUS_INVAL);
    }
    memcpy(uri, s + start, n);
    uri[n] = 0;
    *pos = p;

    /* RFC 3986 §3: a URI begins with a scheme; §3.1: case-insensitive. */
    if ((slen = tlsrpt_scheme(uri)) == 0) {
	why_set(why, "rua URI at offset %lu has no scheme", (unsigned long) start);
	return (STATUS_INVAL);
    }
    if (slen == 6 && strncasecmp(uri, "mailto", 6) == 0) {
	if (!tlsrpt_mailto(uri)) {
	    why_set(why, "rua mailto: URI at offset %lu has no valid address",
		    (unsigned long) start);
	    return (STATUS_INVAL);
	}
	kind = TLSRPT_MAILTO;
    } else if (slen == 5 && strncasecmp(uri, "https", 5) == 0) {
	if (!tlsrpt_https(uri)) {
	    why_set(why, "rua https: URI at offset %lu is not a valid URL with a host",
		    (unsigned long) start);
	    return (STATUS_INVAL);
	}
	kind = TLSRPT_HTTPS;
    } else {
	/* RFC 8460 §3 defines only mailto: and https: reporting; skip others. */
	return (STATUS_OK);
    }
    if (out->rua_count >= TLSRPT_RUA_MAX) {
	why_set(why, "more than %d rua URIs", TLSRPT_RUA_MAX);
	return (STATUS_INVAL);
    }
    out->rua[out->rua_count].kind = kind;
    memcpy(out->rua[out->rua_count].uri, uri, n + 1);
    out->rua_count++;
    return (STATUS_OK);
}

/* tlsrpt_rua - RFC 8460 §3: tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri) */

static int tlsrpt_rua(const unsigned char *s, size_t len, size_t *pos,
		              TLSRPT_RECORD *out, WHY *why)
{
    size_t  p = *pos;
    size_t  q;

    for (;;) {
	if (tlsrpt_uri(s, len, &p, out, why) != STATUS_OK)
	    return (STATUS_INVAL);
	for (q = p; q < len && TAGREC_WSP(s[q]); q++)
	     /* void */ ;
	if (q >= len || s[q] != ',')
	    break;				/* the caller checks what follows */
	for (p = q + 1; p < len && TAGREC_WSP(s[p]); p++)
	     /* void */ ;
    }
    *pos = p;
    return (STATUS_OK);
}

/* tlsrpt_field - the tlsrpt-rua field; any other name is an extension (tagrec.c) */

typedef struct TLSRPT_SCAN {
    TLSRPT_RECORD *rec;
    int     nrua;
} TLSRPT_SCAN;

static int tlsrpt_field(const unsigned char *s, size_t len, size_t name, size_t name_len,
			        size_t *pos, void *ctx, WHY *why)
{
    TLSRPT_SCAN *scan = (TLSRPT_SCAN *) ctx;

    /* RFC 8460 §3: tlsrpt-rua = %s"rua=" ...; required, once (our rule). */
    if (name_len != 3 || memcmp(s + name, "rua", 3) != 0)
	return (STATUS_NOTFOUND);
    if (scan->nrua > 0) {
	why_set(why, "more than one rua field");
	return (STATUS_INVAL);
    }
    if (tlsrpt_rua(s, len, pos, scan->rec, why) != STATUS_OK)
	return (STATUS_INVAL);
    scan->nrua += 1;
    return (STATUS_OK);
}

/* tlsrpt_parse - parse one joined record (RFC 8460 §3, through tagrec.c) */

int     tlsrpt_parse(const char *record, size_t len, TLSRPT_RECORD *out, WHY *why)
{
    TLSRPT_RECORD tmp;
    TLSRPT_SCAN scan;
    int     result = STATUS_INVAL;

    scan.rec = out ? out : &tmp;
    scan.nrua = 0;
    scan.rec->rua_count = 0;
    if (tagrec_parse(record, len, TLSRPT_RECORD_MAX, TLSRPT_VERSION, tlsrpt_field, &scan, why)
	!= STATUS_OK)
	goto out;
    /* RFC 8460 §3: "rua" ... "This field is required." */
    if (scan.nrua == 0) {
	why_set(why, "no rua field");
	goto out;
    }
    if (scan.rec->rua_count == 0) {
	why_set(why, "no mailto: or https: URI in rua");
	goto out;
    }
    result = STATUS_OK;

out:
    if (result != STATUS_OK)
	scan.rec->rua_count = 0;
    return (result);
}

/* tlsrpt_select - pick the one TLSRPTv1 record among a name's TXT records */

int     tlsrpt_select(const char *const *records, const size_t *lens, size_t count,
		              TLSRPT_RECORD *out, WHY *why)
{
    size_t  i;
    size_t  found = 0;
    size_t  which = 0;
    int     result = STATUS_INVAL;

    if (out)
	out->rua_count = 0;
    if (count > 0 && (records == 0 || lens == 0)) {
	why_set(why, "no records");
	goto out;
    }
    /* RFC 8460 §3: records that do not begin with "v=TLSRPTv1;" are discarded. */
    for (i = 0; i < count; i++) {
	if (records[i] != 0 && lens[i] >= TLSRPT_SELECT_PREFIX_LEN
	    && memcmp(records[i], TLSRPT_SELECT_PREFIX, TLSRPT_SELECT_PREFIX_LEN) == 0) {
	    found++;
	    which = i;
	}
    }
    if (found == 0) {
	why_set(why, "no v=TLSRPTv1 record");
	result = STATUS_NOTFOUND;
	goto out;
    }
    /* RFC 8460 §3: "If the number of resulting records is not one", no TLSRPT. */
    if (found > 1) {
	why_set(why, "multiple v=TLSRPTv1 records");
	goto out;
    }
    if ((result = tlsrpt_parse(records[which], lens[which], out, why)) != STATUS_OK)
	why_prefix(why, "invalid v=TLSRPTv1 record");

out:
    return (result);
}
