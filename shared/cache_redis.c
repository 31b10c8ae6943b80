/*
 * NAME
 *	cache_redis 3
 * SUMMARY
 *	Redis backend of the policy cache (shared across a cluster)
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	int	cache_redis_open(const CACHE_OPTS *opts, CACHE_STORE *store,
 *			WHY *why)
 * DESCRIPTION
 *	The only module that uses hiredis (0.14: no TLS). One connection
 *	per process, under a mutex, to opts->redis_server ("host:port",
 *	"[v6]:port" or "unix:/path"), with AUTH (password, or ACL user and
 *	password: "AUTH user password", Redis 6 and later), SELECT of
 *	opts->redis_database, and connect and command timeouts.
 *
 *	Keys are opts->redis_key_prefix followed by the key of cache.h
 *	(KEY LAYOUT); every value is written with SET ... EX ttl, so every
 *	key expires. Locks are SET key token NX PX ms, with a token unique
 *	to this process, released by a compare-and-delete script.
 *
 *	Failures never block mail: when a command fails or times out the
 *	connection is dropped, the backend is "down", and every call
 *	returns STATUS_RETRY at once (a miss) until the next reconnect
 *	attempt, which is made by the first call after a backoff of 1 s,
 *	doubling to 30 s. While one thread reconnects, the others do not
 *	wait for it. One line is logged per change of state (connected,
 *	down), never one per lookup.
 *
 *	A reply longer than CACHE_VALUE_MAX is treated as a corrupt value
 *	(cache.c deletes it and logs a warning).
 *
 *	cache_redis_open() fails only for an unusable redis_server; an
 *	unreachable server is "down" and retried. store->close() frees
 *	everything.
 */

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "log.h"
#include "status.h"
#include "str.h"

#define CACHE_REDIS_BACKOFF_MIN	1000	/* ms */
#define CACHE_REDIS_BACKOFF_MAX	30000	/* ms */
#define CACHE_REDIS_PREFIX_MAX	128
#define CACHE_REDIS_SCAN_MAX	100000	/* keys purged or counted per call */

typedef struct CACHE_REDIS {
    pthread_mutex_t lock;
    redisContext *rc;
    char    server[300];		/* as configured, for logs */
    char    host[256];
    int     port;
    char    unix_path[256];
    char    user[128];
    char    password[256];
    int     db;
    char    prefix[CACHE_REDIS_PREFIX_MAX];
    char    pattern[2 * CACHE_REDIS_PREFIX_MAX + 2];	/* prefix, glob-escaped, "*" */
    int     connect_ms;
    int     command_ms;
    int     state;			/* 0 unknown, 1 up, 2 down */
    int     connecting;
    int     backoff_ms;
    long long next_try;
    char    error[128];
    char    token[64];
} CACHE_REDIS;

static struct timeval cache_redis_tv(int ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return (tv);
}

/* Record a change of state; log only when the state changes. */

static void cache_redis_set_state(CACHE_REDIS *r, int up, const char *err)
{
    if (up) {
	if (r->state != 1)
	    log_info("cache: redis %s: connected (database %d)", r->server, r->db);
	r->state = 1;
	r->backoff_ms = CACHE_REDIS_BACKOFF_MIN;
	r->error[0] = 0;
	return;
    }
    (void) str_copy(r->error, sizeof(r->error), err ? err : "unknown error");
    if (r->state != 2)
	log_error("cache: redis %s: %s %s; decisions go on without it, reconnecting with backoff",
		  r->server, r->state == 1 ? "connection lost:" : "unavailable:", r->error);
    r->state = 2;
    r->next_try = clock_mono_ms() + r->backoff_ms;
    r->backoff_ms = r->backoff_ms * 2 > CACHE_REDIS_BACKOFF_MAX ? CACHE_REDIS_BACKOFF_MAX : r->backoff_ms * 2;
}

/* Connect, authenticate, select. Runs without the lock. */

