/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache_sentinel 3
 * SUMMARY
 *	find the Redis primary through Redis Sentinel
 * SYNOPSIS
 *	#include "cache_sentinel.h"
 * DESCRIPTION
 *	See cache_sentinel.h for the API. It follows the Sentinel client
 *	guidelines (https://redis.io/docs/reference/sentinel-clients/):
 *	the sentinels are asked in turn with short timeouts, the first
 *	one that names the primary is asked first next time, and the
 *	caller (cache_redis.c) checks with ROLE that the server it then
 *	connects to is a primary, and asks again when it is not, when the
 *	connection fails, or when a write is refused with READONLY.
 *
 *	The reply is parsed by hiredis; this module only checks its shape
 *	(an array of two strings: address and port) and its content.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cache_sentinel.h"
#include "clock.h"
#include "status.h"
#include "str.h"
#include "text.h"

struct CACHE_SENTINEL {
    pthread_mutex_t lock;
    CACHE_REDIS_ADDR addr[CACHE_SENTINEL_MAX];
    int     count;
    int     first;			/* asked first: the last that answered */
    char    name[256];
    char    user[256];			/* redis_sentinel_user */
    char    password[256];		/* redis_sentinel_password; empty: no AUTH */
    int     connect_ms;
    int     command_ms;
};

int     cache_sentinel_create(const char *const *sentinels, int count, const char *name, const char *user,
			              const char *password, int connect_ms, int command_ms, CACHE_SENTINEL **out,
			              WHY *why)
{
    CACHE_SENTINEL *s = 0;
    int     i;
    int     status = STATUS_INVAL;

    *out = 0;
    if (count < 1 || count > CACHE_SENTINEL_MAX) {
	why_set(why, "redis_sentinels: want 1 to %d sentinels", CACHE_SENTINEL_MAX);
	goto done;
    }
    if (name == 0 || *name == 0) {
	why_set(why, "redis_sentinels needs redis_master_name");
	goto done;
    }
    if ((s = calloc(1, sizeof(*s))) == 0) {
	why_set(why, "out of memory");
	status = STATUS_FAIL;
	goto done;
    }
    (void) pthread_mutex_init(&s->lock, 0);
    if (str_copy(s->name, sizeof(s->name), name) != 0) {
	why_set(why, "redis_master_name is too long");
	goto done;
    }
    if (str_copy(s->user, sizeof(s->user), user ? user : "") != 0
	|| str_copy(s->password, sizeof(s->password), password ? password : "") != 0) {
	why_set(why, "redis_sentinel_user or redis_sentinel_password is too long");
	goto done;
    }
    for (i = 0; i < count; i++)
	if ((status = cache_redis_addr(&s->addr[i], "redis_sentinels", sentinels[i], CACHE_SENTINEL_PORT, why))
	    != STATUS_OK)
	    goto done;
    s->count = count;
    s->connect_ms = connect_ms > 0 ? connect_ms : 1000;
    s->command_ms = command_ms > 0 ? command_ms : 1000;
    *out = s;
    s = 0;
    status = STATUS_OK;

done:
    cache_sentinel_free(&s);
    return (status);
}

void    cache_sentinel_free(CACHE_SENTINEL **sp)
{
    if (sp == 0 || *sp == 0)
	return;
    (void) pthread_mutex_destroy(&(*sp)->lock);
    memset((*sp)->password, 0, sizeof((*sp)->password));
    free(*sp);
    *sp = 0;
}

/* A host as a sentinel names it: an IP address or a host name, nothing else. */

static int cache_sentinel_host_ok(const char *h, size_t len)
{
    size_t  i;

    if (len == 0 || len >= sizeof(((CACHE_REDIS_ADDR *) 0)->host))
	return (0);
    for (i = 0; i < len; i++)
	if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' && h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9')
	      || h[i] == '.' || h[i] == '-' || h[i] == ':' || h[i] == '_'))
	    return (0);
    return (1);
}

/* What is left of the budget until deadline, at most cap; 0 when none. */

static int cache_sentinel_left(long long deadline, int cap)
{
    long long left = deadline - clock_mono_ms();

    return (left <= 0 ? 0 : left < cap ? (int) left : cap);
}

/*
 * Ask one sentinel before deadline (its share of the call's budget).
 * STATUS_OK with *primary set, or STATUS_RETRY with the reason in err.
 */
