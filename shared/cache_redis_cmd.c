/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache_redis_cmd 3
 * SUMMARY
 *	the Redis backend's commands: GET, MGET, SET, DEL, SCAN, locks
 * DESCRIPTION
 *	The CACHE_STORE functions of the Redis backend (cache.h), on the
 *	connections that cache_redis.c keeps (cache_redis_impl.h): reads
 *	go to the replicas in turn and then the primary; writes, deletes,
 *	locks and SCAN go to the primary. See cache_redis.c.
 */

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "status.h"
#include "str.h"
#include "cache_redis_impl.h"

/* GET from one server; STATUS_RETRY when it cannot answer. */

static int cache_redis_get_conn(CACHE_REDIS *r, CACHE_REDIS_CONN *c, const char *key,
				        unsigned char **val, size_t *len)
{
    redisReply *rep;
    int     status = STATUS_RETRY;

    *val = 0;
    *len = 0;
    if (cache_redis_acquire(r, c) != STATUS_OK)
	return (STATUS_RETRY);
    if ((rep = cache_redis_cmd(r, c, "GET %s%s", r->prefix, key)) == 0)
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
	metrics_inc(METRICS_REDIS_ERROR);
	/* A replica that answers with an error (LOADING, ...) is set aside until checked again. */
	if (c->replica)
	    cache_redis_set_state(r, c, CACHE_REDIS_LAGGING, rep->str);
	else
	    log_warn("cache: redis %s: GET %s%s: %.100s", c->addr.server, r->prefix, key, rep->str);
    }
    freeReplyObject(rep);

done:
    (void) pthread_mutex_unlock(&c->lock);
    return (status);
}

/* The replica a read starts with (round robin). */

static unsigned cache_redis_rr_start(CACHE_REDIS *r)
{
    unsigned start;

    (void) pthread_mutex_lock(&r->rr_lock);
    start = r->rr++;
    (void) pthread_mutex_unlock(&r->rr_lock);
    return (start);
}

/* Reads: the replicas in turn, the primary when none can answer. */

int     cache_redis_get(void *ctx, const char *key, unsigned char **val, size_t *len)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    unsigned start;
    int     i;
    int     status;

    if (r->replica_count > 0) {
	start = cache_redis_rr_start(r);
	for (i = 0; i < r->replica_count; i++) {
	    status = cache_redis_get_conn(r, &r->replica[(start + (unsigned) i) % (unsigned) r->replica_count],
					  key, val, len);
	    if (status != STATUS_RETRY)
		return (status);
	}
    }
    return (cache_redis_get_conn(r, &r->primary, key, val, len));
}

/*
 * MGET of n keys from one server, in one round trip: st[i] is STATUS_OK
 * (vals[i], lens[i] set; the caller frees vals[i]) or STATUS_NOTFOUND.
 * STATUS_RETRY when the server cannot answer (then nothing is set).
 */
static int cache_redis_mget_conn(CACHE_REDIS *r, CACHE_REDIS_CONN *c, const char *const *keys, int n,
				         unsigned char **vals, size_t *lens, int *st)
{
    char    names[CACHE_MGET_MAX][CACHE_REDIS_PREFIX_MAX + CACHE_KEY_MAX];
    const char *argv[CACHE_MGET_MAX + 1];
    redisReply *rep = 0;
    redisReply *e;
    size_t  len;
    int     status = STATUS_RETRY;
    int     i;

    if (n < 1 || n > CACHE_MGET_MAX)
	return (STATUS_RETRY);
    argv[0] = "MGET";
    for (i = 0; i < n; i++) {
	(void) snprintf(names[i], sizeof(names[i]), "%s%s", r->prefix, keys[i]);
	argv[i + 1] = names[i];
    }
    if (cache_redis_acquire(r, c) != STATUS_OK)
	return (STATUS_RETRY);
    if ((rep = redisCommandArgv(c->rc, n + 1, argv, 0)) == 0) {
	cache_redis_drop(r, c);
	goto done;
    }
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != (size_t) n) {
	if (rep->type == REDIS_REPLY_ERROR && c->replica)
	    cache_redis_set_state(r, c, CACHE_REDIS_LAGGING, rep->str);
	else if (rep->type == REDIS_REPLY_ERROR)
	    log_warn("cache: redis %s: MGET: %.100s", c->addr.server, rep->str);
	goto done;
    }
    for (i = 0; i < n; i++) {
	vals[i] = 0;
	lens[i] = 0;
	st[i] = STATUS_NOTFOUND;
	e = rep->element[i];
	if (e->type != REDIS_REPLY_STRING)
	    continue;
	/* Untrusted: an oversized value is handed over as 1 byte, which decodes as corrupt. */
	len = e->len > CACHE_VALUE_MAX ? 1 : e->len;
	if ((vals[i] = malloc(len + 1)) == 0)
	    continue;
	if (e->len > CACHE_VALUE_MAX)
	    vals[i][0] = 0;
	else
	    memcpy(vals[i], e->str, len);
	lens[i] = len;
	st[i] = STATUS_OK;
    }
    status = STATUS_OK;

