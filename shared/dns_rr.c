/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	dns_rr 3
 * SUMMARY
 *	DNS names and RDATA to dns.h results
 * SYNOPSIS
 *	See dns_rr.h.
 * DESCRIPTION
 *	The pure half of dns.c, split from it so that it can be tested and
 *	fuzzed with bytes (tests/fuzz/fuzz_dns.c): name checks, wire-format
 *	names, and the conversion of an answer's RDATA into DNS_TXT,
 *	DNS_MX, DNS_TLSA and DNS_ADDR. No I/O, no libunbound, no state.
 *
 *	RDATA is parsed here with bounds checks (libunbound hands over
 *	uncompressed RDATA). A malformed record is skipped with log_warn();
 *	at most DNS_LIST_MAX records are kept per RRset (the rest is
 *	dropped with log_warn(); MX keeps the most preferred).
 *
 *	Names: at most 253 octets in text form without the trailing dot,
 *	labels of 1-63 octets (RFC 1035 section 2.3.4) of letters, digits,
 *	hyphen and underscore (underscore for _mta-sts, _25._tcp etc.,
 *	RFC 8552). Anything else is STATUS_INVAL.
 *
 *	Memory: results are allocated here and freed by the matching
 *	dns_*_free() of dns.c; on any error nothing is left allocated.
 * SEE ALSO
 *	RFC 1035 (DNS), RFC 3596 (AAAA), RFC 3597 section 4, RFC 5321
 *	section 5.1 (MX order), RFC 7505 (null MX), RFC 6698 and RFC 7672
 *	(TLSA), RFC 8461 section 3.1 (TXT).
 */

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns_rr.h"
#include "log.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "txt.h"

/* dns_rr_type_name - RR type name for messages */

const char *dns_rr_type_name(int type)
{
    switch (type) {
    case DNS_T_A:
	return ("A");
    case DNS_T_MX:
	return ("MX");
    case DNS_T_TXT:
	return ("TXT");
    case DNS_T_AAAA:
	return ("AAAA");
    case DNS_T_TLSA:
	return ("TLSA");
    default:
	return ("?");
    }
}

/* dns_label_char - allowed octet in a name we look up or accept */

static int dns_label_char(int c)
{
    return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	    || (c >= '0' && c <= '9') || c == '-' || c == '_');
}

 /*
  * dns_rr_name_norm - check a text-form name and copy it lowercased without
  * the trailing dot. RFC 1035 section 2.3.4: labels of 63 octets or less,
  * names of 255 octets or less in wire form, i.e. 253 in text form.
  */
int     dns_rr_name_norm(const char *name, char *out, size_t size, WHY *why)
{
    char    safe[80];
    size_t  len;
    size_t  label = 0;
    size_t  i;
    int     result = STATUS_INVAL;

    if (size > 0)
	out[0] = 0;
    if (name == 0 || *name == 0) {
	why_set(why, "empty DNS name");
	goto out;
    }
    len = strnlen(name, DNS_HOST_MAX + 2);
    if (len > 1 && name[len - 1] == '.')
	len--;
    (void) text_sanitize_len(safe, sizeof(safe), name, len);
    if (len > DNS_HOST_MAX || len + 1 > size) {
	why_set(why, "DNS name \"%s...\" is longer than %d octets", safe, DNS_HOST_MAX);
	goto out;
    }
    for (i = 0; i < len; i++) {
	if (name[i] == '.') {
	    if (label == 0) {
		why_set(why, "DNS name \"%s\" has an empty label", safe);
		goto out;
	    }
	    label = 0;
	    continue;
	}
	if (!dns_label_char((unsigned char) name[i])) {
	    why_set(why, "DNS name \"%s\" contains an invalid character", safe);
	    goto out;
	}
	if (++label > DNS_LABEL_MAX) {
	    why_set(why, "DNS name \"%s\" has a label longer than %d octets",
		    safe, DNS_LABEL_MAX);
	    goto out;
	}
    }
    if (label == 0) {
	why_set(why, "DNS name \"%s\" has an empty label", safe);
	goto out;
    }
    memcpy(out, name, len);
    out[len] = 0;
    str_lower(out);
    result = STATUS_OK;
out:
    return (result);
}

