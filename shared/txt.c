/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	txt 3
 * SUMMARY
 *	MTA-STS TXT record parser (RFC 8461 section 3.1)
 * SYNOPSIS
 *	#include "txt.h"
 * DESCRIPTION
 *	See txt.h for the API. This module implements the "_mta-sts" TXT
 *	record grammar of RFC 8461 section 3.1:
 *
 *	sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]
 *	sts-field       = sts-id / sts-extension
 *	sts-version     = %s"v=STSv1"
 *	sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 *	sts-extension   = sts-ext-name "=" sts-ext-value
 *	sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)
 *	sts-sep         = *WSP %x3B *WSP
 *
 *	and the wire-format join of RFC 1035 section 3.3.14.
 *
 *	Where the RFC is silent or ambiguous:
 *
 *	A field named "id" is always the id field, never an extension
 *	(the ABNF would also let "id=a-b" parse as an extension named
 *	"id"); an "id" value that is not 1*32(ALPHA / DIGIT) makes the
 *	record invalid.
 *
 *	A record with two or more "id" fields is invalid: the RFC gives
 *	no rule to pick one, and two ids would make policy refresh
 *	(section 3.3) ambiguous.
 *
 *	The record is matched exactly as the ABNF says: keywords are
 *	case-sensitive, white space is allowed only around ";", and
 *	trailing white space without a ";" is invalid.
 *
 *	Selection (txt_select) discards every record that does not begin
 *	with the eight octets "v=STSv1;", literally as section 3.1 says.
 *	A record like "v=STSv1 ;id=1" matches the ABNF (txt_parse accepts
 *	it) but is discarded by the selection rule.
 *
 *	txt_join_rdata() does not apply TXT_RECORD_MAX: an over-long
 *	record must still count in the selection (two "v=STSv1;" records
 *	mean no policy even when one is too long); txt_parse() refuses it.
 *	An empty RDATA is malformed (RFC 1035 section 3.3.14 requires at
 *	least one character-string); empty strings inside are allowed.
 *
 *	No error text ever quotes the record: reasons name the problem
 *	and its octet offset only.
 */

#include <string.h>

#include "status.h"
#include "str.h"
#include "tagrec.h"
#include "txt.h"
#include "why.h"

/* RFC 5234 Appendix B.1 core rules; locale-independent. */
#define TXT_ALPHA(c)	(((c) >= 'A' && (c) <= 'Z') || ((c) >= 'a' && (c) <= 'z'))
#define TXT_DIGIT(c)	((c) >= '0' && (c) <= '9')

 /* RFC 8461 §3.1: sts-version = %s"v=STSv1" (case-sensitive) */
#define TXT_VERSION		"v=STSv1"
#define TXT_VERSION_LEN		(sizeof(TXT_VERSION) - 1)

 /* RFC 8461 §3.1: records that do not begin with "v=STSv1;" are discarded */
#define TXT_SELECT_PREFIX	"v=STSv1;"
#define TXT_SELECT_PREFIX_LEN	(sizeof(TXT_SELECT_PREFIX) - 1)

/* txt_field - the sts-id field; any other name is an extension (tagrec.c) */

typedef struct TXT_SCAN {
    char    id[TXT_ID_MAX + 1];
    int     nid;
} TXT_SCAN;

static int txt_field(const unsigned char *s, size_t len, size_t name, size_t name_len,
		             size_t *pos, void *ctx, WHY *why)
{
    TXT_SCAN *scan = (TXT_SCAN *) ctx;
    size_t  p = *pos;
    size_t  n;

    /*
     * RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT). A field named
     * "id" is the id; the RFC is silent on repeats, we reject them.
     */
    if (name_len != 2 || s[name] != 'i' || s[name + 1] != 'd')
	return (STATUS_NOTFOUND);
    if (scan->nid > 0) {
	why_set(why, "more than one id field");
	return (STATUS_INVAL);
    }
    for (n = 0; p < len && (TXT_ALPHA(s[p]) || TXT_DIGIT(s[p])); p++, n++)
	if (n >= TXT_ID_MAX) {
	    why_set(why, "id longer than %d characters", TXT_ID_MAX);
	    return (STATUS_INVAL);
	}
    if (p < len && !TAGREC_WSP(s[p]) && s[p] != ';') {
	why_set(why, "id has a character other than ALPHA / DIGIT at offset %lu",
		(unsigned long) p);
	return (STATUS_INVAL);
    }
    if (n == 0) {
	why_set(why, "empty id");
	return (STATUS_INVAL);
    }
    memcpy(scan->id, s + p - n, n);
    scan->id[n] = 0;
    scan->nid += 1;
    *pos = p;
    return (STATUS_OK);
}

/* txt_parse - parse one joined record (RFC 8461 §3.1, through tagrec.c) */

int     txt_parse(const char *record, size_t len, TXT_RECORD *out, WHY *why)
{
    TXT_SCAN scan;
    int     result = STATUS_INVAL;

    scan.id[0] = 0;
    scan.nid = 0;
    if (out)
	out->id[0] = 0;
    if (tagrec_parse(record, len, TXT_RECORD_MAX, TXT_VERSION, txt_field, &scan, why) != STATUS_OK)
	goto out;
    /* RFC 8461 §3.1: "id" is required. */
    if (scan.nid == 0) {
	why_set(why, "no id field");
	goto out;
    }
    if (out)
	memcpy(out->id, scan.id, sizeof(out->id));
    result = STATUS_OK;

out:
    return (result);
}

/* txt_prefix_nocase - does s[0..len) begin with p, ignoring ASCII case */

