/* SPDX-License-Identifier: ISC */
#ifndef CACHE_REDIS_H_INCLUDED
#define CACHE_REDIS_H_INCLUDED

/*
 * NAME
 *	cache_redis 3h
 * SUMMARY
 *	private: Redis server addresses and connections, shared by the
 *	Redis backend (cache_redis.c) and its Sentinel client
 *	(cache_sentinel.c)
 * SYNOPSIS
 *	#include "cache_redis.h"
 *
 *	int	cache_redis_addr(CACHE_REDIS_ADDR *addr, const char *what,
 *			const char *s, int default_port, WHY *why)
 *	redisContext *cache_redis_dial(const CACHE_REDIS_ADDR *addr,
 *			int connect_ms, int command_ms, char *err,
 *			size_t errsize)
 *	int	cache_redis_auth(redisContext *c, const char *user,
 *			const char *password, char *err, size_t errsize)
 * DESCRIPTION
 *	cache_redis_addr() reads "host:port", "[v6]:port", "host"
 *	(default_port) or "unix:/path" into addr; what names the
 *	configuration key in the STATUS_INVAL message.
 *
 *	cache_redis_dial() connects to addr within connect_ms and sets
 *	the timeout of every later command to command_ms; it returns the
 *	hiredis context (the caller frees it with redisFree()), or null
 *	with the reason in err.
 *
 *	cache_redis_auth() sends AUTH [user] password on c when password
 *	is not empty (user empty: the default user): STATUS_OK (also when
 *	there is no password), or STATUS_RETRY with "AUTH[ as USER]: the
 *	server's error" (sanitized) in err.
 */

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "why.h"

typedef struct CACHE_REDIS_ADDR {
    char    server[300];		/* as configured, for logs */
    char    host[256];
    int     port;
    char    unix_path[256];		/* not empty: a unix socket */
} CACHE_REDIS_ADDR;

extern int cache_redis_addr(CACHE_REDIS_ADDR *, const char *, const char *, int, WHY *);
extern redisContext *cache_redis_dial(const CACHE_REDIS_ADDR *, int, int, char *, size_t);
extern int cache_redis_auth(redisContext *, const char *, const char *, char *, size_t);

#endif
