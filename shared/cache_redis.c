/* SPDX-License-Identifier: ISC */
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
 *	to the primary, opts->redis_server ("host:port", "[v6]:port",
 *	"host" or "unix:/path"; port 6379 by default), and one to each of
 *	the opts->redis_replicas (same syntax, at most
 *	CACHE_REDIS_REPLICA_MAX), each under its own mutex, with AUTH
 *	(password, or ACL user and password: "AUTH user password", Redis 6
 *	and later), SELECT of opts->redis_database, and connect and command
 *	timeouts. Replicas use the same credentials and database.
 *
 *	With opts->redis_sentinels (Redis Sentinel, cache_sentinel.c) the
 *	primary's address comes from the sentinels instead of
 *	opts->redis_server: they are asked before every connection to the
 *	primary (SENTINEL get-master-addr-by-name opts->redis_master_name),
 *	and the server reached must say ROLE master. The primary's
 *	connection is dropped, as for any failure, on a connection error or
 *	timeout, and also when a write is refused with READONLY (a failover
 *	demoted it while it stayed up; the sentinels are then asked at once);
 *	its reconnect backoff stops at CACHE_REDIS_SENTINEL_BACKOFF_MAX, so
 *	that a promoted replica is followed within seconds. In this mode
 *	the primary is reconnected (the sentinels asked, the server dialed
 *	and checked) by a watcher thread of its own that looks every
 *	CACHE_REDIS_WATCH_MS, never by a lookup: a lookup only finds the
 *	primary up or down, so a hung sentinel or a dead primary costs no
 *	lookup any time. While connected, the watcher also asks the
 *	sentinels every CACHE_REDIS_POLL_MS whether they still name the
 *	same primary, and drops the connection when they do not (a failover
 *	that never reached this connection, as across a network partition,
 *	where the old primary still takes writes that the cluster will
 *	lose). One line is logged when the primary's address changes.
 *
 *	Reads (store->get, and store->mget: several keys in one MGET)
 *	go to the replicas in turn (round robin), and to
 *	the primary when there is none or none can answer: a replica is
 *	passed over while it is down, while INFO replication (looked at
 *	once a second) says it is not in sync with its primary (link down,
 *	resynchronizing, or no word from the primary for
 *	CACHE_REDIS_LAG_MAX seconds), and after it answered a GET with an
 *	error (LOADING, ...). Writes, deletes, locks, SCAN, and the
 *	authoritative reads of store->get_primary (the cluster lock's wait
 *	for another node's result, where a miss on a lagging replica would
 *	cost a second fetch) always go to the primary.
 *
 *	Keys are opts->redis_key_prefix followed by the key of cache.h
 *	(KEY LAYOUT); every value is written with SET ... EX ttl, so every
 *	key expires. Locks are SET key token NX PX ms, with a token unique
 *	to this process, released by a compare-and-delete script.
 *
 *	Failures never block mail: when a command fails or times out the
 *	connection is dropped, that server is "down", and calls that need
 *	it return STATUS_RETRY at once (a miss; a read tries the next
 *	replica, then the primary) until it is connected again. Connecting
 *	(with a PING, so that a server that accepts and never answers is
 *	found there) and the replicas' health checks are the work of one
 *	watcher thread, after a backoff of 1 s doubling to 30 s: no lookup
 *	ever waits for a connection to be made. One
 *	line is logged per server and change of state (connected, down,
 *	replica not in sync), never one per lookup.
 *
 *	A reply longer than CACHE_VALUE_MAX is treated as a corrupt value
 *	(cache.c deletes it and logs a warning).
 *
 *	cache_redis_open() fails only for an unusable redis_server,
 *	redis_replicas or redis_sentinels (bad syntax, too many); an
 *	unreachable server is "down" and retried. store->close() frees
 *	everything.
 *
 *	cache_redis_addr() and cache_redis_dial() (cache_redis.h) are
 *	shared with cache_sentinel.c. The CACHE_STORE commands are in
 *	cache_redis_cmd.c; struct CACHE_REDIS, shared by both files, is in
 *	the private header cache_redis_impl.h.
 */