static redisContext *cache_redis_connect(CACHE_REDIS *r, char *err, size_t errsize)
{
    redisContext *c;
    redisReply *rep = 0;

    if (r->unix_path[0])
	c = redisConnectUnixWithTimeout(r->unix_path, cache_redis_tv(r->connect_ms));
    else
	c = redisConnectWithTimeout(r->host, r->port, cache_redis_tv(r->connect_ms));
    if (c == 0 || c->err) {
	(void) snprintf(err, errsize, "connect: %s", c ? c->errstr : "out of memory");
	goto fail;
    }
    if (redisSetTimeout(c, cache_redis_tv(r->command_ms)) != REDIS_OK) {
	(void) snprintf(err, errsize, "cannot set the command timeout");
	goto fail;
    }
    if (r->password[0]) {
	if (r->user[0])
	    rep = redisCommand(c, "AUTH %s %s", r->user, r->password);
	else
	    rep = redisCommand(c, "AUTH %s", r->password);
	if (rep == 0 || rep->type == REDIS_REPLY_ERROR) {
	    (void) snprintf(err, errsize, "AUTH: %.80s", rep ? rep->str : c->errstr);
	    goto fail;
	}
	freeReplyObject(rep);
	rep = 0;
    }
    if (r->db != 0) {
	rep = redisCommand(c, "SELECT %d", r->db);
	if (rep == 0 || rep->type == REDIS_REPLY_ERROR) {
	    (void) snprintf(err, errsize, "SELECT %d: %.80s", r->db, rep ? rep->str : c->errstr);
	    goto fail;
	}
	freeReplyObject(rep);
    }
    return (c);

fail:
    if (rep)
	freeReplyObject(rep);
    if (c)
	redisFree(c);
    return (0);
}

/*
 * Take the lock with a live connection, or return STATUS_RETRY without
 * the lock when Redis is down (reconnecting at most once per backoff).
 */
static int cache_redis_acquire(CACHE_REDIS *r)
{
    redisContext *c;
    char    err[128];

    (void) pthread_mutex_lock(&r->lock);
    if (r->rc)
	return (STATUS_OK);
    if (r->connecting || clock_mono_ms() < r->next_try) {
	(void) pthread_mutex_unlock(&r->lock);
	return (STATUS_RETRY);
    }
    r->connecting = 1;
    (void) pthread_mutex_unlock(&r->lock);
    err[0] = 0;
    c = cache_redis_connect(r, err, sizeof(err));
    (void) pthread_mutex_lock(&r->lock);
    r->connecting = 0;
    if (c == 0) {
	cache_redis_set_state(r, 0, err);
	(void) pthread_mutex_unlock(&r->lock);
	return (STATUS_RETRY);
    }
    r->rc = c;
    cache_redis_set_state(r, 1, 0);
    return (STATUS_OK);
}

/* A command failed at the connection level: drop it. Caller holds the lock. */

static void cache_redis_drop(CACHE_REDIS *r)
{
    cache_redis_set_state(r, 0, r->rc && r->rc->errstr[0] ? r->rc->errstr : "no reply");
    if (r->rc)
	redisFree(r->rc);
    r->rc = 0;
}

/* Run a command with the lock held; null means the connection was dropped. */

static redisReply *cache_redis_cmd(CACHE_REDIS *r, const char *fmt,...)
{
    redisReply *rep;
    va_list ap;

    va_start(ap, fmt);
    rep = redisvCommand(r->rc, fmt, ap);
    va_end(ap);
    if (rep == 0)
	cache_redis_drop(r);
    return (rep);
}

static int cache_redis_get(void *ctx, const char *key, unsigned char **val, size_t *len)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    redisReply *rep;
    int     status = STATUS_RETRY;

    *val = 0;
    *len = 0;
    if (cache_redis_acquire(r) != STATUS_OK)
	return (STATUS_RETRY);
    if ((rep = cache_redis_cmd(r, "GET %s%s", r->prefix, key)) == 0)
	goto done;
    if (rep->type == REDIS_REPLY_NIL) {
	status = STATUS_NOTFOUND;
    } else if (rep->type == REDIS_REPLY_STRING) {
	/* Untrusted: an oversized value is handed over as 1 byte, which decodes as corrupt. */
	size_t  n = rep->len > CACHE_VALUE_MAX ? 1 : rep->len;

	if ((*val = malloc(n + 1)) != 0) {
	    if (rep->len > CACHE_VALUE_MAX)
		(*val)[0] = 0;
	    else
		memcpy(*val, rep->str, n);
	    *len = n;
	    status = STATUS_OK;
	}
    } else if (rep->type == REDIS_REPLY_ERROR) {
	log_warn("cache: redis %s: GET %s%s: %.100s", r->server, r->prefix, key, rep->str);
    }
    freeReplyObject(rep);

done:
    (void) pthread_mutex_unlock(&r->lock);
    return (status);
}

static int cache_redis_put(void *ctx, const char *key, const unsigned char *val, size_t len, long ttl)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    redisReply *rep;
    int     status = STATUS_RETRY;

    if (cache_redis_acquire(r) != STATUS_OK)
	return (STATUS_RETRY);
    rep = cache_redis_cmd(r, "SET %s%s %b EX %ld", r->prefix, key, (const char *) val, len, ttl > 0 ? ttl : 1);
    if (rep) {
	if (rep->type == REDIS_REPLY_STATUS)
	    status = STATUS_OK;
	else if (rep->type == REDIS_REPLY_ERROR)
	    log_warn("cache: redis %s: SET %s%s: %.100s", r->server, r->prefix, key, rep->str);
	freeReplyObject(rep);
    }
    (void) pthread_mutex_unlock(&r->lock);
    return (status);
}

