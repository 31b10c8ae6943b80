/*
 * NAME
 *	txt 3
 * SUMMARY
 *	MTA-STS TXT record parser (RFC 8461 section 3.1)
 * DESCRIPTION
 *	See txt.h. The grammar, from RFC 8461 section 3.1:
 *
 *	sts-text-record = sts-version 1*(sts-sep sts-field) [sts-sep]
 *	sts-field       = sts-id / sts-extension
 *	sts-version     = %s"v=STSv1"
 *	sts-id          = %s"id=" 1*32(ALPHA / DIGIT)
 *	sts-sep         = *WSP %x3B *WSP
 *	sts-extension   = sts-ext-name "=" sts-ext-value
 *	sts-ext-name    = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
 *	sts-ext-value   = 1*(%x21-3A / %x3C / %x3E-7E)
 *
 *	The grammar allows an id field to repeat; the RFC does not say
 *	which one counts. We refuse a record with two ids, since a sender
 *	cannot know which policy version it announces. The grammar also
 *	requires exactly one id in practice ("id" is what triggers a
 *	refetch), so a record without one is invalid.
 */

#include <string.h>

#include "status.h"
#include "str.h"
#include "txt.h"

#define TXT_IS_ALPHA(c)	(((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define TXT_IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define TXT_IS_WSP(c)	((c) == ' ' || (c) == '\t')

/* RFC 8461 §3.1: sts-ext-value = 1*(%x21-3A / %x3C / %x3E-7E) */
#define TXT_IS_EXT_VALUE(c) ((c) >= 0x21 && (c) <= 0x7e && (c) != ';' && (c) != '=')

static const char txt_version[] = "v=STSv1";

/* Parse one sts-field at s[0..len); returns 0, or -1 with a reason. */