#include <errno.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cache_redis.h"
#include "cache_sentinel.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "status.h"
#include "str.h"
#include "text.h"

#include "cache_redis_impl.h"

static struct timeval cache_redis_tv(int ms)
{
    struct timeval tv;

    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    return (tv);
}

/* Record a change of state; log only when the state changes. Caller holds c->lock. */

void    cache_redis_set_state(CACHE_REDIS *r, CACHE_REDIS_CONN *c, int state, const char *err)
{
    int     old = c->state;
    int     max;

    c->state = state;
    if (state == CACHE_REDIS_UP) {
	if (old != CACHE_REDIS_UP) {
	    if (c->replica)
		log_info("cache: redis replica %s: connected (database %d), serving reads", c->addr.server, r->db);
	    else
		log_info("cache: redis %s: connected (database %d)", c->addr.server, r->db);
	}
	c->backoff_ms = CACHE_REDIS_BACKOFF_MIN;
	c->error[0] = 0;
	return;
    }
    (void) str_copy(c->error, sizeof(c->error), err ? err : "unknown error");
    if (state == CACHE_REDIS_LAGGING) {
	if (old != CACHE_REDIS_LAGGING)
	    log_warn("cache: redis replica %s: not in sync: %s; reads go to the primary", c->addr.server, c->error);
	return;
    }
    if (old != CACHE_REDIS_DOWN) {
	if (c->replica)
	    log_warn("cache: redis replica %s: %s %s; reads go to the primary, reconnecting with backoff",
		     c->addr.server, old == CACHE_REDIS_UNKNOWN ? "unavailable:" : "connection lost:", c->error);
	else if (c->addr.server[0] == 0)	/* the sentinels named none yet */
	    log_error("cache: redis primary \"%s\" of redis_sentinels: %s %s; decisions go on without it,"
		      " reconnecting with backoff", r->master, old == CACHE_REDIS_UP ? "connection lost:" :
		      "unavailable:", c->error);
	else
	    log_error("cache: redis %s: %s %s; decisions go on without it, reconnecting with backoff",
		      c->addr.server, old == CACHE_REDIS_UP ? "connection lost:" : "unavailable:", c->error);
    }
    c->next_try = clock_mono_ms() + c->backoff_ms;
    max = r->sentinel && !c->replica ? CACHE_REDIS_SENTINEL_BACKOFF_MAX : CACHE_REDIS_BACKOFF_MAX;
    c->backoff_ms = c->backoff_ms * 2 > max ? max : c->backoff_ms * 2;
}

redisContext *cache_redis_dial(const CACHE_REDIS_ADDR *a, int connect_ms, int command_ms, char *err, size_t errsize)
{
    redisContext *c;

    if (a->unix_path[0])
	c = redisConnectUnixWithTimeout(a->unix_path, cache_redis_tv(connect_ms));
    else
	c = redisConnectWithTimeout(a->host, a->port, cache_redis_tv(connect_ms));
    if (c == 0 || c->err) {
	(void) snprintf(err, errsize, "connect: %s", c ? c->errstr : "out of memory");
	goto fail;
    }
    if (redisSetTimeout(c, cache_redis_tv(command_ms)) != REDIS_OK) {
	(void) snprintf(err, errsize, "cannot set the command timeout");
	goto fail;
    }
    return (c);

fail:
    if (c)
	redisFree(c);
    return (0);
}

int     cache_redis_auth(redisContext *c, const char *user, const char *password, char *err, size_t errsize)
{
    redisReply *rep = 0;
    char    safe[128];
    int     status = STATUS_OK;

    if (password == 0 || *password == 0)
	goto done;
    if (user && *user)
	rep = redisCommand(c, "AUTH %s %s", user, password);
    else
	rep = redisCommand(c, "AUTH %s", password);
    if (rep == 0 || rep->type == REDIS_REPLY_ERROR) {
	(void) text_sanitize(safe, sizeof(safe), rep ? rep->str : c->errstr);
	(void) snprintf(err, errsize, "AUTH%s%s: %s", user && *user ? " as " : "", user ? user : "", safe);
	status = STATUS_RETRY;
    }

done:
    if (rep)
	freeReplyObject(rep);
    return (status);
}