done:
    if (rep)
	freeReplyObject(rep);
    (void) pthread_mutex_unlock(&c->lock);
    return (status);
}

/* Reads of several keys: as cache_redis_get(), in one round trip. */

int     cache_redis_mget(void *ctx, const char *const *keys, int n, unsigned char **vals, size_t *lens, int *st)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    unsigned start;
    int     i;

    if (r->replica_count > 0) {
	start = cache_redis_rr_start(r);
	for (i = 0; i < r->replica_count; i++)
	    if (cache_redis_mget_conn(r, &r->replica[(start + (unsigned) i) % (unsigned) r->replica_count],
				      keys, n, vals, lens, st) == STATUS_OK)
		return (STATUS_OK);
    }
    return (cache_redis_mget_conn(r, &r->primary, keys, n, vals, lens, st));
}

/* Authoritative reads (the cluster lock's wait): the primary only. */

int     cache_redis_get_primary(void *ctx, const char *key, unsigned char **val, size_t *len)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;

    return (cache_redis_get_conn(r, &r->primary, key, val, len));
}

int     cache_redis_put(void *ctx, const char *key, const unsigned char *val, size_t len, long ttl)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    CACHE_REDIS_CONN *c = &r->primary;
    redisReply *rep;
    int     status = STATUS_RETRY;

    if (cache_redis_acquire(r, c) != STATUS_OK)
	return (STATUS_RETRY);
    rep = cache_redis_cmd(r, c, "SET %s%s %b EX %ld", r->prefix, key, (const char *) val, len, ttl > 0 ? ttl : 1);
    if (rep) {
	if (rep->type == REDIS_REPLY_STATUS)
	    status = STATUS_OK;
	else if (rep->type == REDIS_REPLY_ERROR) {
	    cache_redis_demoted(r, c, rep);
	    if (c->rc != 0)
		log_warn("cache: redis %s: SET %s%s: %.100s", c->addr.server, r->prefix, key, rep->str);
	}
	if (rep->type != REDIS_REPLY_STATUS)
	    metrics_inc(METRICS_REDIS_ERROR);
	freeReplyObject(rep);
    }
    (void) pthread_mutex_unlock(&c->lock);
    return (status);
}

int     cache_redis_del(void *ctx, const char *key)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    CACHE_REDIS_CONN *c = &r->primary;
    redisReply *rep;
    int     status = STATUS_RETRY;

    if (cache_redis_acquire(r, c) != STATUS_OK)
	return (STATUS_RETRY);
    if ((rep = cache_redis_cmd(r, c, "DEL %s%s", r->prefix, key)) != 0) {
	if (rep->type == REDIS_REPLY_INTEGER)
	    status = rep->integer > 0 ? STATUS_OK : STATUS_NOTFOUND;
	cache_redis_demoted(r, c, rep);
	freeReplyObject(rep);
    }
    (void) pthread_mutex_unlock(&c->lock);
    return (status);
}

/* SCAN the keys under the prefix on the primary; delete them when del is set. Count in *n. */