static int cache_redis_del(void *ctx, const char *key)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    redisReply *rep;
    int     status = STATUS_RETRY;

    if (cache_redis_acquire(r) != STATUS_OK)
	return (STATUS_RETRY);
    if ((rep = cache_redis_cmd(r, "DEL %s%s", r->prefix, key)) != 0) {
	if (rep->type == REDIS_REPLY_INTEGER)
	    status = rep->integer > 0 ? STATUS_OK : STATUS_NOTFOUND;
	freeReplyObject(rep);
    }
    (void) pthread_mutex_unlock(&r->lock);
    return (status);
}

/* SCAN the keys under the prefix; delete them when del is set. Count in *n. */

static int cache_redis_scan(CACHE_REDIS *r, int del, long *n)
{
    redisReply *rep, *d;
    char    cursor[32] = "0";
    size_t  i;
    int     status = STATUS_RETRY;

    *n = 0;
    if (cache_redis_acquire(r) != STATUS_OK)
	return (STATUS_RETRY);
    do {
	rep = cache_redis_cmd(r, "SCAN %s MATCH %s COUNT 1000", cursor, r->pattern);
	if (rep == 0)
	    goto done;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || rep->element[0]->type != REDIS_REPLY_STRING
	    || rep->element[1]->type != REDIS_REPLY_ARRAY
	    || str_copy(cursor, sizeof(cursor), rep->element[0]->str) != 0) {
	    freeReplyObject(rep);
	    goto done;
	}
	for (i = 0; i < rep->element[1]->elements; i++) {
	    redisReply *k = rep->element[1]->element[i];

	    if (k->type != REDIS_REPLY_STRING)
		continue;
	    (*n)++;
	    if (del && (d = cache_redis_cmd(r, "DEL %b", k->str, k->len)) != 0)
		freeReplyObject(d);
	    if (r->rc == 0)
		break;
	}
	freeReplyObject(rep);
	if (r->rc == 0)
	    goto done;
    } while (strcmp(cursor, "0") != 0 && *n < CACHE_REDIS_SCAN_MAX);
    status = STATUS_OK;

done:
    (void) pthread_mutex_unlock(&r->lock);
    return (status);
}

static int cache_redis_purge(void *ctx)
{
    long    n;

    return (cache_redis_scan((CACHE_REDIS *) ctx, 1, &n));
}

static void cache_redis_count(void *ctx, long *n)
{
    if (cache_redis_scan((CACHE_REDIS *) ctx, 0, n) != STATUS_OK)
	*n = -1;
}

static void cache_redis_state(void *ctx, char *buf, size_t size)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;

    (void) pthread_mutex_lock(&r->lock);
    if (r->state == 1)
	(void) snprintf(buf, size, "connected to %s, database %d, prefix \"%s\"", r->server, r->db, r->prefix);
    else
	(void) snprintf(buf, size, "down (%s): %s", r->server, r->error[0] ? r->error : "not connected");
    (void) pthread_mutex_unlock(&r->lock);
}

/* STATUS_OK: taken or Redis unusable (go on without it); STATUS_RETRY: held elsewhere. */

static int cache_redis_lock(void *ctx, const char *key, const char *unused, int ttl_ms)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    redisReply *rep;
    int     status = STATUS_OK;

    (void) unused;
    if (cache_redis_acquire(r) != STATUS_OK)
	return (STATUS_OK);
    rep = cache_redis_cmd(r, "SET %s%s %s NX PX %d", r->prefix, key, r->token, ttl_ms > 0 ? ttl_ms : 1);
    if (rep) {
	if (rep->type == REDIS_REPLY_NIL)
	    status = STATUS_RETRY;
	freeReplyObject(rep);
    }
    (void) pthread_mutex_unlock(&r->lock);
    return (status);
}

static void cache_redis_unlock(void *ctx, const char *key, const char *unused)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    redisReply *rep;

    (void) unused;
    if (cache_redis_acquire(r) != STATUS_OK)
	return;
    rep = cache_redis_cmd(r, "EVAL %s 1 %s%s %s",
			  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
			  r->prefix, key, r->token);
    if (rep)
	freeReplyObject(rep);
    (void) pthread_mutex_unlock(&r->lock);
}

static void cache_redis_close(void **ctxp)
{
    CACHE_REDIS *r;

    if (ctxp == 0 || (r = (CACHE_REDIS *) *ctxp) == 0)
	return;
    if (r->rc)
	redisFree(r->rc);
    (void) pthread_mutex_destroy(&r->lock);
    memset(r->password, 0, sizeof(r->password));
    free(r);
    *ctxp = 0;
}