/*
 * Sentinel mode: ask the sentinels where the primary is, before each
 * connection to it. Runs without the lock (c->connecting keeps other
 * threads out); the address is written under it.
 */
static int cache_redis_find_primary(CACHE_REDIS *r, CACHE_REDIS_CONN *c, char *err, size_t errsize)
{
    CACHE_REDIS_ADDR found;
    WHY     why;
    char    was[sizeof(c->addr.server)];

    int     status;

    why.text[0] = 0;
    if ((status = cache_sentinel_primary(r->sentinel, &found, &why)) != STATUS_OK) {
	(void) snprintf(err, errsize, "%s", why_text(&why));
	goto done;
    }
    (void) pthread_mutex_lock(&c->lock);
    if (strcmp(found.server, c->addr.server) != 0) {
	(void) str_copy(was, sizeof(was), c->addr.server);
	c->addr = found;
	/* A new primary starts with a clean slate: its first failure is logged. */
	c->state = CACHE_REDIS_UNKNOWN;
	if (was[0])
	    log_warn("cache: redis sentinels: primary \"%s\" is now %s (was %s)", r->master, found.server, was);
	else
	    log_info("cache: redis sentinels: primary \"%s\" is %s", r->master, found.server);
    }
    (void) pthread_mutex_unlock(&c->lock);

done:
    return (status);
}

/* Sentinel mode: the server we reached must say it is the primary (ROLE). */

static int cache_redis_check_role(redisContext *c, char *err, size_t errsize)
{
    redisReply *rep;
    int     status = STATUS_RETRY;

    if ((rep = redisCommand(c, "ROLE")) == 0)
	(void) snprintf(err, errsize, "ROLE: %s", c->errstr);
    else if (rep->type == REDIS_REPLY_ARRAY && rep->elements > 0 && rep->element[0]->type == REDIS_REPLY_STRING
	     && strcmp(rep->element[0]->str, "master") == 0)
	status = STATUS_OK;
    else
	(void) snprintf(err, errsize, "not a primary (ROLE: %.20s); asking the sentinels again",
			rep->type == REDIS_REPLY_ARRAY && rep->elements > 0
			&& rep->element[0]->type == REDIS_REPLY_STRING ? rep->element[0]->str : "?");
    if (rep)
	freeReplyObject(rep);
    return (status);
}

/* A set-up command that must not fail: STATUS_OK, or RETRY with "label: error" (sanitized) in err. */

static int cache_redis_setup(redisContext *c, const char *label, char *err, size_t errsize, const char *fmt,...)
{
    redisReply *rep;
    va_list ap;
    char    safe[128];
    int     status = STATUS_OK;

    va_start(ap, fmt);
    rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (rep == 0 || rep->type == REDIS_REPLY_ERROR) {
	(void) text_sanitize(safe, sizeof(safe), rep ? rep->str : c->errstr);
	(void) snprintf(err, errsize, "%s: %s", label, safe);
	status = STATUS_RETRY;
    }
    if (rep)
	freeReplyObject(rep);
    return (status);
}

/* Connect, authenticate, select (and, with sentinels, find and check the primary). Runs without the lock. */

static redisContext *cache_redis_connect(CACHE_REDIS *r, CACHE_REDIS_CONN *conn, char *err, size_t errsize)
{
    redisContext *c = 0;
    char    label[32];

    if (r->sentinel && !conn->replica && cache_redis_find_primary(r, conn, err, errsize) != STATUS_OK)
	goto fail;
    if ((c = cache_redis_dial(&conn->addr, r->connect_ms, r->command_ms, err, errsize)) == 0)
	goto fail;
    if (cache_redis_auth(c, r->user, r->password, err, errsize) != STATUS_OK)
	goto fail;
    if (r->sentinel && !conn->replica && cache_redis_check_role(c, err, errsize) != STATUS_OK)
	goto fail;
    (void) snprintf(label, sizeof(label), "SELECT %d", r->db);
    if (r->db != 0 && cache_redis_setup(c, label, err, errsize, "SELECT %d", r->db) != STATUS_OK)
	goto fail;
    /* A server that accepts and never answers is found here, not by a lookup. */
    if (cache_redis_setup(c, "PING", err, errsize, "PING") != STATUS_OK)
	goto fail;
    return (c);

fail:
    if (c)
	redisFree(c);
    return (0);
}

