/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	conf_check 3
 * SUMMARY
 *	syntax checks of configuration values (stsfilter.conf)
 * SYNOPSIS
 *	#include "conf_check.h"
 *
 *	int	conf_check_text(int check, const char *s, const char **expect)
 * DESCRIPTION
 *	conf_check_text() runs a key's extra check (CONF_CHECK_*, from
 *	conf_table.h) on one value: ports, addresses, CIDR blocks, domain
 *	and host names (RFC 1123 section 2.1 LDH labels), header names
 *	(RFC 5322 section 3.6.8 field names), libmilter socket specs, Redis
 *	servers, unbound stub zones and options. Returns 0 when the value
 *	is good, or -1 with *expect naming the expected form for the
 *	caller's FILE:LINE message. Pure: no I/O, no allocation.
 */

#include <sys/types.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_check.h"
#include "log.h"
#include "str.h"

/* conf_check_port - decimal port 1..65535 */

static int conf_check_port(const char *s)
{
    long    port;

    if (*s < '0' || *s > '9')
	return (-1);
    return (str_to_long(s, 1, 65535, &port));
}

/* conf_check_ip - IPv4 or IPv6 address literal */

static int conf_check_ip(const char *s, int *family)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (inet_pton(AF_INET, s, buf) == 1) {
	*family = AF_INET;
	return (0);
    }
    if (inet_pton(AF_INET6, s, buf) == 1) {
	*family = AF_INET6;
	return (0);
    }
    return (-1);
}

/* conf_check_addr_port - IP or IP@port (the unbound forward-addr form) */

static int conf_check_addr_port(const char *s)
{
    char    buf[CONF_VALUE_MAX + 1];
    char   *at;
    int     family;

    if (str_copy(buf, sizeof(buf), s) < 0)
	return (-1);
    if ((at = strrchr(buf, '@')) != 0) {
	*at++ = 0;
	if (conf_check_port(at) < 0)
	    return (-1);
    }
    return (conf_check_ip(buf, &family));
}

/* conf_check_name - domain (leading dot allowed) or host name syntax */

static int conf_check_name(const char *s, int is_domain)
{
    const char *p = s;
    size_t  label = 0;
    size_t  total;

    if (is_domain && *p == '.')
	p++;
    total = strlen(p);
    if (total > 0 && p[total - 1] == '.')
	total--;				/* one trailing dot */
    if (total == 0 || total > 253)
	return (-1);
    for (; total > 0; p++, total--) {
	if (*p == '.') {
	    if (label == 0 || p[-1] == '-')
		return (-1);
	    label = 0;
	    continue;
	}
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
	      || (*p >= '0' && *p <= '9') || *p == '-'
	      || (is_domain && *p == '_')))
	    return (-1);
	if (label == 0 && *p == '-')
	    return (-1);
	if (++label > 63)
	    return (-1);
    }
    return ((label == 0 || p[-1] == '-') ? -1 : 0);
}

/* conf_check_stub_zone - zone=IP[@port] */

static int conf_check_stub_zone(const char *s)
{
    char    buf[CONF_VALUE_MAX + 1];
    char   *eq;

    if (str_copy(buf, sizeof(buf), s) < 0 || (eq = strchr(buf, '=')) == 0)
	return (-1);
    *eq++ = 0;
    if (strcmp(buf, ".") != 0 && conf_check_name(buf, 0) < 0)
	return (-1);
    return (conf_check_addr_port(eq));
}

/* conf_check_unbound_option - "name: value" as in unbound.conf(5) */

