/* SPDX-License-Identifier: ISC */
#ifndef CACHE_REDIS_IMPL_H_INCLUDED
#define CACHE_REDIS_IMPL_H_INCLUDED

/*
 * NAME
 *	cache_redis_impl 3h
 * SUMMARY
 *	the Redis backend's private parts, shared by cache_redis.c
 *	(connections, state, sentinel watcher, open and close) and
 *	cache_redis_cmd.c (the CACHE_STORE commands)
 * SYNOPSIS
 *	#include "cache_redis_impl.h"
 * DESCRIPTION
 *	Not an API: only the cache_redis*.c files include this. See
 *	cache_redis.c for the connection rules. cache_redis_acquire()
 *	returns STATUS_OK with c->lock held and a usable connection, or
 *	STATUS_RETRY without the lock; cache_redis_cmd() runs one command
 *	on a held connection and drops the connection when it gets no
 *	reply (the caller frees the reply); cache_redis_drop() closes it
 *	and marks the server down; cache_redis_demoted() handles a
 *	READONLY reply of the primary; cache_redis_set_state() logs one
 *	line per change of state.
 */

#include <hiredis/hiredis.h>
#include <pthread.h>

#include "cache.h"
#include "cache_redis.h"
#include "cache_sentinel.h"

#define CACHE_REDIS_BACKOFF_MIN	1000	/* ms */
#define CACHE_REDIS_BACKOFF_MAX	30000	/* ms */
#define CACHE_REDIS_SENTINEL_BACKOFF_MAX 2000	/* ms: the sentinels are asked that often */
#define CACHE_REDIS_WATCH_MS	100	/* the watcher's look: reconnects, checks */
#define CACHE_REDIS_POLL_MS	1000	/* sentinel mode: is it still the primary? */
#define CACHE_REDIS_ERR_MAX	WHY_MAX
#define CACHE_REDIS_CHECK_MS	1000	/* replica health check interval */
#define CACHE_REDIS_LAG_MAX	30	/* s since the replica heard its primary */
#define CACHE_REDIS_PREFIX_MAX	128
#define CACHE_REDIS_SCAN_MAX	100000	/* keys purged or counted per call */

#define CACHE_REDIS_UNKNOWN	0
#define CACHE_REDIS_UP		1
#define CACHE_REDIS_DOWN	2
#define CACHE_REDIS_LAGGING	3	/* replica connected but not usable */

typedef struct CACHE_REDIS CACHE_REDIS;

/* One server: the primary or a replica, each with its own lock and state. */

typedef struct CACHE_REDIS_CONN {
    pthread_mutex_t lock;
    redisContext *rc;
    int     replica;
    CACHE_REDIS_ADDR addr;		/* the primary's: from the sentinels */
    int     state;			/* CACHE_REDIS_* */
    int     connecting;
    int     backoff_ms;
    long long next_try;
    long long next_check;		/* replica: next INFO replication */
    char    error[256];
} CACHE_REDIS_CONN;

struct CACHE_REDIS {
    CACHE_REDIS_CONN primary;
    CACHE_REDIS_CONN replica[CACHE_REDIS_REPLICA_MAX];
    int     replica_count;
    pthread_mutex_t rr_lock;
    unsigned rr;			/* round-robin position */
    char    user[128];
    char    password[256];
    int     db;
    char    prefix[CACHE_REDIS_PREFIX_MAX];
    char    pattern[2 * CACHE_REDIS_PREFIX_MAX + 2];	/* prefix, glob-escaped, "*" */
    int     connect_ms;
    int     command_ms;
    char    token[64];
    CACHE_SENTINEL *sentinel;		/* null: redis_server is the primary */
    char    master[256];		/* redis_master_name, for logs */
    pthread_t w_tid;			/* sentinel mode: the watcher */
    int     w_started;
    int     w_stop;
    pthread_mutex_t w_lock;
    pthread_cond_t w_wake;
};

extern void cache_redis_set_state(CACHE_REDIS *, CACHE_REDIS_CONN *, int, const char *);
extern void cache_redis_drop(CACHE_REDIS *, CACHE_REDIS_CONN *);
extern void cache_redis_demoted(CACHE_REDIS *, CACHE_REDIS_CONN *, const redisReply *);
extern redisReply *cache_redis_cmd(CACHE_REDIS *, CACHE_REDIS_CONN *, const char *,...);
extern int cache_redis_acquire(CACHE_REDIS *, CACHE_REDIS_CONN *);

/* The CACHE_STORE commands (cache_redis_cmd.c). */
extern int cache_redis_get(void *, const char *, unsigned char **, size_t *);
extern int cache_redis_mget(void *, const char *const *, int, unsigned char **, size_t *, int *);
extern int cache_redis_get_primary(void *, const char *, unsigned char **, size_t *);
extern int cache_redis_put(void *, const char *, const unsigned char *, size_t, long);
extern int cache_redis_del(void *, const char *);
extern int cache_redis_purge(void *);
extern void cache_redis_count(void *, long *);
extern void cache_redis_state(void *, char *, size_t);
extern int cache_redis_lock(void *, const char *, const char *, int);
extern void cache_redis_unlock(void *, const char *, const char *);

#endif