/* A command failed at the connection level: drop it. Caller holds c->lock. */

void    cache_redis_drop(CACHE_REDIS *r, CACHE_REDIS_CONN *c)
{
    metrics_inc(METRICS_REDIS_ERROR);
    cache_redis_set_state(r, c, CACHE_REDIS_DOWN, c->rc && c->rc->errstr[0] ? c->rc->errstr : "no reply");
    if (c->rc)
	redisFree(c->rc);
    c->rc = 0;
}

/*
 * Sentinel mode: a write refused with READONLY comes from a primary that
 * was demoted (a failover while it stayed up). Drop the connection so
 * that the next call asks the sentinels, at once. Caller holds c->lock.
 */
void    cache_redis_demoted(CACHE_REDIS *r, CACHE_REDIS_CONN *c, const redisReply *rep)
{
    if (r->sentinel == 0 || c->replica || c->rc == 0 || rep->type != REDIS_REPLY_ERROR
	|| strncmp(rep->str, "READONLY", 8) != 0)
	return;
    cache_redis_set_state(r, c, CACHE_REDIS_DOWN, "READONLY: no longer the primary");
    redisFree(c->rc);
    c->rc = 0;
    c->next_try = clock_mono_ms();
    c->backoff_ms = CACHE_REDIS_BACKOFF_MIN;
}

/* Run a command with c->lock held; null means the connection was dropped. */

redisReply *cache_redis_cmd(CACHE_REDIS *r, CACHE_REDIS_CONN *c, const char *fmt,...)
{
    redisReply *rep;
    va_list ap;

    va_start(ap, fmt);
    rep = redisvCommand(c->rc, fmt, ap);
    va_end(ap);
    if (rep == 0)
	cache_redis_drop(r, c);
    return (rep);
}

/* The value of "name:" in an INFO reply, copied into buf; -1 if absent. */

static int cache_redis_info_field(const char *info, const char *name, char *buf, size_t size)
{
    const char *p = info;
    size_t  nlen = strlen(name);
    size_t  n;

    while ((p = strstr(p, name)) != 0) {
	if ((p == info || p[-1] == '\n') && p[nlen] == ':') {
	    p += nlen + 1;
	    n = strcspn(p, "\r\n");
	    if (n >= size)
		return (-1);
	    memcpy(buf, p, n);
	    buf[n] = 0;
	    return (0);
	}
	p += nlen;
    }
    return (-1);
}

/*
 * Replica health (INFO replication): usable when it is a primary, or a
 * replica whose link to its primary is up, not resyncing, and heard
 * from within CACHE_REDIS_LAG_MAX seconds. Caller holds c->lock.
 */
static void cache_redis_check_replica(CACHE_REDIS *r, CACHE_REDIS_CONN *c)
{
    redisReply *rep;
    char    role[32];
    char    link[32];
    char    sync[32];
    char    io[32];
    long    io_s = 0;
    const char *why = 0;

    c->next_check = clock_mono_ms() + CACHE_REDIS_CHECK_MS;
    if ((rep = cache_redis_cmd(r, c, "INFO replication")) == 0)
	return;
    if (rep->type != REDIS_REPLY_STRING)
	why = "no answer to INFO replication";
    else if (cache_redis_info_field(rep->str, "role", role, sizeof(role)) != 0)
	why = "no role in INFO replication";
    else if (strcmp(role, "master") == 0)
	why = 0;
    else if (cache_redis_info_field(rep->str, "master_link_status", link, sizeof(link)) != 0
	     || strcmp(link, "up") != 0)
	why = "replication link down";
    else if (cache_redis_info_field(rep->str, "master_sync_in_progress", sync, sizeof(sync)) == 0
	     && strcmp(sync, "0") != 0)
	why = "resynchronizing";
    else if (cache_redis_info_field(rep->str, "master_last_io_seconds_ago", io, sizeof(io)) == 0
	     && (str_to_long(io, -1, 1000000000L, &io_s) != 0 || io_s > CACHE_REDIS_LAG_MAX))
	why = "no word from the primary for too long";
    freeReplyObject(rep);
    cache_redis_set_state(r, c, why ? CACHE_REDIS_LAGGING : CACHE_REDIS_UP, why);
}