static int conf_check_unbound_option(const char *s)
{
    const char *p = s;

    for (; (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'; p++)
	 /* void */ ;
    if (p == s || *p != ':')
	return (-1);
    for (p++; *p == ' ' || *p == '\t'; p++)
	 /* void */ ;
    return (*p ? 0 : -1);
}

/* conf_check_cidr - address, address/len or [v6]/len, no host bits */

static int conf_check_cidr(const char *s)
{
    char    buf[CONF_VALUE_MAX + 1];
    unsigned char addr[sizeof(struct in6_addr)];
    char   *slash;
    char   *host = buf;
    long    len = -1;
    int     family;
    int     bits;
    int     i;

    if (str_copy(buf, sizeof(buf), s) < 0)
	return (-1);
    if ((slash = strchr(buf, '/')) != 0) {
	*slash++ = 0;
	if (*slash < '0' || *slash > '9' || str_to_long(slash, 0, 128, &len) < 0)
	    return (-1);
    }
    if (*host == '[') {				/* Postfix: [::1]/128 */
	size_t  n = strlen(host);

	if (n < 3 || host[n - 1] != ']')
	    return (-1);
	host[n - 1] = 0;
	host++;
	if (inet_pton(AF_INET6, host, addr) != 1)
	    return (-1);
    }
    if (conf_check_ip(host, &family) < 0)
	return (-1);
    (void) inet_pton(family, host, addr);
    bits = (family == AF_INET) ? 32 : 128;
    if (len < 0)
	return (0);
    if (len > bits)
	return (-1);
    for (i = (int) len; i < bits; i++)		/* host bits must be zero */
	if (addr[i / 8] & (0x80 >> (i % 8)))
	    return (-1);
    return (0);
}

/* conf_check_header_name - RFC 5322 section 3.6.8 field-name */

static int conf_check_header_name(const char *s)
{
    const char *p;

    if (*s == 0 || strlen(s) > 76)
	return (-1);
    for (p = s; *p; p++)			/* ftext: %d33-57 / %d59-126 */
	if ((unsigned char) *p < 33 || (unsigned char) *p > 126 || *p == ':')
	    return (-1);
    return (0);
}

/* conf_check_socket - unix:/path, local:/path, inet:port[@host], inet6: */

static int conf_check_socket(const char *s)
{
    char    buf[CONF_VALUE_MAX + 1];
    char   *at;
    char   *port;

    if (strncmp(s, "unix:", 5) == 0)
	return (s[5] == '/' ? 0 : -1);
    if (strncmp(s, "local:", 6) == 0)
	return (s[6] == '/' ? 0 : -1);
    if (strncmp(s, "inet:", 5) == 0)
	port = buf + 5;
    else if (strncmp(s, "inet6:", 6) == 0)
	port = buf + 6;
    else
	return (-1);
    if (str_copy(buf, sizeof(buf), s) < 0)
	return (-1);
    if ((at = strchr(port, '@')) != 0) {
	*at++ = 0;
	if (*at == 0)
	    return (-1);
    }
    return (conf_check_port(port));
}

/* conf_check_redis_server - host[:port], [v6][:port] or unix:/path */

static int conf_check_redis_server(const char *s)
{
    char    buf[CONF_VALUE_MAX + 1];
    char   *host = buf;
    char   *colon = 0;
    int     family;

    if (strncmp(s, "unix:", 5) == 0)
	return (s[5] == '/' ? 0 : -1);
    if (str_copy(buf, sizeof(buf), s) < 0)
	return (-1);
    if (*host == '[') {
	char   *end = strchr(host, ']');
	unsigned char addr[sizeof(struct in6_addr)];

	if (end == 0)
	    return (-1);
	*end++ = 0;
	host++;
	if (inet_pton(AF_INET6, host, addr) != 1)
	    return (-1);
	if (*end == 0)
	    return (0);
	if (*end != ':')
	    return (-1);
	return (conf_check_port(end + 1));
    }
    if ((colon = strchr(host, ':')) != 0) {
	if (strchr(colon + 1, ':') != 0)	/* bare IPv6 needs [] */
	    return (-1);
	*colon++ = 0;
	if (conf_check_port(colon) < 0)
	    return (-1);
    }
    if (conf_check_ip(host, &family) == 0)
	return (0);
    return (conf_check_name(host, 0));
}

/* conf_check_text - run a key's extra check; names the expected form */

int     conf_check_text(int check, const char *s, const char **expect)
{
    int     ret = 0;

    switch (check) {
    case CONF_CHECK_NONE:
	break;
    case CONF_CHECK_ADDR_PORT:
	*expect = "expected IP or IP@port";
	ret = conf_check_addr_port(s);
	break;
    case CONF_CHECK_STUB_ZONE:
	*expect = "expected zone=IP or zone=IP@port";
	ret = conf_check_stub_zone(s);
	break;
    case CONF_CHECK_UNBOUND_OPTION:
	*expect = "expected an unbound option \"name: value\"";
	ret = conf_check_unbound_option(s);
	break;
    case CONF_CHECK_CIDR:
	*expect = "expected an IP address or network/length with no host bits set";
	ret = conf_check_cidr(s);
	break;
    case CONF_CHECK_DOMAIN:
	*expect = "expected a domain name in ASCII (A-label) form, optionally with a leading dot";
	ret = conf_check_name(s, 1);
	break;
    case CONF_CHECK_HOSTNAME:
	*expect = "expected a host name";
	ret = conf_check_name(s, 0);
	break;
    case CONF_CHECK_HEADER_NAME:
	*expect = "expected a header field name of 1-76 printable characters without \":\"";
	ret = conf_check_header_name(s);
	break;
    case CONF_CHECK_SOCKET:
	*expect = "expected unix:/path, inet:port or inet:port@host";
	ret = conf_check_socket(s);
	break;
    case CONF_CHECK_INET:
	*expect = "expected inet:port, inet:port@host or inet6:port@host";
	ret = (strncmp(s, "inet", 4) == 0) ? conf_check_socket(s) : -1;
	break;
    case CONF_CHECK_REDIS_SERVER:
	*expect = "expected host:port, [IPv6]:port or unix:/path";
	ret = conf_check_redis_server(s);
	break;
    default:
	log_panic("conf_check_text: unknown check %d", check);
    }
    return (ret);
}
