/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	netguard 3
 * SUMMARY
 *	address classes and the outbound guard
 * SYNOPSIS
 *	See netguard.h.
 * DESCRIPTION
 *	Pure functions: no I/O, no allocation, thread-safe.
 *
 *	The tables below follow the IANA IPv4 and IPv6 Special-Purpose
 *	Address Registries (RFC 6890 and the RFCs each row cites). Every
 *	address that is not globally reachable unicast is refused by
 *	netguard_allowed() unless the admin opted in
 *	(allow_private_addresses), so that a hostile DNS answer cannot make
 *	the filter fetch from or probe the admin's own network.
 *
 *	Deliberate choices:
 *	- Blocks that IANA marks "not globally reachable" but that have no
 *	  class of their own (192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4,
 *	  100::/64, 2001::/23, 64:ff9b:1::/48) are NETGUARD_RESERVED. The
 *	  few globally reachable /32s inside 2001::/23 (e.g. 2001:4:112::/48,
 *	  AS112) are reserved too: no mail host lives there.
 *	- IPv6 outside 2000::/3 (the only block IANA allocates global
 *	  unicast from, RFC 4291 section 2.4) and not otherwise classified
 *	  is NETGUARD_RESERVED (IPv4-compatible ::a.b.c.d, deprecated by
 *	  RFC 4291 section 2.5.5.1; site-local fec0::/10, deprecated by RFC
 *	  3879; the unassigned blocks).
 *	- An IPv6 address that embeds an IPv4 address is classified as that
 *	  IPv4 address: IPv4-mapped (RFC 4291 section 2.5.5.2), the NAT64
 *	  well-known prefix (RFC 6052 section 2.1) and 6to4 (RFC 3056
 *	  section 2), so that "::ffff:127.0.0.1" and "64:ff9b::10.0.0.1"
 *	  cannot bypass the guard.
 *	- Any other address family, and a null pointer, is
 *	  NETGUARD_RESERVED (fail closed).
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "netguard.h"
#include "status.h"
#include "str.h"

/* One row of a prefix table: the prefix in network byte order, its length. */

typedef struct NETGUARD_V4 {
    uint32_t net;			/* host byte order */
    int     len;
    int     class;
} NETGUARD_V4;

typedef struct NETGUARD_V6 {
    unsigned char net[16];
    int     len;
    int     class;
} NETGUARD_V6;

#define V4(a, b, c, d) \
    (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) | (uint32_t) (d))

 /*
  * IPv4, most specific first (the first match wins).
  */
static const NETGUARD_V4 netguard_v4_table[] = {
    /* RFC 919 section 7, RFC 8190: limited broadcast. */
    {V4(255, 255, 255, 255), 32, NETGUARD_RESERVED},
    /* RFC 1122 section 3.2.1.3 (a): 0.0.0.0 is "this host". */
    {V4(0, 0, 0, 0), 32, NETGUARD_UNSPECIFIED},
    /* RFC 1122 section 3.2.1.3 (b): 0/8 is "this network". */
    {V4(0, 0, 0, 0), 8, NETGUARD_RESERVED},
    /* RFC 1918 section 3: private internets. */
    {V4(10, 0, 0, 0), 8, NETGUARD_PRIVATE},
    {V4(172, 16, 0, 0), 12, NETGUARD_PRIVATE},
    {V4(192, 168, 0, 0), 16, NETGUARD_PRIVATE},
    /* RFC 6598 section 7: shared address space (carrier-grade NAT). */
    {V4(100, 64, 0, 0), 10, NETGUARD_SHARED},
    /* RFC 1122 section 3.2.1.3 (g): loopback. */
    {V4(127, 0, 0, 0), 8, NETGUARD_LOOPBACK},
    /* RFC 3927 section 2.1: link-local. */
    {V4(169, 254, 0, 0), 16, NETGUARD_LINKLOCAL},
    /* RFC 6890 section 2.2.2: IETF protocol assignments. */
    {V4(192, 0, 0, 0), 24, NETGUARD_RESERVED},
    /* RFC 5737 section 3: TEST-NET-1, -2, -3. */
    {V4(192, 0, 2, 0), 24, NETGUARD_DOCUMENTATION},
    {V4(198, 51, 100, 0), 24, NETGUARD_DOCUMENTATION},
    {V4(203, 0, 113, 0), 24, NETGUARD_DOCUMENTATION},
    /* RFC 2544 appendix C.2.2 (RFC 6815): benchmarking. */
    {V4(198, 18, 0, 0), 15, NETGUARD_RESERVED},
    /* RFC 5771 section 3: multicast 224/4. */
    {V4(224, 0, 0, 0), 4, NETGUARD_MULTICAST},
    /* RFC 1112 section 4: class E, reserved for future use. */
    {V4(240, 0, 0, 0), 4, NETGUARD_RESERVED},
};

 /*
  * IPv6, most specific first. The embedded-IPv4 prefixes are handled in
  * netguard_class6() before this table.
  */
