/* SPDX-License-Identifier: ISC */
#ifndef NETGUARD_H_INCLUDED
#define NETGUARD_H_INCLUDED

/*
 * NAME
 *	netguard 3h
 * SUMMARY
 *	address classes and the outbound guard
 * SYNOPSIS
 *	#include "netguard.h"
 *
 *	int	netguard_class(const struct sockaddr *sa)
 *
 *	int	netguard_allowed(const struct sockaddr *sa, int allow_private,
 *			WHY *why)
 *
 *	const char *netguard_class_name(int class)
 *
 *	int	netguard_format(const struct sockaddr *sa, char *buf,
 *			size_t size)
 * DESCRIPTION
 *	By default stsfilter never fetches from or probes loopback,
 *	private or reserved addresses: a hostile DNS answer must not turn
 *	the filter into a scanner of the admin's own network.
 *
 *	netguard_class() classifies an IPv4 or IPv6 address (IPv4-mapped
 *	IPv6 is classified as the IPv4 address) as NETGUARD_PUBLIC or one
 *	of the special classes from the IANA special-purpose registries
 *	(RFC 6890 and successors): loopback, private (RFC 1918, RFC 4193),
 *	shared (RFC 6598), link-local, multicast, unspecified,
 *	documentation, reserved.
 *
 *	netguard_allowed() returns STATUS_OK for a public address, or for
 *	any address when allow_private is set (the test world), and
 *	STATUS_FAIL with a reason naming the address and its class
 *	otherwise.
 *
 *	netguard_format() writes "192.0.2.1" or "2001:db8::1" (no port)
 *	and returns 0, or -1 when it does not fit.
 */

#include <stddef.h>
#include <sys/socket.h>

#include "why.h"

#define NETGUARD_PUBLIC		0
#define NETGUARD_LOOPBACK	1
#define NETGUARD_PRIVATE	2
#define NETGUARD_SHARED		3
#define NETGUARD_LINKLOCAL	4
#define NETGUARD_MULTICAST	5
#define NETGUARD_UNSPECIFIED	6
#define NETGUARD_DOCUMENTATION	7
#define NETGUARD_RESERVED	8

extern int netguard_class(const struct sockaddr *);
extern int netguard_allowed(const struct sockaddr *, int, WHY *);
extern const char *netguard_class_name(int);
extern int netguard_format(const struct sockaddr *, char *, size_t);

#endif