/* host:port, [v6]:port or unix:/path. */

static int cache_redis_parse(CACHE_REDIS *r, const char *s, WHY *why)
{
    const char *colon;
    long    port;
    char    num[16];

    if (str_copy(r->server, sizeof(r->server), s) != 0) {
	why_set(why, "redis_server is too long");
	return (STATUS_INVAL);
    }
    if (strncmp(s, "unix:", 5) == 0) {
	if (s[5] != '/' || str_copy(r->unix_path, sizeof(r->unix_path), s + 5) != 0) {
	    why_set(why, "redis_server \"%s\": unix: needs an absolute path", s);
	    return (STATUS_INVAL);
	}
	return (STATUS_OK);
    }
    if (*s == '[') {
	const char *end = strchr(s, ']');

	if (end == 0 || end[1] != ':' || (size_t) (end - s - 1) >= sizeof(r->host)) {
	    why_set(why, "redis_server \"%s\": bad [address]:port", s);
	    return (STATUS_INVAL);
	}
	memcpy(r->host, s + 1, (size_t) (end - s - 1));
	r->host[end - s - 1] = 0;
	colon = end + 1;
    } else {
	if ((colon = strrchr(s, ':')) == 0 || (size_t) (colon - s) >= sizeof(r->host) || colon == s) {
	    why_set(why, "redis_server \"%s\": want host:port or unix:/path", s);
	    return (STATUS_INVAL);
	}
	memcpy(r->host, s, (size_t) (colon - s));
	r->host[colon - s] = 0;
    }
    if (str_copy(num, sizeof(num), colon + 1) != 0 || str_to_long(num, 1, 65535, &port) != 0) {
	why_set(why, "redis_server \"%s\": bad port", s);
	return (STATUS_INVAL);
    }
    r->port = (int) port;
    return (STATUS_OK);
}

int     cache_redis_open(const CACHE_OPTS *opts, CACHE_STORE *store, WHY *why)
{
    CACHE_REDIS *r = 0;
    const char *p;
    size_t  j = 0;
    int     status = STATUS_FAIL;

    memset(store, 0, sizeof(*store));
    if ((r = calloc(1, sizeof(*r))) == 0) {
	why_set(why, "out of memory");
	goto done;
    }
    (void) pthread_mutex_init(&r->lock, 0);
    if ((status = cache_redis_parse(r, opts->redis_server ? opts->redis_server : "127.0.0.1:6379", why)) != STATUS_OK)
	goto done;
    status = STATUS_INVAL;
    if (str_copy(r->user, sizeof(r->user), opts->redis_user ? opts->redis_user : "") != 0
	|| str_copy(r->password, sizeof(r->password), opts->redis_password ? opts->redis_password : "") != 0
	|| str_copy(r->prefix, sizeof(r->prefix), opts->redis_key_prefix ? opts->redis_key_prefix : "") != 0) {
	why_set(why, "redis_user, redis_password or redis_key_prefix is too long");
	goto done;
    }
    /* SCAN MATCH pattern: the prefix with glob characters escaped. */
    for (p = r->prefix; *p; p++) {
	if (strchr("*?[]\\", *p))
	    r->pattern[j++] = '\\';
	r->pattern[j++] = *p;
    }
    r->pattern[j++] = '*';
    r->pattern[j] = 0;
    r->db = opts->redis_database;
    r->connect_ms = opts->redis_connect_timeout_ms > 0 ? opts->redis_connect_timeout_ms : 1000;
    r->command_ms = opts->redis_command_timeout_ms > 0 ? opts->redis_command_timeout_ms : 1000;
    r->backoff_ms = CACHE_REDIS_BACKOFF_MIN;
    (void) snprintf(r->token, sizeof(r->token), "%ld.%lld", (long) getpid(), clock_mono_ms());
    /* Connect now so that the log says at start-up whether Redis is there. */
    if (cache_redis_acquire(r) == STATUS_OK)
	(void) pthread_mutex_unlock(&r->lock);
    store->name = "redis";
    store->ctx = r;
    store->get = cache_redis_get;
    store->put = cache_redis_put;
    store->del = cache_redis_del;
    store->purge = cache_redis_purge;
    store->count = cache_redis_count;
    store->state = cache_redis_state;
    store->lock = cache_redis_lock;
    store->unlock = cache_redis_unlock;
    store->close = cache_redis_close;
    r = 0;
    status = STATUS_OK;

done:
    if (r) {
	void   *ctx = r;

	cache_redis_close(&ctx);
    }
    return (status);
}