/*
 * Connect c when it has no connection, nobody else is connecting, and
 * its backoff is over. Caller holds c->lock, which is released while
 * connecting (the other threads do not wait for it).
 */
static void cache_redis_reconnect(CACHE_REDIS *r, CACHE_REDIS_CONN *c)
{
    redisContext *rc;
    char    err[CACHE_REDIS_ERR_MAX];

    if (c->rc != 0 || c->connecting || clock_mono_ms() < c->next_try)
	return;
    c->connecting = 1;
    (void) pthread_mutex_unlock(&c->lock);
    err[0] = 0;
    rc = cache_redis_connect(r, c, err, sizeof(err));
    (void) pthread_mutex_lock(&c->lock);
    c->connecting = 0;
    if (rc == 0) {
	metrics_inc(METRICS_REDIS_ERROR);
	cache_redis_set_state(r, c, CACHE_REDIS_DOWN, err);
	return;
    }
    c->rc = rc;
    c->next_check = 0;
    if (!c->replica)
	cache_redis_set_state(r, c, CACHE_REDIS_UP, 0);
}

/*
 * Take c->lock with a usable connection, or return STATUS_RETRY without
 * the lock when the server is down or, for a replica, not in sync.
 * Connecting (and asking the sentinels) and the replicas' health checks
 * are the watcher's (cache_redis_tend()): they never delay a lookup.
 */
int     cache_redis_acquire(CACHE_REDIS *r, CACHE_REDIS_CONN *c)
{
    (void) r;
    (void) pthread_mutex_lock(&c->lock);
    if (c->rc != 0 && c->state == CACHE_REDIS_UP)
	return (STATUS_OK);
    (void) pthread_mutex_unlock(&c->lock);
    return (STATUS_RETRY);
}

/*
 * Reconnect c when it is down and its backoff is over and, for a
 * replica, check its health once per CACHE_REDIS_CHECK_MS. The watcher
 * thread's work, and cache_redis_open()'s first look.
 */
static void cache_redis_tend(CACHE_REDIS *r, CACHE_REDIS_CONN *c)
{
    (void) pthread_mutex_lock(&c->lock);
    if (c->rc == 0)
	cache_redis_reconnect(r, c);
    if (c->replica && c->rc != 0 && clock_mono_ms() >= c->next_check)
	cache_redis_check_replica(r, c);
    (void) pthread_mutex_unlock(&c->lock);
}

/*
 * Sentinel mode, primary connected: when the sentinels now name another
 * primary (a failover that did not reach this connection: a partition),
 * drop it so that the watcher reconnects to the one they name, at once.
 * Sentinels that cannot be asked change nothing.
 */
static void cache_redis_poll(CACHE_REDIS *r, CACHE_REDIS_CONN *c)
{
    CACHE_REDIS_ADDR found;
    WHY     why;

    why.text[0] = 0;
    if (cache_sentinel_primary(r->sentinel, &found, &why) != STATUS_OK)
	return;
    (void) pthread_mutex_lock(&c->lock);
    if (c->rc != 0 && strcmp(found.server, c->addr.server) != 0) {
	cache_redis_set_state(r, c, CACHE_REDIS_DOWN, "the sentinels name another primary");
	redisFree(c->rc);
	c->rc = 0;
	c->next_try = clock_mono_ms();
	c->backoff_ms = CACHE_REDIS_BACKOFF_MIN;
    }
    (void) pthread_mutex_unlock(&c->lock);
}

/*
 * The watcher thread: every CACHE_REDIS_WATCH_MS it reconnects what is
 * down (after its backoff) and checks the replicas' health (once per
 * CACHE_REDIS_CHECK_MS); in sentinel mode it also asks the sentinels
 * every CACHE_REDIS_POLL_MS whether the primary is still the one they
 * name.
 */
