/* SPDX-License-Identifier: ISC */
#ifndef BENCHNET_H_INCLUDED
#define BENCHNET_H_INCLUDED

/*
 * NAME
 *	benchnet 3h
 * SUMMARY
 *	the bench clients' connect: one socket spec, every form they take
 * SYNOPSIS
 *	#include "benchnet.h"
 *
 *	int	benchnet_connect(const char *spec, char *err, size_t size)
 * DESCRIPTION
 *	benchnet_connect() connects to "unix:/path", "inet:PORT@HOST" (a
 *	milter socket, as Postfix writes it) or "inet:HOST:PORT" (a
 *	socketmap server), HOST an IPv4 address, with TCP_NODELAY on TCP.
 *	It returns the socket, or -1 with the reason in err.
 *
 *	For bench/milter-rtt and bench/socketmap-qps only; not part of
 *	stsfilter.
 */

#include <stddef.h>

extern int benchnet_connect(const char *, char *, size_t);

#endif