/* dns_rr_same_name - case-insensitive, trailing dot ignored */

int     dns_rr_same_name(const char *a, const char *b)
{
    size_t  la = strlen(a);
    size_t  lb = strlen(b);

    if (la > 1 && a[la - 1] == '.')
	la--;
    if (lb > 1 && b[lb - 1] == '.')
	lb--;
    return (la == lb && strncasecmp(a, b, la) == 0);
}

 /*
  * dns_rr_wire_name - decode an uncompressed wire-format name (RFC 1035
  * section 3.1) at rdata[0..len) into lowercase text without the trailing
  * dot ("" for the root). Compression pointers and extended label types
  * are refused (RFC 3597 section 4: no compression in RDATA of newer
  * types; libunbound decompresses MX). Returns the octets consumed, or 0.
  */
size_t  dns_rr_wire_name(const unsigned char *rdata, size_t len,
			         char *out, size_t size)
{
    size_t  pos = 0;
    size_t  used = 0;
    size_t  n;
    size_t  i;

    if (size == 0)
	return (0);
    out[0] = 0;
    for (;;) {
	if (pos >= len)
	    return (0);
	n = rdata[pos++];
	if (n == 0)
	    break;
	if (n > DNS_LABEL_MAX || n > len - pos)
	    return (0);
	/* Separator plus label plus NUL must fit, within 253 octets. */
	if (used + (used ? 1 : 0) + n > DNS_HOST_MAX || used + n + 2 > size)
	    return (0);
	if (used)
	    out[used++] = '.';
	for (i = 0; i < n; i++) {
	    if (!dns_label_char(rdata[pos + i]))
		return (0);
	    out[used++] = (char) rdata[pos + i];
	}
	pos += n;
    }
    out[used] = 0;
    str_lower(out);
    return (pos);
}

/* dns_rr_txt - TXT RRset, each RR's strings joined (RFC 8461 section 3.1) */

int     dns_rr_txt(const char *qname, const DNS_RRSET *set, const DNS_INFO *info,
		           DNS_TXT **outp, WHY *why)
{
    DNS_TXT *out = 0;
    size_t  rdlen;
    size_t  joined;
    char   *buf;
    int     n;
    int     i;
    int     result = STATUS_RETRY;

    *outp = 0;
    n = set->count;
    if (n > DNS_LIST_MAX) {
	log_warn("%s: %d TXT records, keeping the first %d", qname, n, DNS_LIST_MAX);
	n = DNS_LIST_MAX;
    }
    if ((out = calloc(1, sizeof(*out))) == 0
	|| (out->text = calloc((size_t) n + 1, sizeof(*out->text))) == 0
	|| (out->len = calloc((size_t) n + 1, sizeof(*out->len))) == 0) {
	why_set(why, "%s: out of memory", qname);
	goto out;
    }
    out->info = *info;
    for (i = 0; i < n; i++) {
	rdlen = (size_t) (set->len[i] < 0 ? 0 : set->len[i]);
	/* The joined text is never longer than the RDATA. */
	if ((buf = malloc(rdlen + 1)) == 0) {
	    why_set(why, "%s: out of memory", qname);
	    goto out;
	}
	/* RFC 1035 section 3.3.14; RFC 8461 section 3.1: no added spaces. */
	joined = txt_join_rdata((const unsigned char *) set->data[i], rdlen,
				buf, rdlen + 1);
	if (joined == (size_t) -1 || joined > rdlen) {
	    log_warn("%s: skipping a malformed TXT record", qname);
	    free(buf);
	    continue;
	}
	out->text[out->count] = buf;
	out->len[out->count] = joined;
	out->count++;
    }
    if (out->count == 0) {
	why_set(why, "%s: no well-formed TXT record", qname);
	result = STATUS_NOTFOUND;
	goto out;
    }
    *outp = out;
    out = 0;
    result = STATUS_OK;
out:
    dns_txt_free(&out);
    return (result);
}