static void *cache_redis_watch(void *arg)
{
    CACHE_REDIS *r = (CACHE_REDIS *) arg;
    struct timespec until;
    long long next_poll = clock_mono_ms() + CACHE_REDIS_POLL_MS;
    int     up;
    int     i;

    (void) pthread_mutex_lock(&r->w_lock);
    while (!r->w_stop) {
	(void) pthread_mutex_unlock(&r->w_lock);
	cache_redis_tend(r, &r->primary);
	for (i = 0; i < r->replica_count; i++)
	    cache_redis_tend(r, &r->replica[i]);
	(void) pthread_mutex_lock(&r->primary.lock);
	up = r->primary.rc != 0;
	(void) pthread_mutex_unlock(&r->primary.lock);
	if (r->sentinel && up && clock_mono_ms() >= next_poll) {
	    cache_redis_poll(r, &r->primary);
	    next_poll = clock_mono_ms() + CACHE_REDIS_POLL_MS;
	}
	(void) pthread_mutex_lock(&r->w_lock);
	(void) clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += CACHE_REDIS_WATCH_MS * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
	    until.tv_sec += 1;
	    until.tv_nsec -= 1000000000L;
	}
	while (!r->w_stop && pthread_cond_timedwait(&r->w_wake, &r->w_lock, &until) != ETIMEDOUT)
	     /* void */ ;
    }
    (void) pthread_mutex_unlock(&r->w_lock);
    return (0);
}

static void cache_redis_conn_free(CACHE_REDIS_CONN *c)
{
    if (c->rc)
	redisFree(c->rc);
    c->rc = 0;
    (void) pthread_mutex_destroy(&c->lock);
}

static void cache_redis_close(void **ctxp)
{
    CACHE_REDIS *r;
    int     i;

    if (ctxp == 0 || (r = (CACHE_REDIS *) *ctxp) == 0)
	return;
    if (r->w_started) {
	(void) pthread_mutex_lock(&r->w_lock);
	r->w_stop = 1;
	(void) pthread_cond_signal(&r->w_wake);
	(void) pthread_mutex_unlock(&r->w_lock);
	(void) pthread_join(r->w_tid, 0);
    }
    (void) pthread_cond_destroy(&r->w_wake);
    (void) pthread_mutex_destroy(&r->w_lock);
    cache_redis_conn_free(&r->primary);
    for (i = 0; i < r->replica_count; i++)
	cache_redis_conn_free(&r->replica[i]);
    (void) pthread_mutex_destroy(&r->rr_lock);
    cache_sentinel_free(&r->sentinel);
    memset(r->password, 0, sizeof(r->password));
    free(r);
    *ctxp = 0;
}

/* host[:port], [v6][:port] or unix:/path (port default_port by default); what names the key in errors. */

int     cache_redis_addr(CACHE_REDIS_ADDR *c, const char *what, const char *s, int default_port, WHY *why)
{
    const char *colon = 0;
    size_t  hlen;
    long    port = default_port;
    char    num[16];

    memset(c, 0, sizeof(*c));
    if (str_copy(c->server, sizeof(c->server), s) != 0) {
	why_set(why, "%s is too long", what);
	return (STATUS_INVAL);
    }
    if (strncmp(s, "unix:", 5) == 0) {
	if (s[5] != '/' || str_copy(c->unix_path, sizeof(c->unix_path), s + 5) != 0) {
	    why_set(why, "%s \"%s\": unix: needs an absolute path", what, s);
	    return (STATUS_INVAL);
	}
	return (STATUS_OK);
    }
    if (*s == '[') {
	const char *end = strchr(s, ']');

	if (end == 0 || (end[1] != ':' && end[1] != 0) || (hlen = (size_t) (end - s - 1)) >= sizeof(c->host)) {
	    why_set(why, "%s \"%s\": bad [address]:port", what, s);
	    return (STATUS_INVAL);
	}
	memcpy(c->host, s + 1, hlen);
	c->host[hlen] = 0;
	if (end[1] == ':')
	    colon = end + 1;
    } else {
	colon = strchr(s, ':');
	hlen = colon ? (size_t) (colon - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(c->host) || (colon && strchr(colon + 1, ':'))) {
	    why_set(why, "%s \"%s\": want host:port or unix:/path", what, s);
	    return (STATUS_INVAL);
	}
	memcpy(c->host, s, hlen);
	c->host[hlen] = 0;
    }
    if (colon && (str_copy(num, sizeof(num), colon + 1) != 0 || str_to_long(num, 1, 65535, &port) != 0)) {
	why_set(why, "%s \"%s\": bad port", what, s);
	return (STATUS_INVAL);
    }
    c->port = (int) port;
    return (STATUS_OK);
}