static const NETGUARD_V6 netguard_v6_table[] = {
    /* RFC 4291 section 2.5.2: the unspecified address. */
    {{0}, 128, NETGUARD_UNSPECIFIED},
    /* RFC 4291 section 2.5.3: the loopback address. */
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, NETGUARD_LOOPBACK},
    /* RFC 8215 section 4: local-use NAT64 prefix 64:ff9b:1::/48. */
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, NETGUARD_RESERVED},
    /* RFC 6666 section 4: discard-only prefix 100::/64. */
    {{0x01, 0x00}, 64, NETGUARD_RESERVED},
    /* RFC 3849 section 4: documentation 2001:db8::/32. */
    {{0x20, 0x01, 0x0d, 0xb8}, 32, NETGUARD_DOCUMENTATION},
    /* RFC 2928 section 2, RFC 6890 section 2.2.3: 2001::/23. */
    {{0x20, 0x01, 0x00, 0x00}, 23, NETGUARD_RESERVED},
    /* RFC 9637 section 3: documentation 3fff::/20. */
    {{0x3f, 0xff, 0x00}, 20, NETGUARD_DOCUMENTATION},
    /* RFC 4193 section 8: unique local fc00::/7. */
    {{0xfc}, 7, NETGUARD_PRIVATE},
    /* RFC 4291 section 2.5.6: link-local fe80::/10. */
    {{0xfe, 0x80}, 10, NETGUARD_LINKLOCAL},
    /* RFC 4291 section 2.7: multicast ff00::/8. */
    {{0xff}, 8, NETGUARD_MULTICAST},
};

/* netguard_prefix6 - does addr start with the len-bit prefix net? */

static int netguard_prefix6(const unsigned char *addr, const unsigned char *net,
			            int len)
{
    int     bytes = len / 8;
    int     bits = len % 8;
    unsigned char mask;

    if (bytes > 0 && memcmp(addr, net, (size_t) bytes) != 0)
	return (0);
    if (bits == 0)
	return (1);
    mask = (unsigned char) (0xff << (8 - bits));
    return ((addr[bytes] & mask) == (net[bytes] & mask));
}

/* netguard_class4 - classify an IPv4 address in host byte order */

static int netguard_class4(uint32_t addr)
{
    size_t  i;
    uint32_t mask;

    for (i = 0; i < sizeof(netguard_v4_table) / sizeof(netguard_v4_table[0]); i++) {
	mask = netguard_v4_table[i].len == 0 ? 0 :
	    (uint32_t) 0xffffffff << (32 - netguard_v4_table[i].len);
	if ((addr & mask) == (netguard_v4_table[i].net & mask))
	    return (netguard_v4_table[i].class);
    }
    return (NETGUARD_PUBLIC);
}

/* netguard_v4_at - the IPv4 address at a byte offset in an IPv6 address */

static uint32_t netguard_v4_at(const unsigned char *a, int off)
{
    return (((uint32_t) a[off] << 24) | ((uint32_t) a[off + 1] << 16)
	    | ((uint32_t) a[off + 2] << 8) | (uint32_t) a[off + 3]);
}

/* netguard_class6 - classify an IPv6 address */

