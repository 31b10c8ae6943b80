/* SPDX-License-Identifier: ISC */
#ifndef CACHE_SENTINEL_H_INCLUDED
#define CACHE_SENTINEL_H_INCLUDED

/*
 * NAME
 *	cache_sentinel 3h
 * SUMMARY
 *	private: find the Redis primary through Redis Sentinel, for the
 *	Redis backend (cache_redis.c)
 * SYNOPSIS
 *	#include "cache_sentinel.h"
 *
 *	int	cache_sentinel_create(const char *const *sentinels,
 *			int count, const char *name, const char *user,
 *			const char *password, int connect_ms,
 *			int command_ms, CACHE_SENTINEL **out, WHY *why)
 *	int	cache_sentinel_primary(CACHE_SENTINEL *s,
 *			CACHE_REDIS_ADDR *primary, WHY *why)
 *	void	cache_sentinel_free(CACHE_SENTINEL **s)
 * DESCRIPTION
 *	cache_sentinel_create() reads the sentinels' addresses (the
 *	redis_sentinels syntax: "host:port", "[v6]:port", "host", port
 *	26379 by default, or "unix:/path"; 1 to CACHE_SENTINEL_MAX) and
 *	keeps the name of the monitored primary (redis_master_name), and
 *	the credentials for the sentinels (redis_sentinel_user and
 *	redis_sentinel_password; null or empty: none). STATUS_INVAL with
 *	a reason for a bad address, no name, credentials too long, or
 *	too many sentinels.
 *
 *	cache_sentinel_primary() asks the sentinels in turn, starting
 *	with the last one that answered (the Sentinel client guidelines),
 *	SENTINEL get-master-addr-by-name NAME (after AUTH when a password
 *	is set: a sentinel that refuses it counts as one that did not
 *	answer, with its error in why), and writes the answer into
 *	primary: STATUS_OK; STATUS_RETRY with the reasons in why when no
 *	sentinel named a primary (down, timed out, an error, or a name it
 *	does not monitor). The whole call ends within connect_ms plus one
 *	command_ms: each sentinel gets its share of what is left of that
 *	budget (a third of it for the first of three), so that a sentinel
 *	that hangs costs the others nothing but time.
 *	A sentinel's answer is untrusted: a host that is not an IP
 *	address or a host name, or a port out of range, is an error.
 *	Thread-safe; one connection per call, closed before it returns.
 *
 *	cache_sentinel_free() frees s and sets it to null.
 * SEE ALSO
 *	https://redis.io/docs/reference/sentinel-clients/
 */

#include "cache_redis.h"
#include "why.h"

#define CACHE_SENTINEL_MAX	16
#define CACHE_SENTINEL_PORT	26379

typedef struct CACHE_SENTINEL CACHE_SENTINEL;

extern int cache_sentinel_create(const char *const *, int, const char *, const char *, const char *, int, int,
				         CACHE_SENTINEL **, WHY *);
extern int cache_sentinel_primary(CACHE_SENTINEL *, CACHE_REDIS_ADDR *, WHY *);
extern void cache_sentinel_free(CACHE_SENTINEL **);

#endif
