/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	rcpt 3
 * SUMMARY
 *	the domain of an envelope recipient, read from the raw address
 * SYNOPSIS
 *	#include "rcpt.h"
 * DESCRIPTION
 *	See rcpt.h for the API. The grammar, RFC 5321 section 4.1.2 with
 *	RFC 6531 section 3.3:
 *
 *	Path          = "<" [ A-d-l ":" ] Mailbox ">"
 *	A-d-l         = At-domain *( "," At-domain )
 *	Mailbox       = Local-part "@" ( Domain / address-literal )
 *	Local-part    = Dot-string / Quoted-string
 *	Dot-string    = Atom *("." Atom); atext =/ UTF8-non-ascii
 *	Quoted-string = DQUOTE *( qtextSMTP / quoted-pairSMTP ) DQUOTE
 *	qtextSMTP     = %d32-33 / %d35-91 / %d93-126 / UTF8-non-ascii
 *	quoted-pairSMTP = %d92 %d32-126
 *	address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" dcontent ) "]"
 *
 *	Where implementations differ: a Dot-string is read without the
 *	dot rules (a leading, trailing or doubled "." is taken as the MTA
 *	took it; such addresses exist, and the domain is not in doubt), but
 *	an unquoted "@" in the local part is refused (RFC 5321: "@" is not
 *	atext; "a@b@c" is not a mailbox, whatever an MTA routes it to).
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "rcpt.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "why.h"

/* rcpt_atext - RFC 5322 section 3.2.3 atext, plus UTF-8 (RFC 6531 section 3.3) */

static int rcpt_atext(unsigned char c)
{
    if (c >= 0x80)
	return (1);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
	return (1);
    return (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != 0);
}

/* rcpt_literal - RFC 5321 section 4.1.3 address literal, without the brackets */

static int rcpt_literal(const char *s, size_t len)
{
    char    buf[128];
    unsigned char bin[sizeof(struct in6_addr)];
    const char *colon;
    size_t  i;

    if (len == 0 || len >= sizeof(buf))
	return (0);
    /* dcontent = %d33-90 / %d94-126 */
    for (i = 0; i < len; i++)
	if ((unsigned char) s[i] < 33 || (unsigned char) s[i] > 126 || s[i] == '[' || s[i] == '\\'
	    || s[i] == ']')
	    return (0);
    memcpy(buf, s, len);
    buf[len] = 0;
    if (strncasecmp(buf, "IPv6:", 5) == 0)
	return (inet_pton(AF_INET6, buf + 5, bin) == 1);
    if ((colon = strchr(buf, ':')) == 0)
	return (inet_pton(AF_INET, buf, bin) == 1);
    /* General-address-literal = Standardized-tag ":" 1*dcontent */
    for (i = 0; buf + i < colon; i++)
	if (!((buf[i] >= 'a' && buf[i] <= 'z') || (buf[i] >= 'A' && buf[i] <= 'Z')
	      || (buf[i] >= '0' && buf[i] <= '9') || buf[i] == '-'))
	    return (0);
    return (i > 0 && colon[1] != 0);
}

/* rcpt_domain - the normalized domain of a raw envelope recipient */

