/*
 * NAME
 *	domain 3
 * SUMMARY
 *	recipient domain normalization (IDNA through libidn2)
 * DESCRIPTION
 *	See domain.h. The only module that calls libidn2.
 */

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>

#include "domain.h"
#include "status.h"
#include "str.h"

#define DOMAIN_INPUT_MAX	1024	/* refuse anything longer unread */

/*
 * RFC 1123 §2.1 and RFC 5890 §2.3.1: LDH labels of 1-63 octets, no
 * leading or trailing hyphen; a name of at most 253 octets (RFC 1035
 * §2.3.4 without the root label). RFC 3696 §2: a top-level label is
 * never all-numeric, which also keeps dotted quads out.
 */
static int domain_ldh_check(const char *name, WHY *why)
{
    const char *p;
    const char *label = name;
    size_t  len = strlen(name);
    int     numeric = 1;

    if (len == 0) {
	why_set(why, "empty domain");
	return (STATUS_INVAL);
    }
    if (len > DOMAIN_MAX) {
	why_set(why, "domain longer than %d characters", DOMAIN_MAX);
	return (STATUS_INVAL);
    }
    for (p = name;; p++) {
	if (*p == '.' || *p == 0) {
	    size_t  llen = (size_t) (p - label);

	    if (llen == 0) {
		why_set(why, "empty label in domain");
		return (STATUS_INVAL);
	    }
	    if (llen > 63) {
		why_set(why, "label longer than 63 characters");
		return (STATUS_INVAL);
	    }
	    if (label[0] == '-' || p[-1] == '-') {
		why_set(why, "label begins or ends with \"-\"");
		return (STATUS_INVAL);
	    }
	    if (*p == 0)
		break;
	    label = p + 1;
	    numeric = 1;
	    continue;
	}
	if (*p >= '0' && *p <= '9')
	    continue;
	numeric = 0;
	if (!((*p >= 'a' && *p <= 'z') || *p == '-')) {
	    why_set(why, "character not allowed in a domain name (letters, digits, \"-\" and \".\")");
	    return (STATUS_INVAL);
	}
    }
    if (numeric) {
	why_set(why, "the last label is all digits (an address, not a domain)");
	return (STATUS_INVAL);
    }
    return (STATUS_OK);
}

int     domain_normalize(const char *in, char *out, size_t outsize, WHY *why)
{
    char    buf[DOMAIN_INPUT_MAX + 1];
    char   *ascii = 0;
    size_t  len;
    int     non_ascii = 0;
    int     rc;
    int     status = STATUS_INVAL;
    unsigned char in6[16];
    const char *p;

    if (outsize > 0)
	out[0] = 0;
    len = strnlen(in, DOMAIN_INPUT_MAX + 1);
    if (len > DOMAIN_INPUT_MAX) {
	why_set(why, "domain longer than %d characters", DOMAIN_MAX);
	goto done;
    }
    memcpy(buf, in, len + 1);
    /* RFC 5321 §4.1.3: address literals are not domains. */
    if (buf[0] == '[' || strchr(buf, ':') != 0 || inet_pton(AF_INET6, buf, in6) == 1) {
	why_set(why, "address literal, not a domain");
	goto done;
    }
    /* One trailing dot (the root) is dropped. */
    if (len > 1 && buf[len - 1] == '.')
	buf[--len] = 0;
    for (p = buf; *p; p++) {
	if ((unsigned char) *p >= 0x80)
	    non_ascii = 1;
	else if ((unsigned char) *p < 0x21 || *p == 0x7f) {
	    why_set(why, "space or control character in domain");
	    goto done;
	}
    }
    if (non_ascii) {
	/* RFC 5891 §5 (IDNA2008) with UTS #46 non-transitional mapping: U-labels to A-labels. */
	rc = idn2_to_ascii_8z(buf, &ascii, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK) {
	    why_set(why, "invalid internationalized domain: %s", idn2_strerror(rc));
	    goto done;
	}
	if (str_copy(buf, sizeof(buf), ascii) != 0) {
	    why_set(why, "domain too long");
	    goto done;
	}
    }
    str_lower(buf);
    if ((status = domain_ldh_check(buf, why)) != STATUS_OK)
	goto done;
    if (str_copy(out, outsize, buf) != 0) {
	why_set(why, "domain too long");
	status = STATUS_INVAL;
	goto done;
    }
    status = STATUS_OK;

done:
    if (ascii)
	idn2_free(ascii);
    return (status);
}

int     domain_from_address(const char *addr, char *out, size_t outsize, WHY *why)
{
    char    buf[DOMAIN_INPUT_MAX + 1];
    const char *at;
    size_t  len;

    if (outsize > 0)
	out[0] = 0;
    len = strnlen(addr, DOMAIN_INPUT_MAX + 1);
    if (len > DOMAIN_INPUT_MAX) {
	why_set(why, "address too long");
	return (STATUS_INVAL);
    }
    memcpy(buf, addr, len + 1);
    /* RFC 5321 §4.1.2: Path = "<" [ A-d-l ":" ] Mailbox ">" */
    if (len >= 2 && buf[0] == '<' && buf[len - 1] == '>') {
	buf[len - 1] = 0;
	memmove(buf, buf + 1, len - 1);
    }
    if (buf[0] == 0) {
	why_set(why, "null address, no domain");
	return (STATUS_INVAL);
    }
    /* The domain follows the last "@" (a quoted local part may hold one). */
    if ((at = strrchr(buf, '@')) == 0 || at[1] == 0) {
	why_set(why, "address without a domain");
	return (STATUS_INVAL);
    }
    return (domain_normalize(at + 1, out, outsize, why));
}