static int cache_redis_scan(CACHE_REDIS *r, int del, long *n)
{
    CACHE_REDIS_CONN *c = &r->primary;
    redisReply *rep, *d;
    char    cursor[32] = "0";
    size_t  i;
    int     status = STATUS_RETRY;

    *n = 0;
    if (cache_redis_acquire(r, c) != STATUS_OK)
	return (STATUS_RETRY);
    do {
	rep = cache_redis_cmd(r, c, "SCAN %s MATCH %s COUNT 1000", cursor, r->pattern);
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
	    if (del && (d = cache_redis_cmd(r, c, "DEL %b", k->str, k->len)) != 0)
		freeReplyObject(d);
	    if (c->rc == 0)
		break;
	}
	freeReplyObject(rep);
	if (c->rc == 0)
	    goto done;
    } while (strcmp(cursor, "0") != 0 && *n < CACHE_REDIS_SCAN_MAX);
    status = STATUS_OK;

done:
    (void) pthread_mutex_unlock(&c->lock);
    return (status);
}

int     cache_redis_purge(void *ctx)
{
    long    n;

    return (cache_redis_scan((CACHE_REDIS *) ctx, 1, &n));
}

void    cache_redis_count(void *ctx, long *n)
{
    if (cache_redis_scan((CACHE_REDIS *) ctx, 0, n) != STATUS_OK)
	*n = -1;
}

void    cache_redis_state(void *ctx, char *buf, size_t size)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    CACHE_REDIS_CONN *c = &r->primary;
    size_t  used;
    int     i;
    int     up = 0;
    char    via[300];

    via[0] = 0;
    if (r->sentinel)
	(void) snprintf(via, sizeof(via), " (primary \"%s\" from the sentinels)", r->master);
    (void) pthread_mutex_lock(&c->lock);
    if (c->state == CACHE_REDIS_UP)
	(void) snprintf(buf, size, "connected to %s%s, database %d, prefix \"%s\"", c->addr.server, via, r->db,
			r->prefix);
    else
	(void) snprintf(buf, size, "down (%s%s): %s", c->addr.server[0] ? c->addr.server : "no primary yet", via,
			c->error[0] ? c->error : "not connected");
    (void) pthread_mutex_unlock(&c->lock);
    if (r->replica_count == 0)
	return;
    for (i = 0; i < r->replica_count; i++) {
	(void) pthread_mutex_lock(&r->replica[i].lock);
	up += r->replica[i].state == CACHE_REDIS_UP;
	(void) pthread_mutex_unlock(&r->replica[i].lock);
    }
    if ((used = strlen(buf)) < size)
	(void) snprintf(buf + used, size - used, "; replicas in sync %d of %d", up, r->replica_count);
}

/* STATUS_OK: taken or Redis unusable (go on without it); STATUS_RETRY: held elsewhere. */

int     cache_redis_lock(void *ctx, const char *key, const char *unused, int ttl_ms)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    CACHE_REDIS_CONN *c = &r->primary;
    redisReply *rep;
    int     status = STATUS_OK;

    (void) unused;
    if (cache_redis_acquire(r, c) != STATUS_OK)
	return (STATUS_OK);
    rep = cache_redis_cmd(r, c, "SET %s%s %s NX PX %d", r->prefix, key, r->token, ttl_ms > 0 ? ttl_ms : 1);
    if (rep) {
	if (rep->type == REDIS_REPLY_NIL)
	    status = STATUS_RETRY;
	cache_redis_demoted(r, c, rep);
	freeReplyObject(rep);
    }
    (void) pthread_mutex_unlock(&c->lock);
    return (status);
}

void    cache_redis_unlock(void *ctx, const char *key, const char *unused)
{
    CACHE_REDIS *r = (CACHE_REDIS *) ctx;
    CACHE_REDIS_CONN *c = &r->primary;
    redisReply *rep;

    (void) unused;
    if (cache_redis_acquire(r, c) != STATUS_OK)
	return;
    rep = cache_redis_cmd(r, c, "EVAL %s 1 %s%s %s",
			  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
			  r->prefix, key, r->token);
    if (rep) {
	cache_redis_demoted(r, c, rep);
	freeReplyObject(rep);
    }
    (void) pthread_mutex_unlock(&c->lock);
}

