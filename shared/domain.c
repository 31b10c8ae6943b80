/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	domain 3
 * SUMMARY
 *	recipient domain normalization (IDNA through libidn2)
 * SYNOPSIS
 *	#include "domain.h"
 * DESCRIPTION
 *	See domain.h for the API. The only module that includes idn2.h.
 *
 *	domain_normalize() works in this order:
 *
 *	1. Refuse address literals before anything else: a leading "["
 *	   (RFC 5321 section 4.1.3), any ":" (IPv6), and, after
 *	   conversion, an all-numeric last label (dotted quads).
 *	2. Drop one trailing dot (the root).
 *	3. A name with a non-ASCII octet goes through libidn2
 *	   (idn2_to_ascii_8z with IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL:
 *	   IDNA2008, RFC 5891, with UTS #46 non-transitional mapping, so
 *	   "faß" stays "faß" and upper case maps to lower case). Invalid
 *	   UTF-8 or a disallowed code point is refused with libidn2's
 *	   reason. A pure-ASCII name does not go through libidn2: it is
 *	   lowercased and checked as below, so that normalizing a result
 *	   again gives it back unchanged (one name, one cache key).
 *	4. Lowercase, then the host name checks of RFC 1123 section 2.1
 *	   and RFC 1035 section 2.3.4: letters, digits and "-" only, no
 *	   label beginning or ending with "-", labels of 1 to 63 octets,
 *	   at most 253 octets in all.
 *
 *	Pure-ASCII "xn--" labels are taken as they are (not decoded and
 *	checked): the DNS lookup that follows decides whether they exist.
 *
 *	domain_from_address() strips one pair of angle brackets (RFC 5321
 *	section 4.1.2 Path; an unbalanced one is refused) and takes what
 *	follows the last "@", which also skips a source route and a
 *	quoted local part holding "@". The null path "<>" is refused.
 *
 *	Inputs longer than DOMAIN_INPUT_MAX octets are refused unread.
 *	Error texts never quote the input.
 */

#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "domain.h"
#include "status.h"
#include "str.h"
#include "why.h"

#define DOMAIN_INPUT_MAX	1024	/* refuse anything longer unread */
#define DOMAIN_LABEL_MAX	63	/* RFC 1035 §2.3.4 */

/*
 * domain_ldh_check - lowercase name (len octets) in place and check the
 * RFC 1123 §2.1 host name syntax, in one pass
 */
static int domain_ldh_check(char *name, size_t len, WHY *why)
{
    char   *p;
    const char *label = name;
    int     numeric = 1;
    int     result = STATUS_INVAL;

    if (len == 0) {
	why_set(why, "empty domain");
	goto out;
    }
    /* RFC 1035 §2.3.4: 255 octets on the wire, 253 in text without the root dot. */
    if (len > DOMAIN_MAX) {
	why_set(why, "domain longer than %d characters", DOMAIN_MAX);
	goto out;
    }
    for (p = name;; p++) {
	if (*p == '.' || *p == 0) {
	    size_t  llen = (size_t) (p - label);

	    /* RFC 1035 §2.3.1: labels are 1 to 63 octets. */
	    if (llen == 0) {
		why_set(why, "empty label in domain");
		goto out;
	    }
	    if (llen > DOMAIN_LABEL_MAX) {
		why_set(why, "label longer than %d characters", DOMAIN_LABEL_MAX);
		goto out;
	    }
	    /* RFC 1123 §2.1, RFC 5890 §2.3.1: no hyphen at either end of a label. */
	    if (label[0] == '-' || p[-1] == '-') {
		why_set(why, "label begins or ends with \"-\"");
		goto out;
	    }
	    if (*p == 0)
		break;
	    label = p + 1;
	    numeric = 1;
	    continue;
	}
	if (*p >= '0' && *p <= '9')
	    continue;
	if (*p >= 'A' && *p <= 'Z')
	    *p = (char) (*p - 'A' + 'a');
	numeric = 0;
	/* RFC 1123 §2.1: letters, digits and hyphen (LDH). */
	if (!((*p >= 'a' && *p <= 'z') || *p == '-')) {
	    why_set(why, "character not allowed in a domain name (letters, digits, \"-\" and \".\")");
	    goto out;
	}
    }
    /* RFC 1123 §2.1, RFC 3696 §2: a top-level label is never all-numeric (no dotted quads). */
    if (numeric) {
	why_set(why, "the last label is all digits (an address, not a domain)");
	goto out;
    }
    result = STATUS_OK;

out:
    return (result);
}