static int txt_prefix_nocase(const char *s, size_t len, const char *p)
{
    size_t  n = strlen(p);
    size_t  i;
    int     a, b;

    if (len < n)
	return (0);
    for (i = 0; i < n; i++) {
	a = (unsigned char) s[i];
	b = (unsigned char) p[i];
	if (a >= 'A' && a <= 'Z')
	    a += 'a' - 'A';
	if (b >= 'A' && b <= 'Z')
	    b += 'a' - 'A';
	if (a != b)
	    return (0);
    }
    return (1);
}

/* txt_problem - why one record is not an MTA-STS record (never quoting it) */

static const char *txt_problem(const char *rec, size_t len)
{
    size_t  lead = 0;
    size_t  i;

    if (rec == 0 || len == 0)
	return ("an empty record");
    while (lead < len && TAGREC_WSP(rec[lead]))
	lead++;
    if (len >= TXT_VERSION_LEN && memcmp(rec, TXT_VERSION, TXT_VERSION_LEN) == 0) {
	if (len == TXT_VERSION_LEN)
	    return ("\"v=STSv1\" alone, without \";\" and an id field");
	if (TAGREC_WSP(rec[TXT_VERSION_LEN]))
	    return ("white space between \"v=STSv1\" and \";\" (the record must begin with \"v=STSv1;\")");
	return ("\"v=STSv1\" is not followed by \";\" (another version, or a missing separator)");
    }
    if (lead > 0 && len - lead >= TXT_VERSION_LEN && memcmp(rec + lead, TXT_VERSION, TXT_VERSION_LEN) == 0)
	return ("white space before \"v=STSv1\"");
    if (txt_prefix_nocase(rec, len, TXT_VERSION))
	return ("the version is case-sensitive: it must be \"v=STSv1\"");
    if (txt_prefix_nocase(rec, len, "v=STS"))
	return ("the version is not STSv1");
    for (i = 1; i + TXT_VERSION_LEN <= len; i++)
	if (memcmp(rec + i, TXT_VERSION, TXT_VERSION_LEN) == 0)
	    return ("\"v=STSv1\" is not the first field (fields swapped?)");
    if (txt_prefix_nocase(rec, len, "v="))
	return ("another protocol's record (its version is not STSv1)");
    return ("not an MTA-STS record (no \"v=STSv1\")");
}

/*
 * txt_why_not - the reason for "no record begins with v=STSv1;": what is
 * wrong with the records found (RFC 8461 §3.1 discards them all).
 */
static void txt_why_not(const char *const *records, const size_t *lens, size_t count, WHY *why)
{
    char    buf[WHY_MAX];
    size_t  i;

    if (count == 0) {
	why_set(why, "no v=STSv1 record");
	return;
    }
    if (count == 1) {
	why_set(why, "no v=STSv1 record: %s", txt_problem(records[0], lens[0]));
	return;
    }
    buf[0] = 0;
    for (i = 0; i < count && i < 4; i++)
	(void) str_appendf(buf, sizeof(buf), "%srecord %lu: %s", i ? "; " : "", (unsigned long) i + 1,
			   txt_problem(records[i], lens[i]));
    why_set(why, "no v=STSv1 record among %lu: %s", (unsigned long) count, buf);
}

/* txt_select - pick the one STSv1 record among a name's TXT records */

int     txt_select(const char *const *records, const size_t *lens, size_t count,
		           TXT_RECORD *out, WHY *why)
{
    size_t  i;
    size_t  found = 0;
    size_t  which = 0;
    int     result = STATUS_INVAL;

    if (out)
	out->id[0] = 0;
    if (count > 0 && (records == 0 || lens == 0)) {
	why_set(why, "no records");
	goto out;
    }
    /* RFC 8461 §3.1: records that do not begin with "v=STSv1;" are discarded. */
    for (i = 0; i < count; i++) {
	if (records[i] != 0 && lens[i] >= TXT_SELECT_PREFIX_LEN
	    && memcmp(records[i], TXT_SELECT_PREFIX, TXT_SELECT_PREFIX_LEN) == 0) {
	    found++;
	    which = i;
	}
    }
    if (found == 0) {
	txt_why_not(records, lens, count, why);
	result = STATUS_NOTFOUND;
	goto out;
    }
    /* RFC 8461 §3.1: more than one record remaining: assume no policy. */
    if (found > 1) {
	why_set(why, "multiple v=STSv1 records");
	goto out;
    }
    if ((result = txt_parse(records[which], lens[which], out, why)) != STATUS_OK)
	why_prefix(why, "invalid v=STSv1 record");

out:
    return (result);
}

/* txt_join_rdata - concatenate the character-strings of one TXT RDATA */

size_t  txt_join_rdata(const unsigned char *rdata, size_t rdlen, char *out,
			       size_t outsize)
{
    size_t  pos = 0;
    size_t  used = 0;
    size_t  n;
    size_t  result = (size_t) -1;

    if (out == 0 || outsize == 0)
	goto out;
    out[0] = 0;

    /* RFC 1035 §3.3.14: TXT-DATA is one or more <character-string>s. */
    if (rdata == 0 || rdlen == 0)
	goto out;
    while (pos < rdlen) {
	/* RFC 1035 §3.3: a <character-string> is a length octet and that many octets. */
	n = rdata[pos++];
	if (n > rdlen - pos)
	    goto out;				/* runs past the RDATA */
	if (n > 0 && memchr(rdata + pos, 0, n) != 0)
	    goto out;				/* NUL: cannot be a C string */
	/* RFC 8461 §3.1: strings are concatenated without adding spaces. */
	if (n >= outsize - used)
	    goto out;				/* no room for it and the NUL */
	memcpy(out + used, rdata + pos, n);
	used += n;
	pos += n;
    }
    out[used] = 0;
    result = used;

out:
    if (result == (size_t) -1 && out != 0 && outsize > 0)
	out[0] = 0;
    return (result);
}