/* dns_rr_addr - append the A or AAAA records of one answer */

void    dns_rr_addr(DNS_ADDR *out, const char *qname, int type,
		            const DNS_RRSET *set)
{
    struct sockaddr_in *sin;
    struct sockaddr_in6 *sin6;
    int     n = set->count;
    int     i;

    for (i = 0; i < n; i++) {
	if (out->count >= DNS_LIST_MAX) {
	    log_warn("%s: more than %d addresses, keeping the first %d",
		     qname, DNS_LIST_MAX, DNS_LIST_MAX);
	    break;
	}
	memset(&out->addr[out->count], 0, sizeof(out->addr[out->count]));
	/* RFC 1035 section 3.4.1: 4 octets; RFC 3596 section 2.2: 16. */
	if (type == DNS_T_A && set->len[i] == 4) {
	    sin = (struct sockaddr_in *) (void *) &out->addr[out->count];
	    sin->sin_family = AF_INET;
	    memcpy(&sin->sin_addr, set->data[i], 4);
	} else if (type == DNS_T_AAAA && set->len[i] == 16) {
	    sin6 = (struct sockaddr_in6 *) (void *) &out->addr[out->count];
	    sin6->sin6_family = AF_INET6;
	    memcpy(&sin6->sin6_addr, set->data[i], 16);
	} else {
	    log_warn("%s: skipping a malformed %s record (%d octets)",
		     qname, dns_rr_type_name(type), set->len[i]);
	    continue;
	}
	out->count++;
    }
}

typedef struct DNS_MX_SORT {
    int     pref;
    int     index;
} DNS_MX_SORT;

/* dns_rr_mx_cmp - by preference, ties in answer order (a stable sort) */

static int dns_rr_mx_cmp(const void *a, const void *b)
{
    const DNS_MX_SORT *x = a;
    const DNS_MX_SORT *y = b;

    if (x->pref != y->pref)
	return (x->pref < y->pref ? -1 : 1);
    return (x->index < y->index ? -1 : x->index > y->index);
}

 /*
  * dns_rr_mx_parse - MX RDATA (RFC 1035 section 3.3.9): a 16-bit preference
  * and an uncompressed host name that fills the rest of the RDATA.
  */
static int dns_rr_mx_parse(const DNS_RRSET *set, int i, int *pref,
			           char *name, size_t size)
{
    const unsigned char *p = (const unsigned char *) set->data[i];
    size_t  len = (size_t) (set->len[i] < 0 ? 0 : set->len[i]);

    if (len < 3)
	return (-1);
    *pref = (p[0] << 8) | p[1];
    if (dns_rr_wire_name(p + 2, len - 2, name, size) != len - 2)
	return (-1);
    return (0);
}

/* dns_rr_mx - MX RRset and null MX */