/* domain_normalize - a domain to its lookup and cache-key form */

int     domain_normalize(const char *in, char *out, size_t outsize, WHY *why)
{
    char    buf[DOMAIN_INPUT_MAX + 1];
    char   *ascii = 0;
    size_t  len;
    int     non_ascii = 0;
    int     control = 0;
    int     colon = 0;
    int     rc;
    int     result = STATUS_INVAL;
    unsigned char c;

    if (out != 0 && outsize > 0)
	out[0] = 0;
    if (in == 0 || out == 0) {
	why_set(why, "no domain");
	goto out;
    }
    /* One pass: copy (at most DOMAIN_INPUT_MAX octets) and classify. */
    for (len = 0; len <= DOMAIN_INPUT_MAX && (c = (unsigned char) in[len]) != 0; len++) {
	buf[len] = (char) c;
	if (c >= 0x80)
	    non_ascii = 1;
	else if (c < 0x21 || c == 0x7f)
	    control = 1;
	else if (c == ':')
	    colon = 1;
    }
    if (len > DOMAIN_INPUT_MAX) {
	why_set(why, "domain longer than %d characters", DOMAIN_MAX);
	goto out;
    }
    buf[len] = 0;
    /* RFC 5321 §4.1.3: an address literal ("[...]", IPv6 with ":") is not a domain. */
    if (buf[0] == '[' || colon) {
	why_set(why, "address literal, not a domain");
	goto out;
    }
    /* RFC 1034 §3.1: one trailing dot is the root; it is dropped. */
    if (len > 1 && buf[len - 1] == '.')
	buf[--len] = 0;
    if (control) {
	why_set(why, "space or control character in domain");
	goto out;
    }
    if (non_ascii) {
	/* RFC 5891 §5 (IDNA2008) with UTS #46 non-transitional mapping: U-labels to A-labels. */
	rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
	    why_set(why, "invalid internationalized domain: %s", idn2_strerror(rc));
	    goto out;
	}
	if (str_copy(buf, sizeof(buf), ascii) != 0) {
	    why_set(why, "domain longer than %d characters", DOMAIN_MAX);
	    goto out;
	}
	len = strlen(buf);
    }
    if (domain_ldh_check(buf, len, why) != STATUS_OK)
	goto out;
    if (len >= outsize) {
	why_set(why, "domain does not fit the result buffer");
	goto out;
    }
    memcpy(out, buf, len + 1);
    result = STATUS_OK;

out:
    if (ascii)
	idn2_free(ascii);
    return (result);
}

/* domain_from_address - the normalized domain of an envelope address */

int     domain_from_address(const char *addr, char *out, size_t outsize, WHY *why)
{
    char    buf[DOMAIN_INPUT_MAX + 1];
    const char *at;
    size_t  len;
    int     result = STATUS_INVAL;

    if (out != 0 && outsize > 0)
	out[0] = 0;
    if (addr == 0) {
	why_set(why, "no address");
	goto out;
    }
    len = strnlen(addr, DOMAIN_INPUT_MAX + 1);
    if (len > DOMAIN_INPUT_MAX) {
	why_set(why, "address too long");
	goto out;
    }
    memcpy(buf, addr, len + 1);
    /* RFC 5321 §4.1.2: Path = "<" [ A-d-l ":" ] Mailbox ">" */
    if (len >= 2 && buf[0] == '<' && buf[len - 1] == '>') {
	buf[len - 1] = 0;
	memmove(buf, buf + 1, len - 1);
    } else if (len > 0 && (buf[0] == '<' || buf[len - 1] == '>')) {
	why_set(why, "unbalanced angle brackets in address");
	goto out;
    }
    /* RFC 5321 §4.1.1.2: the null reverse-path "<>" has no domain. */
    if (buf[0] == 0) {
	why_set(why, "null address, no domain");
	goto out;
    }
    /* RFC 5321 §4.1.2: Mailbox = Local-part "@" ( Domain / address-literal ); the last "@". */
    if ((at = strrchr(buf, '@')) == 0 || at[1] == 0) {
	why_set(why, "address without a domain");
	goto out;
    }
    result = domain_normalize(at + 1, out, outsize, why);

out:
    return (result);
}