static int txt_field(const char *s, size_t len, TXT_RECORD *out, int *have_id, WHY *why)
{
    size_t  name_len;
    size_t  i;
    const char *eq = memchr(s, '=', len);

    if (eq == 0) {
	why_set(why, "field without \"=\"");
	return (-1);
    }
    name_len = (size_t) (eq - s);
    if (name_len == 2 && memcmp(s, "id", 2) == 0) {
	/* RFC 8461 §3.1: sts-id = %s"id=" 1*32(ALPHA / DIGIT) */
	size_t  id_len = len - 3;

	if (*have_id) {
	    why_set(why, "more than one id field");
	    return (-1);
	}
	if (id_len < 1 || id_len > TXT_ID_MAX) {
	    why_set(why, "id must be 1 to %d letters or digits", TXT_ID_MAX);
	    return (-1);
	}
	for (i = 3; i < len; i++) {
	    if (!TXT_IS_ALPHA(s[i]) && !TXT_IS_DIGIT(s[i])) {
		why_set(why, "id may contain only letters and digits");
		return (-1);
	    }
	}
	memcpy(out->id, s + 3, id_len);
	out->id[id_len] = 0;
	*have_id = 1;
	return (0);
    }
    /* RFC 8461 §3.1: sts-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".") */
    if (name_len < 1 || name_len > 32 || !(TXT_IS_ALPHA(s[0]) || TXT_IS_DIGIT(s[0]))) {
	why_set(why, "bad extension field name");
	return (-1);
    }
    for (i = 1; i < name_len; i++) {
	if (!TXT_IS_ALPHA(s[i]) && !TXT_IS_DIGIT(s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.') {
	    why_set(why, "bad extension field name");
	    return (-1);
	}
    }
    if (name_len + 1 >= len) {
	why_set(why, "empty extension field value");
	return (-1);
    }
    for (i = name_len + 1; i < len; i++) {
	if (!TXT_IS_EXT_VALUE((unsigned char) s[i])) {
	    why_set(why, "bad character in extension field value");
	    return (-1);
	}
    }
    return (0);
}

int     txt_parse(const char *s, size_t len, TXT_RECORD *out, WHY *why)
{
    size_t  pos;
    size_t  end;
    size_t  field_end;
    int     have_id = 0;
    int     fields = 0;

    memset(out, 0, sizeof(*out));
    if (len > TXT_RECORD_MAX) {
	why_set(why, "record longer than %d bytes", TXT_RECORD_MAX);
	return (STATUS_INVAL);
    }
    if (memchr(s, 0, len) != 0) {
	why_set(why, "record contains a NUL byte");
	return (STATUS_INVAL);
    }
    /* RFC 8461 §3.1: sts-version = %s"v=STSv1", case-sensitive, first. */
    if (len < sizeof(txt_version) - 1 || memcmp(s, txt_version, sizeof(txt_version) - 1) != 0) {
	why_set(why, "record does not begin with \"v=STSv1\"");
	return (STATUS_INVAL);
    }
    pos = sizeof(txt_version) - 1;
    for (;;) {
	/* sts-sep = *WSP %x3B *WSP */
	end = pos;
	while (end < len && TXT_IS_WSP(s[end]))
	    end++;
	if (end == len) {
	    if (end != pos) {
		why_set(why, "trailing white space without \";\"");
		return (STATUS_INVAL);
	    }
	    break;				/* end of record */
	}
	if (s[end] != ';') {
	    why_set(why, "fields must be separated by \";\"");
	    return (STATUS_INVAL);
	}
	end++;
	while (end < len && TXT_IS_WSP(s[end]))
	    end++;
	if (end == len)
	    break;				/* [sts-sep] at the end */
	field_end = end;
	while (field_end < len && s[field_end] != ';' && !TXT_IS_WSP(s[field_end]))
	    field_end++;
	if (txt_field(s + end, field_end - end, out, &have_id, why) != 0)
	    return (STATUS_INVAL);
	fields++;
	pos = field_end;
    }
    /* 1*(sts-sep sts-field), and the id is required. */
    if (fields == 0 || !have_id) {
	why_set(why, "record has no id field");
	return (STATUS_INVAL);
    }
    return (STATUS_OK);
}

int     txt_select(const char *const *records, const size_t *lens, size_t count,
		           TXT_RECORD *out, WHY *why)
{
    size_t  i;
    size_t  found = 0;
    size_t  which = 0;
    WHY     reason;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < count; i++) {
	/*
	 * RFC 8461 §3.1: records that do not begin with "v=STSv1;" are
	 * discarded. The ABNF allows white space before the ";" (sts-sep), so
	 * "v=STSv1" followed by ";", a blank or the end counts; "v=STSv10" not.
	 */
	if (lens[i] >= sizeof(txt_version) - 1
	    && memcmp(records[i], txt_version, sizeof(txt_version) - 1) == 0
	    && (lens[i] == sizeof(txt_version) - 1 || records[i][sizeof(txt_version) - 1] == ';'
		|| TXT_IS_WSP(records[i][sizeof(txt_version) - 1]))) {
	    found++;
	    which = i;
	}
    }
    if (found == 0) {
	why_set(why, "no v=STSv1 record");
	return (STATUS_NOTFOUND);
    }
    /* RFC 8461 §3.1: if the number of resulting records is not one ... no policy. */
    if (found > 1) {
	why_set(why, "%lu v=STSv1 records; exactly one is allowed", (unsigned long) found);
	return (STATUS_INVAL);
    }
    reason.text[0] = 0;
    if (txt_parse(records[which], lens[which], out, &reason) != STATUS_OK) {
	why_set(why, "invalid v=STSv1 record: %s", reason.text);
	return (STATUS_INVAL);
    }
    return (STATUS_OK);
}

size_t  txt_join_rdata(const unsigned char *rdata, size_t rdlen, char *out, size_t outsize)
{
    size_t  pos = 0;
    size_t  used = 0;
    size_t  n;

    if (outsize == 0)
	return ((size_t) -1);
    /* RFC 1035 §3.3.14: TXT-DATA is one or more <character-string>s. */
    while (pos < rdlen) {
	n = rdata[pos++];
	if (n > rdlen - pos) {
	    out[0] = 0;
	    return ((size_t) -1);		/* string runs past the RDATA */
	}
	if (memchr(rdata + pos, 0, n) != 0 || used + n + 1 > outsize) {
	    out[0] = 0;
	    return ((size_t) -1);
	}
	/* RFC 8461 §3.1: strings are concatenated without adding spaces. */
	memcpy(out + used, rdata + pos, n);
	used += n;
	pos += n;
    }
    out[used] = 0;
    return (used);
}
