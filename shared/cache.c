/*
 * NAME
 *	cache 3
 * SUMMARY
 *	policy cache, in-process backend
 * DESCRIPTION
 *	See cache.h. A chained hash table (FNV-1a over the domain) under one
 *	mutex; entries own copies of their bodies.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "clock.h"
#include "status.h"
#include "str.h"

#define CACHE_BUCKETS	1024
#define CACHE_DOMAIN_MAX 256

typedef struct CACHE_ENTRY {
    struct CACHE_ENTRY *next;
    char    domain[CACHE_DOMAIN_MAX];
    CACHE_POLICY policy;
} CACHE_ENTRY;

struct CACHE {
    pthread_mutex_t lock;
    int     max_entries;
    int     count;
    CACHE_ENTRY *bucket[CACHE_BUCKETS];
};

static unsigned cache_hash(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
	h = (h ^ (unsigned char) *s) * 16777619u;
    return (h % CACHE_BUCKETS);
}

int     cache_create(int max_entries, CACHE **out, WHY *why)
{
    CACHE  *c;

    *out = 0;
    if (max_entries < 1) {
	why_set(why, "cache size must be at least 1");
	return (STATUS_INVAL);
    }
    if ((c = calloc(1, sizeof(*c))) == 0) {
	why_set(why, "out of memory");
	return (STATUS_FAIL);
    }
    (void) pthread_mutex_init(&c->lock, 0);
    c->max_entries = max_entries;
    *out = c;
    return (STATUS_OK);
}

static void cache_entry_free(CACHE_ENTRY **e)
{
    cache_policy_clear(&(*e)->policy);
    free(*e);
    *e = 0;
}

void    cache_free(CACHE **cp)
{
    CACHE  *c;
    CACHE_ENTRY *e, *next;
    int     i;

    if (cp == 0 || (c = *cp) == 0)
	return;
    for (i = 0; i < CACHE_BUCKETS; i++) {
	for (e = c->bucket[i]; e; e = next) {
	    next = e->next;
	    cache_entry_free(&e);
	}
    }
    (void) pthread_mutex_destroy(&c->lock);
    free(c);
    *cp = 0;
}

void    cache_policy_clear(CACHE_POLICY *p)
{
    free(p->body);
    p->body = 0;
    p->len = 0;
}

static int cache_copy(CACHE_POLICY *dst, const CACHE_POLICY *src)
{
    *dst = *src;
    if ((dst->body = malloc(src->len + 1)) == 0) {
	dst->len = 0;
	return (-1);
    }
    memcpy(dst->body, src->body, src->len);
    dst->body[src->len] = 0;
    return (0);
}

/* Unlink and free the entry for domain, if any. Caller holds the lock. */

static int cache_unlink(CACHE *c, const char *domain)
{
    CACHE_ENTRY **pp, *e;

    for (pp = &c->bucket[cache_hash(domain)]; (e = *pp) != 0; pp = &e->next) {
	if (strcmp(e->domain, domain) == 0) {
	    *pp = e->next;
	    cache_entry_free(&e);
	    c->count--;
	    return (1);
	}
    }
    return (0);
}

int     cache_policy_get(CACHE *c, const char *domain, CACHE_POLICY *out)
{
    CACHE_ENTRY *e;
    int     status = STATUS_NOTFOUND;

    memset(out, 0, sizeof(*out));
    (void) pthread_mutex_lock(&c->lock);
    for (e = c->bucket[cache_hash(domain)]; e; e = e->next)
	if (strcmp(e->domain, domain) == 0)
	    break;
    if (e != 0) {
	/* RFC 8461 §3.2: max_age is the policy's lifetime in the cache. */
	if (clock_now() >= e->policy.fetched + e->policy.max_age)
	    (void) cache_unlink(c, domain);
	else if (cache_copy(out, &e->policy) == 0)
	    status = STATUS_OK;
	else
	    status = STATUS_RETRY;
    }
    (void) pthread_mutex_unlock(&c->lock);
    return (status);
}

/* Evict the entry fetched longest ago. Caller holds the lock. */

static void cache_evict_oldest(CACHE *c)
{
    CACHE_ENTRY *e, *oldest = 0;
    int     i;

    for (i = 0; i < CACHE_BUCKETS; i++)
	for (e = c->bucket[i]; e; e = e->next)
	    if (oldest == 0 || e->policy.fetched < oldest->policy.fetched)
		oldest = e;
    if (oldest)
	(void) cache_unlink(c, oldest->domain);
}

int     cache_policy_put(CACHE *c, const char *domain, const CACHE_POLICY *in)
{
    CACHE_ENTRY *e;
    unsigned h;
    int     status = STATUS_OK;

    if (strlen(domain) >= CACHE_DOMAIN_MAX)
	return (STATUS_INVAL);
    if ((e = calloc(1, sizeof(*e))) == 0 || cache_copy(&e->policy, in) != 0) {
	free(e);
	return (STATUS_RETRY);
    }
    (void) str_copy(e->domain, sizeof(e->domain), domain);
    (void) pthread_mutex_lock(&c->lock);
    (void) cache_unlink(c, domain);
    if (c->count >= c->max_entries)
	cache_evict_oldest(c);
    h = cache_hash(domain);
    e->next = c->bucket[h];
    c->bucket[h] = e;
    c->count++;
    (void) pthread_mutex_unlock(&c->lock);
    return (status);
}

int     cache_policy_delete(CACHE *c, const char *domain)
{
    int     found;

    (void) pthread_mutex_lock(&c->lock);
    found = cache_unlink(c, domain);
    (void) pthread_mutex_unlock(&c->lock);
    return (found ? STATUS_OK : STATUS_NOTFOUND);
}