static int netguard_class6(const unsigned char *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
    static const unsigned char sixto4[2] = {0x20, 0x02};
    size_t  i;

    /* RFC 4291 section 2.5.5.2: IPv4-mapped ::ffff:0:0/96. */
    if (memcmp(a, mapped, sizeof(mapped)) == 0)
	return (netguard_class4(netguard_v4_at(a, 12)));
    /* RFC 6052 section 2.1: the NAT64 well-known prefix 64:ff9b::/96. */
    if (memcmp(a, nat64, sizeof(nat64)) == 0)
	return (netguard_class4(netguard_v4_at(a, 12)));
    /* RFC 3056 section 2: 6to4 2002:V4ADDR::/48. */
    if (memcmp(a, sixto4, sizeof(sixto4)) == 0)
	return (netguard_class4(netguard_v4_at(a, 2)));
    for (i = 0; i < sizeof(netguard_v6_table) / sizeof(netguard_v6_table[0]); i++)
	if (netguard_prefix6(a, netguard_v6_table[i].net, netguard_v6_table[i].len))
	    return (netguard_v6_table[i].class);
    /* RFC 4291 section 2.4: global unicast is 2000::/3; the rest is not. */
    if ((a[0] & 0xe0) != 0x20)
	return (NETGUARD_RESERVED);
    return (NETGUARD_PUBLIC);
}

/* netguard_class - classify an address */

int     netguard_class(const struct sockaddr *sa)
{
    const struct sockaddr_in *sin;
    const struct sockaddr_in6 *sin6;
    int     result = NETGUARD_RESERVED;

    if (sa == 0)
	goto out;
    if (sa->sa_family == AF_INET) {
	sin = (const struct sockaddr_in *) (const void *) sa;
	result = netguard_class4(ntohl(sin->sin_addr.s_addr));
    } else if (sa->sa_family == AF_INET6) {
	sin6 = (const struct sockaddr_in6 *) (const void *) sa;
	result = netguard_class6(sin6->sin6_addr.s6_addr);
    }
out:
    return (result);
}

/* netguard_class_name - constant name for logs and reasons */

const char *netguard_class_name(int class)
{
    switch (class) {
    case NETGUARD_PUBLIC:
	return ("public");
    case NETGUARD_LOOPBACK:
	return ("loopback");
    case NETGUARD_PRIVATE:
	return ("private");
    case NETGUARD_SHARED:
	return ("shared");
    case NETGUARD_LINKLOCAL:
	return ("link-local");
    case NETGUARD_MULTICAST:
	return ("multicast");
    case NETGUARD_UNSPECIFIED:
	return ("unspecified");
    case NETGUARD_DOCUMENTATION:
	return ("documentation");
    case NETGUARD_RESERVED:
	return ("reserved");
    default:
	return ("unknown");
    }
}

/* netguard_format - address to text, without port */

int     netguard_format(const struct sockaddr *sa, char *buf, size_t size)
{
    const struct sockaddr_in *sin;
    const struct sockaddr_in6 *sin6;
    int     result = -1;

    if (buf == 0 || size == 0)
	goto out;
    buf[0] = 0;
    if (sa == 0 || size > (size_t) INT32_MAX)
	goto out;
    if (sa->sa_family == AF_INET) {
	sin = (const struct sockaddr_in *) (const void *) sa;
	if (inet_ntop(AF_INET, &sin->sin_addr, buf, (socklen_t) size) == 0)
	    goto out;
    } else if (sa->sa_family == AF_INET6) {
	sin6 = (const struct sockaddr_in6 *) (const void *) sa;
	if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, (socklen_t) size) == 0)
	    goto out;
    } else {
	goto out;
    }
    result = 0;
out:
    if (result != 0 && buf != 0 && size > 0)
	buf[0] = 0;
    return (result);
}

/* netguard_allowed - the outbound guard */

int     netguard_allowed(const struct sockaddr *sa, int allow_private, WHY *why)
{
    char    text[INET6_ADDRSTRLEN];
    int     class;
    int     result = STATUS_FAIL;

    if (sa == 0 || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
	why_set(why, "address of unsupported family is not allowed");
	goto out;
    }
    class = netguard_class(sa);
    if (class == NETGUARD_PUBLIC || allow_private) {
	result = STATUS_OK;
	goto out;
    }
    if (netguard_format(sa, text, sizeof(text)) != 0)
	(void) str_copy(text, sizeof(text), "?");
    why_set(why, "address %s is %s; not allowed without "
	    "allow_private_addresses", text, netguard_class_name(class));
out:
    return (result);
}