static int cache_sentinel_ask(CACHE_SENTINEL *s, const CACHE_REDIS_ADDR *a, long long deadline,
			              CACHE_REDIS_ADDR *primary, char *err, size_t errsize)
{
    redisContext *rc = 0;
    redisReply *rep = 0;
    struct timeval tv;
    char    port[8];
    char    safe[128];
    long    n = 0;
    int     ms;
    int     status = STATUS_RETRY;

    if ((ms = cache_sentinel_left(deadline, s->connect_ms)) == 0) {
	(void) snprintf(err, errsize, "out of time");
	goto done;
    }
    if ((rc = cache_redis_dial(a, ms, s->command_ms, err, errsize)) == 0)
	goto done;
    /* The command gets what is left, so that the whole call keeps its deadline. */
    if ((ms = cache_sentinel_left(deadline, s->command_ms)) == 0) {
	(void) snprintf(err, errsize, "out of time");
	goto done;
    }
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    if (redisSetTimeout(rc, tv) != REDIS_OK) {
	(void) snprintf(err, errsize, "cannot set the command timeout");
	goto done;
    }
    if (cache_redis_auth(rc, s->user, s->password, err, errsize) != STATUS_OK)
	goto done;
    if ((rep = redisCommand(rc, "SENTINEL get-master-addr-by-name %s", s->name)) == 0) {
	(void) snprintf(err, errsize, "%s", rc->errstr[0] ? rc->errstr : "no reply");
	goto done;
    }
    if (rep->type == REDIS_REPLY_NIL) {
	(void) snprintf(err, errsize, "does not know \"%s\"", s->name);
    } else if (rep->type == REDIS_REPLY_ERROR) {
	(void) text_sanitize(safe, sizeof(safe), rep->str);
	(void) snprintf(err, errsize, "%s", safe);
    } else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2
	       || rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_STRING
	       || !cache_sentinel_host_ok(rep->element[0]->str, rep->element[0]->len)
	       || rep->element[1]->len >= sizeof(port)) {
	(void) snprintf(err, errsize, "unexpected answer to SENTINEL get-master-addr-by-name");
    } else {
	memcpy(port, rep->element[1]->str, rep->element[1]->len);
	port[rep->element[1]->len] = 0;
	if (str_to_long(port, 1, 65535, &n) != 0) {
	    (void) snprintf(err, errsize, "unexpected port in its answer");
	    goto done;
	}
	memset(primary, 0, sizeof(*primary));
	memcpy(primary->host, rep->element[0]->str, rep->element[0]->len);
	primary->host[rep->element[0]->len] = 0;
	primary->port = (int) n;
	/* An IPv6 address is written [v6]:port, as in redis_server. */
	(void) snprintf(primary->server, sizeof(primary->server), strchr(primary->host, ':') ? "[%s]:%d" : "%s:%d",
			primary->host, primary->port);
	status = STATUS_OK;
    }

done:
    if (rep)
	freeReplyObject(rep);
    if (rc)
	redisFree(rc);
    return (status);
}

int     cache_sentinel_primary(CACHE_SENTINEL *s, CACHE_REDIS_ADDR *primary, WHY *why)
{
    long long deadline = clock_mono_ms() + s->connect_ms + s->command_ms;
    long long left;
    char    err[160];
    char    all[WHY_MAX];
    int     first;
    int     i;
    int     k;
    int     status = STATUS_RETRY;

    all[0] = 0;
    (void) pthread_mutex_lock(&s->lock);
    first = s->first;
    (void) pthread_mutex_unlock(&s->lock);
    for (i = 0; i < s->count; i++) {
	k = (first + i) % s->count;
	if ((left = deadline - clock_mono_ms()) <= 0) {
	    (void) str_appendf(all, sizeof(all), "%sout of time", all[0] ? "; " : "");
	    break;
	}
	/* A fair share of what is left: one hung sentinel cannot use up the time of the others. */
	err[0] = 0;
	if (cache_sentinel_ask(s, &s->addr[k], clock_mono_ms() + left / (s->count - i), primary, err,
			       sizeof(err)) == STATUS_OK) {
	    (void) pthread_mutex_lock(&s->lock);
	    s->first = k;
	    (void) pthread_mutex_unlock(&s->lock);
	    status = STATUS_OK;
	    goto done;
	}
	(void) str_appendf(all, sizeof(all), "%s%s: %s", all[0] ? "; " : "", s->addr[k].server, err);
    }
    why_set(why, "no sentinel names primary \"%s\" (%s)", s->name, all);

done:
    return (status);
}