int     rcpt_domain(const char *addr, char *domain, size_t size, WHY *why)
{
    char    buf[RCPT_INPUT_MAX + 1];
    const char *p;
    const char *end;
    const char *start;
    const char *at;
    size_t  len;
    int     result = STATUS_INVAL;

    if (domain != 0 && size > 0)
	domain[0] = 0;
    if (addr == 0 || domain == 0 || size == 0) {
	why_set(why, "no address");
	goto out;
    }
    if ((len = strnlen(addr, RCPT_INPUT_MAX + 1)) > RCPT_INPUT_MAX) {
	why_set(why, "address longer than %d octets", RCPT_INPUT_MAX);
	goto out;
    }
    p = addr;
    end = addr + len;

    /* RFC 5321 §4.1.2: Path = "<" [ A-d-l ":" ] Mailbox ">"; the brackets come in a pair. */
    if (len > 0 && *p == '<') {
	if (len < 2 || end[-1] != '>') {
	    why_set(why, "unbalanced angle brackets in address");
	    goto out;
	}
	p++;
	end--;
    }
    if (p == end) {
	why_set(why, "null address, no domain");
	goto out;
    }

    /* RFC 5321 §4.1.2 and appendix C: a source route "@a,@b:" is ignored. */
    if (*p == '@') {
	for (;;) {
	    start = ++p;			/* after "@" */
	    while (p < end && *p != ',' && *p != ':' && *p != '@')
		p++;
	    if (p == start || p == end || *p == '@') {
		why_set(why, "malformed source route");
		goto out;
	    }
	    if (*p++ == ':')
		break;
	    if (p == end || *p != '@') {	/* "," At-domain */
		why_set(why, "malformed source route");
		goto out;
	    }
	}
    }

    /* RFC 5321 §4.1.2 Local-part = Dot-string / Quoted-string (RFC 6531 §3.3: UTF-8 too). */
    if (p < end && *p == '"') {
	for (p++;; p++) {
	    if (p == end) {
		why_set(why, "unterminated quoted local part");
		goto out;
	    }
	    if (*p == '"')
		break;
	    if (*p == '\\') {
		/* quoted-pairSMTP = %d92 %d32-126 */
		if (p + 1 == end || (unsigned char) p[1] < 32 || (unsigned char) p[1] > 126) {
		    why_set(why, "malformed quoted pair in the local part");
		    goto out;
		}
		p++;
		continue;
	    }
	    /* qtextSMTP: every printable but DQUOTE and backslash; UTF-8. */
	    if ((unsigned char) *p < 32 || *p == 0x7f) {
		why_set(why, "control character in the local part");
		goto out;
	    }
	}
	p++;					/* the closing DQUOTE */
    } else {
	for (start = p; p < end && *p != '@'; p++) {
	    if (*p != '.' && !rcpt_atext((unsigned char) *p)) {
		why_set(why, "character not allowed in the local part");
		goto out;
	    }
	}
	if (p == start) {
	    why_set(why, "empty local part");
	    goto out;
	}
	/* RFC 5321 §4.1.1.3: "postmaster" without a domain is a local mailbox. */
	if (p == end && (size_t) (p - start) == 10 && strncasecmp(start, "postmaster", 10) == 0) {
	    result = STATUS_NOTFOUND;
	    goto out;
	}
    }
    if (p == end || *p != '@') {
	why_set(why, "address without a domain");
	goto out;
    }
    at = p;
    len = (size_t) (end - (at + 1));
    if (len == 0) {
	why_set(why, "address without a domain");
	goto out;
    }
    memcpy(buf, at + 1, len);
    buf[len] = 0;

    /* RFC 5321 §4.1.3: an address literal names a host, not a domain: nothing to check. */
    if (buf[0] == '[') {
	if (buf[len - 1] != ']' || !rcpt_literal(buf + 1, len - 2)) {
	    why_set(why, "malformed address literal");
	    goto out;
	}
	if (str_copy(domain, size, buf) != 0) {
	    domain[0] = 0;
	    why_set(why, "address literal too long");
	    goto out;
	}
	result = STATUS_NOTFOUND;
	goto out;
    }
    /* Domain, or a U-label domain (RFC 6531 §3.3): domain.c does IDNA and the lengths. */
    result = domain_normalize(buf, domain, size, why);

out:
    return (result);
}

/* rcpt_show - the recipient as shown in logs and replies */

size_t  rcpt_show(char *buf, size_t size, const char *addr)
{
    char    tmp[RCPT_INPUT_MAX + 1];
    const char *p = addr ? addr : "";
    const char *tail;
    size_t  len;
    size_t  tlen;
    size_t  head;

    if (size == 0)
	return (0);
    len = strnlen(p, RCPT_INPUT_MAX);
    if (len > 0 && *p == '<') {
	p++;
	len--;
	if (len > 0 && p[len - 1] == '>')
	    len--;
    }
    len = text_sanitize_len(tmp, sizeof(tmp), p, len);
    if (len < size) {
	memcpy(buf, tmp, len + 1);
	return (len);
    }
    /* Too long: shorten the local part, keep "@domain" when it fits in half. */
    tail = strrchr(tmp, '@');
    tlen = tail ? strlen(tail) : 0;
    if (size < 8 || tlen == 0 || tlen > (size - 1) / 2) {
	tail = "";
	tlen = 0;
    }
    head = size - 1 - 3 - tlen;
    if (size < 4)
	head = size - 1;
    memcpy(buf, tmp, head);
    buf[head] = 0;
    if (size >= 4)
	(void) str_append(buf, size, "...");
    (void) str_append(buf, size, tail);
    return (strlen(buf));
}