int     dns_rr_mx(const char *qname, const DNS_RRSET *set, const DNS_INFO *info,
		          DNS_MX **outp, WHY *why)
{
    static const unsigned char null_mx[3] = {0, 0, 0};
    char    name[DNS_NAME_MAX + 1];
    DNS_MX_SORT *sort = 0;
    DNS_MX *out = 0;
    int     nsort = 0;
    int     pref;
    int     n;
    int     i;
    int     result = STATUS_RETRY;

    *outp = 0;
    n = set->count;
    if ((out = calloc(1, sizeof(*out))) == 0
	|| (sort = calloc((size_t) n + 1, sizeof(*sort))) == 0) {
	why_set(why, "%s: out of memory", qname);
	goto out;
    }
    out->info = *info;

    /*
     * RFC 7505 section 3: a null MX is a single MX RR with preference 0
     * and the root as exchange. It is reported with count 0.
     */
    if (n == 1 && set->len[0] == 3 && memcmp(set->data[0], null_mx, 3) == 0) {
	out->null_mx = 1;
	*outp = out;
	out = 0;
	result = STATUS_OK;
	goto out;
    }
    for (i = 0; i < n; i++) {
	if (dns_rr_mx_parse(set, i, &pref, name, sizeof(name)) != 0) {
	    log_warn("%s: skipping a malformed MX record", qname);
	    continue;
	}
	if (name[0] == 0) {
	    /* RFC 7505 section 3: a null MX must be the only MX RR. */
	    log_warn("%s: skipping an MX record for \".\" among other MX "
		     "records or with non-zero preference (RFC 7505)", qname);
	    continue;
	}
	sort[nsort].pref = pref;
	sort[nsort].index = i;
	nsort++;
    }
    if (nsort == 0) {
	why_set(why, "%s: no usable MX record", qname);
	result = STATUS_NOTFOUND;
	goto out;
    }
    /* RFC 5321 section 5.1: lowest preference first. */
    qsort(sort, (size_t) nsort, sizeof(*sort), dns_rr_mx_cmp);
    if (nsort > DNS_LIST_MAX) {
	log_warn("%s: %d MX records, keeping the %d most preferred",
		 qname, nsort, DNS_LIST_MAX);
	nsort = DNS_LIST_MAX;
    }
    if ((out->host = calloc((size_t) nsort, sizeof(*out->host))) == 0) {
	why_set(why, "%s: out of memory", qname);
	goto out;
    }
    for (i = 0; i < nsort; i++) {
	(void) dns_rr_mx_parse(set, sort[i].index, &out->host[i].pref,
			       out->host[i].name, sizeof(out->host[i].name));
	out->count++;
    }
    *outp = out;
    out = 0;
    result = STATUS_OK;
out:
    free(sort);
    dns_mx_free(&out);
    return (result);
}

 /*
  * dns_rr_tlsa - TLSA RDATA (RFC 6698 section 2.1): usage, selector,
  * matching type, then the association data. Records shorter than three
  * octets are skipped; whether the parameters are usable is the caller's
  * business (RFC 7672 section 3.1). When the RRset exists but no record
  * is well-formed, count is 0 (RFC 7672 section 2.2: unusable TLSA).
  */
int     dns_rr_tlsa(const char *qname, const DNS_RRSET *set, const DNS_INFO *info,
		            DNS_TLSA **outp, WHY *why)
{
    const unsigned char *p;
    DNS_TLSA *out = 0;
    size_t  len;
    int     n;
    int     i;
    int     result = STATUS_RETRY;

    *outp = 0;
    n = set->count;
    if (n > DNS_LIST_MAX) {
	log_warn("%s: %d TLSA records, keeping the first %d", qname, n, DNS_LIST_MAX);
	n = DNS_LIST_MAX;
    }
    if ((out = calloc(1, sizeof(*out))) == 0
	|| (out->rr = calloc((size_t) n + 1, sizeof(*out->rr))) == 0) {
	why_set(why, "%s: out of memory", qname);
	goto out;
    }
    out->info = *info;
    for (i = 0; i < n; i++) {
	p = (const unsigned char *) set->data[i];
	len = (size_t) (set->len[i] < 0 ? 0 : set->len[i]);
	if (len < 3) {
	    log_warn("%s: skipping a malformed TLSA record (%zu octets)", qname, len);
	    continue;
	}
	if ((out->rr[out->count].data = malloc(len - 3 + 1)) == 0) {
	    why_set(why, "%s: out of memory", qname);
	    goto out;
	}
	out->rr[out->count].usage = p[0];
	out->rr[out->count].selector = p[1];
	out->rr[out->count].mtype = p[2];
	out->rr[out->count].len = len - 3;
	memcpy(out->rr[out->count].data, p + 3, len - 3);
	out->count++;
    }
    *outp = out;
    out = 0;
    result = STATUS_OK;
out:
    dns_tlsa_free(&out);
    return (result);
}