static void cache_redis_conn_init(CACHE_REDIS_CONN *c, int replica)
{
    (void) pthread_mutex_init(&c->lock, 0);
    c->replica = replica;
    c->backoff_ms = CACHE_REDIS_BACKOFF_MIN;
}

int     cache_redis_open(const CACHE_OPTS *opts, CACHE_STORE *store, WHY *why)
{
    CACHE_REDIS *r = 0;
    const char *p;
    size_t  j = 0;
    int     i;
    int     status = STATUS_FAIL;

    memset(store, 0, sizeof(*store));
    if ((r = calloc(1, sizeof(*r))) == 0) {
	why_set(why, "out of memory");
	goto done;
    }
    (void) pthread_mutex_init(&r->rr_lock, 0);
    (void) pthread_mutex_init(&r->w_lock, 0);
    (void) pthread_cond_init(&r->w_wake, 0);
    cache_redis_conn_init(&r->primary, 0);
    r->connect_ms = opts->redis_connect_timeout_ms > 0 ? opts->redis_connect_timeout_ms : 1000;
    r->command_ms = opts->redis_command_timeout_ms > 0 ? opts->redis_command_timeout_ms : 1000;
    if (opts->redis_sentinel_count > 0) {
	/* The sentinels name the primary; redis_server is not used. */
	if ((status = cache_sentinel_create(opts->redis_sentinels, opts->redis_sentinel_count,
					    opts->redis_master_name, opts->redis_sentinel_user,
					    opts->redis_sentinel_password, r->connect_ms, r->command_ms,
					    &r->sentinel, why)) != STATUS_OK)
	    goto done;
	(void) str_copy(r->master, sizeof(r->master), opts->redis_master_name);
    } else if ((status = cache_redis_addr(&r->primary.addr, "redis_server",
					  opts->redis_server ? opts->redis_server : "127.0.0.1:6379", 6379,
					  why)) != STATUS_OK) {
	goto done;
    }
    if (opts->redis_replica_count > CACHE_REDIS_REPLICA_MAX) {
	why_set(why, "redis_replicas: more than %d replicas", CACHE_REDIS_REPLICA_MAX);
	status = STATUS_INVAL;
	goto done;
    }
    for (i = 0; i < opts->redis_replica_count; i++) {
	cache_redis_conn_init(&r->replica[i], 1);
	r->replica_count = i + 1;
	if ((status = cache_redis_addr(&r->replica[i].addr, "redis_replicas", opts->redis_replicas[i], 6379, why)) != STATUS_OK)
	    goto done;
    }
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
    (void) snprintf(r->token, sizeof(r->token), "%ld.%lld", (long) getpid(), clock_mono_ms());
    /* Connect now so that the log says at start-up whether Redis is there. */
    cache_redis_tend(r, &r->primary);
    for (i = 0; i < r->replica_count; i++)
	cache_redis_tend(r, &r->replica[i]);
    if ((i = pthread_create(&r->w_tid, 0, cache_redis_watch, r)) != 0) {
	why_set(why, "redis: watcher thread: %s", strerror(i));
	status = STATUS_FAIL;
	goto done;
    }
    r->w_started = 1;
    store->name = "redis";
    store->ctx = r;
    store->get = cache_redis_get;
    store->get_primary = cache_redis_get_primary;
    store->mget = cache_redis_mget;
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
