/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache 3
 * SUMMARY
 *	policy and route cache: in-process L1, value format, backend glue
 * DESCRIPTION
 *	See cache.h. L1 is an htable (the entries by key) with a
 *	least-recently-used list, under one mutex, bounded in entries and
 *	in bytes; entries own copies of their bodies. A miss in L1 reads
 *	the backend (cache_lmdb.c or cache_redis.c) without holding the L1
 *	lock, decodes the value (untrusted: any defect is a miss and a
 *	warning) and fills L1. Puts write L1 and then the backend.
 *
 *	A backend failure is counted and is a miss; the backend module
 *	logs its own changes of state.
 */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_impl.h"
#include "clock.h"
#include "htable.h"
#include "log.h"
#include "metrics.h"
#include "status.h"
#include "str.h"

#define CACHE_BUCKETS	4096		/* to start with; the table grows */
#define CACHE_DOMAIN_MAX 256
#define CACHE_DEFAULT_BYTES (64L * 1024 * 1024)
#define CACHE_MAGIC	0x53
#define CACHE_VERSION	1
#define CACHE_HDR	37		/* fixed part of a value, id excluded */

/* The key of a domain's record; -1 when the domain is too long. */

static int cache_key(char *key, size_t size, const char *domain)
{
    if (strlen(domain) >= CACHE_DOMAIN_MAX)
	return (-1);
    return (snprintf(key, size, "d:%s", domain) >= (int) size ? -1 : 0);
}

int     cache_create(int max_entries, CACHE **out, WHY *why)
{
    CACHE_OPTS opts;

    memset(&opts, 0, sizeof(opts));
    opts.backend = CACHE_BACKEND_MEMORY;
    opts.memory_entries = max_entries;
    return (cache_open(&opts, out, why));
}

int     cache_open(const CACHE_OPTS *opts, CACHE **out, WHY *why)
{
    CACHE  *c = 0;
    WHY     bwhy;
    int     st;
    int     status = STATUS_FAIL;

    *out = 0;
    bwhy.text[0] = 0;
    if (opts->memory_entries < 1) {
	why_set(why, "cache size must be at least 1");
	status = STATUS_INVAL;
	goto done;
    }
    if ((c = calloc(1, sizeof(*c))) == 0) {
	why_set(why, "out of memory");
	goto done;
    }
    (void) pthread_mutex_init(&c->lock, 0);
    if (htable_create(CACHE_BUCKETS, &c->table) != STATUS_OK) {
	why_set(why, "out of memory");
	goto done;
    }
    c->max_entries = opts->memory_entries;
    c->max_bytes = opts->memory_bytes > 0 ? opts->memory_bytes : CACHE_DEFAULT_BYTES;
    c->backend = opts->backend;
    if (opts->backend == CACHE_BACKEND_LMDB) {
	st = cache_lmdb_open(opts, &c->store, &bwhy);
    } else if (opts->backend == CACHE_BACKEND_REDIS) {
	st = cache_redis_open(opts, &c->store, &bwhy);
    } else {
	st = STATUS_OK;
    }
    if (st != STATUS_OK) {
	/* Never lose mail: work from memory and direct resolution. */
	log_error("cache: %s backend unavailable (%s); using the in-process cache only",
		  opts->backend == CACHE_BACKEND_LMDB ? "lmdb" : "redis", why_text(&bwhy));
	memset(&c->store, 0, sizeof(c->store));
    }
    *out = c;
    c = 0;
    status = STATUS_OK;

done:
    cache_free(&c);
    return (status);
}

static void cache_entry_free(CACHE_ENTRY **e)
{
    cache_policy_clear(&(*e)->rec);
    free(*e);
    *e = 0;
}

void    cache_free(CACHE **cp)
{
    CACHE  *c;
    CACHE_ENTRY *e, *next;

    if (cp == 0 || (c = *cp) == 0)
	return;
    for (e = c->lru_head; e; e = next) {
	next = e->lru_next;
	cache_entry_free(&e);
    }
    htable_free(&c->table, 0);
    free(c->purge_last);
    if (c->store.close)
	c->store.close(&c->store.ctx);
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
    if (src->len > CACHE_BODY_MAX || (dst->body = malloc(src->len + 1)) == 0) {
	dst->body = 0;
	dst->len = 0;
	return (-1);
    }
    if (src->len)
	memcpy(dst->body, src->body, src->len);
    dst->body[src->len] = 0;
    return (0);
}

/* When a record stops being usable. */

static time_t cache_expires(const CACHE_POLICY *r)
{
    if (r->kind == CACHE_KIND_NEGATIVE || r->kind == CACHE_KIND_PROBE || r->kind == CACHE_KIND_ANSWER
	|| r->kind == CACHE_KIND_PURGES)
	return (r->expires);
    /* RFC 8461 §3.2: max_age is the policy's lifetime in the cache. */
    return (r->fetched + r->max_age);
}

/* Value format: see cache.h. */

static void cache_put64(unsigned char *p, int64_t v)
{
    uint64_t u = (uint64_t) v;
    int     i;

    for (i = 7; i >= 0; i--, u >>= 8)
	p[i] = (unsigned char) (u & 0xff);
}

static int64_t cache_get64(const unsigned char *p)
{
    uint64_t u = 0;
    int     i;

    for (i = 0; i < 8; i++)
	u = (u << 8) | p[i];
    return ((int64_t) u);
}

static void cache_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char) (v >> 24);
    p[1] = (unsigned char) (v >> 16);
    p[2] = (unsigned char) (v >> 8);
    p[3] = (unsigned char) v;
}

static uint32_t cache_get32(const unsigned char *p)
{
    return (((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3]);
}

int     cache_encode(const CACHE_POLICY *r, unsigned char *buf, size_t size, size_t *len)
{
    size_t  idlen = strnlen(r->txt_id, sizeof(r->txt_id));
    size_t  need = CACHE_HDR + idlen + r->len;
    int     kind = r->kind ? r->kind : CACHE_KIND_POLICY;

    *len = 0;
    if (idlen > 32 || r->len > CACHE_BODY_MAX || need > size || r->max_age < 0
	|| r->max_age > CACHE_MAX_AGE_MAX || (r->len && r->body == 0))
	return (STATUS_INVAL);
    buf[0] = CACHE_MAGIC;
    buf[1] = CACHE_VERSION;
    buf[2] = (unsigned char) kind;
    buf[3] = 0;
    cache_put64(buf + 4, (int64_t) r->fetched);
    cache_put64(buf + 12, (int64_t) (kind == CACHE_KIND_POLICY ? r->fetched + r->max_age : r->expires));
    cache_put64(buf + 20, (int64_t) r->checked);
    cache_put32(buf + 28, (uint32_t) r->max_age);
    buf[32] = (unsigned char) idlen;
    memcpy(buf + 33, r->txt_id, idlen);
    cache_put32(buf + 33 + idlen, (uint32_t) r->len);
    if (r->len)
	memcpy(buf + 37 + idlen, r->body, r->len);
    *len = need;
    return (STATUS_OK);
}

int     cache_decode(const unsigned char *buf, size_t len, CACHE_POLICY *out)
{
    size_t  idlen, blen, i;
    int64_t fetched, expires, checked;
    uint32_t max_age;

    memset(out, 0, sizeof(*out));
    if (len < CACHE_HDR || len > CACHE_VALUE_MAX || buf[0] != CACHE_MAGIC || buf[1] != CACHE_VERSION
	|| (buf[2] != CACHE_KIND_POLICY && buf[2] != CACHE_KIND_NEGATIVE && buf[2] != CACHE_KIND_PROBE
	    && buf[2] != CACHE_KIND_PURGES)
	|| buf[3] != 0)
	return (STATUS_INVAL);
    fetched = cache_get64(buf + 4);
    expires = cache_get64(buf + 12);
    checked = cache_get64(buf + 20);
    max_age = cache_get32(buf + 28);
    idlen = buf[32];
    if (idlen > 32 || max_age > (uint32_t) CACHE_MAX_AGE_MAX || CACHE_HDR + idlen > len)
	return (STATUS_INVAL);
    for (i = 0; i < idlen; i++) {
	unsigned char ch = buf[33 + i];

	if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
	    return (STATUS_INVAL);
    }
    blen = cache_get32(buf + 33 + idlen);
    if (blen > CACHE_BODY_MAX || CACHE_HDR + idlen + blen != len)
	return (STATUS_INVAL);
    /* Times within +-2^40 s keep the arithmetic below free of overflow. */
    if (fetched < 0 || fetched > ((int64_t) 1 << 40) || checked < 0 || checked > ((int64_t) 1 << 40)
	|| expires < 0 || expires > ((int64_t) 1 << 41))
	return (STATUS_INVAL);
    if (buf[2] == CACHE_KIND_POLICY && expires != fetched + (int64_t) max_age)
	return (STATUS_INVAL);
    /* A probe result: no id, no max_age, a lifetime of at most a week. */
    if (buf[2] == CACHE_KIND_PROBE
	&& (idlen != 0 || max_age != 0 || blen > CACHE_PROBE_BODY_MAX || expires < fetched
	    || expires > fetched + CACHE_PROBE_TTL_MAX))
	return (STATUS_INVAL);
    /* The purge notices (cache_purge.c): no id, no max_age. */
    if (buf[2] == CACHE_KIND_PURGES && (idlen != 0 || max_age != 0 || expires < fetched))
	return (STATUS_INVAL);
    if ((out->body = malloc(blen + 1)) == 0)
	return (STATUS_RETRY);
    if (blen)
	memcpy(out->body, buf + 37 + idlen, blen);
    out->body[blen] = 0;
    out->len = blen;
    memcpy(out->txt_id, buf + 33, idlen);
    out->txt_id[idlen] = 0;
    out->kind = buf[2];
    out->fetched = (time_t) fetched;
    out->expires = (time_t) expires;
    out->checked = (time_t) checked;
    out->max_age = (long) max_age;
    return (STATUS_OK);
}

/* LRU list and table maintenance. Callers hold the lock. */

static void cache_lru_unlink(CACHE *c, CACHE_ENTRY *e)
{
    if (e->lru_prev)
	e->lru_prev->lru_next = e->lru_next;
    else
	c->lru_head = e->lru_next;
    if (e->lru_next)
	e->lru_next->lru_prev = e->lru_prev;
    else
	c->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = 0;
}

static void cache_lru_front(CACHE *c, CACHE_ENTRY *e)
{
    e->lru_prev = 0;
    e->lru_next = c->lru_head;
    if (c->lru_head)
	c->lru_head->lru_prev = e;
    c->lru_head = e;
    if (c->lru_tail == 0)
	c->lru_tail = e;
}

static CACHE_ENTRY *cache_find(CACHE *c, const char *key)
{
    return (htable_find(c->table, key));
}

static int cache_unlink(CACHE *c, const char *key)
{
    void   *value;
    CACHE_ENTRY *e;

    if (htable_delete(c->table, key, &value) != STATUS_OK)
	return (0);
    e = value;
    cache_lru_unlink(c, e);
    c->count--;
    c->bytes -= (long) e->bytes;
    cache_entry_free(&e);
    return (1);
}

/* Link e into the table and the LRU list, evicting least recent entries first. */

static int cache_link(CACHE *c, CACHE_ENTRY *e)
{
    (void) cache_unlink(c, e->key);
    while (c->lru_tail && (c->count >= c->max_entries || c->bytes + (long) e->bytes > c->max_bytes))
	(void) cache_unlink(c, c->lru_tail->key);
    if (htable_enter(c->table, e->key, e) != STATUS_OK)
	return (STATUS_RETRY);
    cache_lru_front(c, e);
    c->count++;
    c->bytes += (long) e->bytes;
    return (STATUS_OK);
}

/* Insert a copy of rec under key into L1, evicting least recent entries. */

static int cache_l1_put(CACHE *c, const char *key, const CACHE_POLICY *rec)
{
    CACHE_ENTRY *e;
    int     status;

    if ((e = calloc(1, sizeof(*e))) == 0 || cache_copy(&e->rec, rec) != 0) {
	free(e);
	return (STATUS_RETRY);
    }
    (void) str_copy(e->key, sizeof(e->key), key);
    e->bytes = sizeof(*e) + rec->len + 1;
    (void) pthread_mutex_lock(&c->lock);
    status = cache_link(c, e);
    (void) pthread_mutex_unlock(&c->lock);
    if (status != STATUS_OK)
	cache_entry_free(&e);
    return (status);
}

/* Look key up in L1, then in the backend; a fresh record of any kind. */

static int cache_lookup(CACHE *c, const char *key, int skip_l1, CACHE_POLICY *out)
{
    CACHE_ENTRY *e;
    unsigned char *val = 0;
    size_t  len = 0;
    int     status = STATUS_NOTFOUND;
    int     st;

    memset(out, 0, sizeof(*out));
    (void) pthread_mutex_lock(&c->lock);
    c->lookups++;
    if (!skip_l1 && (e = cache_find(c, key)) != 0) {
	if (clock_now() >= cache_expires(&e->rec)) {
	    (void) cache_unlink(c, key);
	} else if (cache_copy(out, &e->rec) == 0) {
	    cache_lru_unlink(c, e);
	    cache_lru_front(c, e);
	    c->l1_hits++;
	    metrics_inc(METRICS_CACHE_L1_HIT);
	    status = STATUS_OK;
	} else {
	    status = STATUS_RETRY;
	}
    }
    (void) pthread_mutex_unlock(&c->lock);
    if (!skip_l1 && status == STATUS_NOTFOUND)
	metrics_inc(METRICS_CACHE_L1_MISS);
    if (status != STATUS_NOTFOUND || c->store.get == 0)
	goto done;

    /* A read that skips L1 wants the authoritative copy (not a lagging replica). */
    if (skip_l1 && c->store.get_primary)
	st = c->store.get_primary(c->store.ctx, key, &val, &len);
    else
	st = c->store.get(c->store.ctx, key, &val, &len);
    if (st == STATUS_OK) {
	st = cache_decode(val, len, out);
	if (st == STATUS_INVAL) {
	    /* Backend data is untrusted: a defect is a miss. */
	    log_warn("cache: %s: corrupt %s value (%lu bytes) ignored and removed", key,
		     c->store.name, (unsigned long) len);
	    (void) c->store.del(c->store.ctx, key);
	    (void) pthread_mutex_lock(&c->lock);
	    c->corrupt++;
	    (void) pthread_mutex_unlock(&c->lock);
	} else if (st == STATUS_OK && clock_now() >= cache_expires(out)) {
	    cache_policy_clear(out);
	    (void) c->store.del(c->store.ctx, key);
	} else if (st == STATUS_OK) {
	    (void) cache_l1_put(c, key, out);
	    (void) pthread_mutex_lock(&c->lock);
	    c->backend_hits++;
	    (void) pthread_mutex_unlock(&c->lock);
	    metrics_inc(c->backend == CACHE_BACKEND_REDIS ? METRICS_CACHE_REDIS_HIT : METRICS_CACHE_LMDB_HIT);
	    status = STATUS_OK;
	}
    } else if (st == STATUS_RETRY) {
	(void) pthread_mutex_lock(&c->lock);
	c->backend_errors++;
	(void) pthread_mutex_unlock(&c->lock);
    }
    if (status != STATUS_OK)
	metrics_inc(c->backend == CACHE_BACKEND_REDIS ? METRICS_CACHE_REDIS_MISS : METRICS_CACHE_LMDB_MISS);

done:
    free(val);
    if (status != STATUS_OK) {
	cache_policy_clear(out);
	memset(out, 0, sizeof(*out));
	(void) pthread_mutex_lock(&c->lock);
	c->misses++;
	(void) pthread_mutex_unlock(&c->lock);
    }
    return (status);
}

/* Get a fresh record of one kind. */

static int cache_get_key(CACHE *c, const char *key, int kind, int skip_l1, CACHE_POLICY *out)
{
    int     status;

    if ((status = cache_lookup(c, key, skip_l1, out)) == STATUS_OK && out->kind != kind) {
	cache_policy_clear(out);
	memset(out, 0, sizeof(*out));
	status = STATUS_NOTFOUND;
    }
    return (status);
}

static int cache_get_kind(CACHE *c, const char *domain, int kind, int skip_l1, CACHE_POLICY *out)
{
    char    key[CACHE_KEY_MAX];

    memset(out, 0, sizeof(*out));
    if (cache_key(key, sizeof(key), domain) != 0)
	return (STATUS_NOTFOUND);
    return (cache_get_key(c, key, kind, skip_l1, out));
}

int     cache_policy_get(CACHE *c, const char *domain, CACHE_POLICY *out)
{
    return (cache_get_kind(c, domain, CACHE_KIND_POLICY, 0, out));
}

int     cache_policy_get_shared(CACHE *c, const char *domain, CACHE_POLICY *out)
{
    if (c->store.get == 0) {
	memset(out, 0, sizeof(*out));
	return (STATUS_NOTFOUND);
    }
    return (cache_get_kind(c, domain, CACHE_KIND_POLICY, 1, out));
}

/*
 * Read-only look at a domain's record, for a diagnosis: the backend's
 * authoritative copy (L1 only without a backend), expired or not, and
 * nothing changed (no L1 fill or reorder, no delete, no counters).
 */
int     cache_peek(CACHE *c, const char *domain, CACHE_POLICY *out)
{
    char    key[CACHE_KEY_MAX];
    CACHE_ENTRY *e;
    unsigned char *val = 0;
    size_t  len = 0;
    int     status = STATUS_NOTFOUND;

    memset(out, 0, sizeof(*out));
    if (cache_key(key, sizeof(key), domain) != 0)
	goto done;
    if (c->store.get == 0) {
	(void) pthread_mutex_lock(&c->lock);
	if ((e = cache_find(c, key)) != 0)
	    status = cache_copy(out, &e->rec) == 0 ? STATUS_OK : STATUS_RETRY;
	(void) pthread_mutex_unlock(&c->lock);
	goto done;
    }
    status = c->store.get_primary ? c->store.get_primary(c->store.ctx, key, &val, &len) :
	c->store.get(c->store.ctx, key, &val, &len);
    if (status == STATUS_OK && (status = cache_decode(val, len, out)) == STATUS_OK
	&& out->kind == CACHE_KIND_POLICY)
	out->expires = cache_expires(out);

done:
    free(val);
    if (status != STATUS_OK) {
	cache_policy_clear(out);
	memset(out, 0, sizeof(*out));
    }
    return (status);
}

int     cache_negative_get(CACHE *c, const char *domain, CACHE_POLICY *out)
{
    return (cache_get_kind(c, domain, CACHE_KIND_NEGATIVE, 0, out));
}

/* Store rec under key: L1, then the backend. */

static int cache_store_key(CACHE *c, const char *key, const CACHE_POLICY *rec)
{
    unsigned char *val = 0;
    size_t  len;
    long    ttl;
    int     status;

    if ((status = cache_l1_put(c, key, rec)) != STATUS_OK)
	goto done;
    if (c->store.put == 0)
	goto done;
    if ((val = malloc(CACHE_VALUE_MAX)) == 0) {
	status = STATUS_RETRY;
	goto done;
    }
    if ((status = cache_encode(rec, val, CACHE_VALUE_MAX, &len)) != STATUS_OK)
	goto done;
    ttl = (long) (cache_expires(rec) - clock_now());
    if (ttl <= 0)
	goto done;
    if (c->store.put(c->store.ctx, key, val, len, ttl) != STATUS_OK) {
	(void) pthread_mutex_lock(&c->lock);
	c->backend_errors++;
	(void) pthread_mutex_unlock(&c->lock);
	status = STATUS_RETRY;
    }

done:
    free(val);
    return (status);
}

static int cache_store(CACHE *c, const char *domain, const CACHE_POLICY *rec)
{
    char    key[CACHE_KEY_MAX];

    if (cache_key(key, sizeof(key), domain) != 0)
	return (STATUS_INVAL);
    return (cache_store_key(c, key, rec));
}

int     cache_policy_put(CACHE *c, const char *domain, const CACHE_POLICY *in)
{
    CACHE_POLICY rec = *in;

    rec.kind = CACHE_KIND_POLICY;
    rec.expires = rec.fetched + rec.max_age;
    if (rec.max_age < 0 || rec.max_age > CACHE_MAX_AGE_MAX || rec.len > CACHE_BODY_MAX)
	return (STATUS_INVAL);
    return (cache_store(c, domain, &rec));
}

int     cache_negative_put(CACHE *c, const char *domain, const char *hosts, long ttl)
{
    CACHE_POLICY rec;

    memset(&rec, 0, sizeof(rec));
    rec.kind = CACHE_KIND_NEGATIVE;
    rec.fetched = clock_now();
    rec.checked = rec.fetched;
    rec.expires = rec.fetched + (ttl > 0 ? ttl : 1);
    rec.body = (char *) hosts;
    rec.len = hosts ? strlen(hosts) : 0;
    if (rec.len > CACHE_BODY_MAX)
	return (STATUS_INVAL);
    return (cache_store(c, domain, &rec));
}

int     cache_policy_delete(CACHE *c, const char *domain)
{
    char    key[CACHE_KEY_MAX];
    int     found;
    int     st = STATUS_NOTFOUND;

    if (cache_key(key, sizeof(key), domain) != 0)
	return (STATUS_NOTFOUND);
    (void) pthread_mutex_lock(&c->lock);
    found = cache_unlink(c, key);
    (void) pthread_mutex_unlock(&c->lock);
    if (c->store.del)
	st = c->store.del(c->store.ctx, key);
    return (found || st == STATUS_OK ? STATUS_OK : STATUS_NOTFOUND);
}

/*
 * Answers (cache.h): L1 only, never written to a backend. The body is
 * opaque here; a get copies it into the caller's buffer under the lock,
 * so that a hit allocates nothing.
 */
static int cache_answer_key(char *key, size_t size, const char *domain)
{
    if (strlen(domain) >= CACHE_DOMAIN_MAX)
	return (-1);
    return (snprintf(key, size, "a:%s", domain) >= (int) size ? -1 : 0);
}

int     cache_answer_get(CACHE *c, const char *domain, void *head, size_t head_size,
			         char *tail, size_t tail_size, size_t *tail_len)
{
    char    key[CACHE_KEY_MAX];
    CACHE_ENTRY *e;
    int     status = STATUS_NOTFOUND;

    *tail_len = 0;
    if (cache_answer_key(key, sizeof(key), domain) != 0)
	return (STATUS_NOTFOUND);
    (void) pthread_mutex_lock(&c->lock);
    if ((e = cache_find(c, key)) != 0) {
	if (clock_now() >= e->rec.expires) {
	    (void) cache_unlink(c, key);
	} else if (e->rec.len >= head_size && (tail == 0 || e->rec.len - head_size < tail_size)) {
	    memcpy(head, e->rec.body, head_size);
	    *tail_len = e->rec.len - head_size;
	    if (tail) {
		memcpy(tail, e->rec.body + head_size, *tail_len);
		tail[*tail_len] = 0;
	    }
	    cache_lru_unlink(c, e);
	    cache_lru_front(c, e);
	    status = STATUS_OK;
	}
    }
    (void) pthread_mutex_unlock(&c->lock);
    metrics_inc(status == STATUS_OK ? METRICS_CACHE_ANSWER_HIT : METRICS_CACHE_ANSWER_MISS);
    return (status);
}

int     cache_answer_put(CACHE *c, const char *domain, const void *body, size_t len, time_t expires)
{
    char    key[CACHE_KEY_MAX];
    CACHE_ENTRY *e = 0;
    int     status = STATUS_RETRY;

    if (cache_answer_key(key, sizeof(key), domain) != 0 || len > CACHE_ANSWER_BODY_MAX) {
	status = STATUS_INVAL;
	goto done;
    }
    if ((e = calloc(1, sizeof(*e))) == 0 || (e->rec.body = malloc(len + 1)) == 0)
	goto done;
    memcpy(e->rec.body, body, len);
    e->rec.body[len] = 0;
    e->rec.len = len;
    e->rec.kind = CACHE_KIND_ANSWER;
    e->rec.expires = expires;
    (void) str_copy(e->key, sizeof(e->key), key);
    e->bytes = sizeof(*e) + len + 1;
    (void) pthread_mutex_lock(&c->lock);
    if ((status = cache_link(c, e)) == STATUS_OK)
	e = 0;
    (void) pthread_mutex_unlock(&c->lock);

done:
    if (e)
	cache_entry_free(&e);
    return (status);
}

void    cache_answer_drop(CACHE *c, const char *domain)
{
    char    key[CACHE_KEY_MAX];

    if (cache_answer_key(key, sizeof(key), domain) != 0)
	return;
    (void) pthread_mutex_lock(&c->lock);
    (void) cache_unlink(c, key);
    (void) pthread_mutex_unlock(&c->lock);
}

void    cache_l1_drop(CACHE *c, const char *domain)
{
    char    key[CACHE_KEY_MAX];

    (void) pthread_mutex_lock(&c->lock);
    if (cache_key(key, sizeof(key), domain) == 0)
	(void) cache_unlink(c, key);
    if (cache_answer_key(key, sizeof(key), domain) == 0)
	(void) cache_unlink(c, key);
    (void) pthread_mutex_unlock(&c->lock);
}

void    cache_l1_flush(CACHE *c)
{
    (void) pthread_mutex_lock(&c->lock);
    while (c->lru_tail)
	(void) cache_unlink(c, c->lru_tail->key);
    (void) pthread_mutex_unlock(&c->lock);
}

int     cache_purge_all(CACHE *c)
{
    int     status = STATUS_OK;

    cache_l1_flush(c);
    if (c->store.purge)
	status = c->store.purge(c->store.ctx);
    return (status);
}

void    cache_stats(CACHE *c, CACHE_STATS *s)
{
    memset(s, 0, sizeof(*s));
    (void) pthread_mutex_lock(&c->lock);
    s->lookups = c->lookups;
    s->l1_hits = c->l1_hits;
    s->backend_hits = c->backend_hits;
    s->misses = c->misses;
    s->backend_errors = c->backend_errors;
    s->corrupt = c->corrupt;
    s->l1_entries = c->count;
    s->l1_bytes = c->bytes;
    (void) pthread_mutex_unlock(&c->lock);
    s->backend_entries = -1;
    if (c->store.name) {
	(void) str_copy(s->backend, sizeof(s->backend), c->store.name);
	c->store.count(c->store.ctx, &s->backend_entries);
	c->store.state(c->store.ctx, s->state, sizeof(s->state));
    } else {
	(void) str_copy(s->backend, sizeof(s->backend), "memory");
	(void) str_copy(s->state, sizeof(s->state),
			c->backend == CACHE_BACKEND_MEMORY ? "in-process only" :
			"backend unavailable; in-process only");
    }
}

int     cache_lock(CACHE *c, const char *domain, int ttl_ms)
{
    char    key[CACHE_KEY_MAX];

    if (c->store.lock == 0)
	return (STATUS_OK);
    if (snprintf(key, sizeof(key), "lock:%s", domain) >= (int) sizeof(key))
	return (STATUS_OK);
    return (c->store.lock(c->store.ctx, key, "1", ttl_ms));
}

void    cache_unlock(CACHE *c, const char *domain)
{
    char    key[CACHE_KEY_MAX];

    if (c->store.unlock == 0)
	return;
    if (snprintf(key, sizeof(key), "lock:%s", domain) >= (int) sizeof(key))
	return;
    c->store.unlock(c->store.ctx, key, "1");
}

/* Probe results (cache.h): "p:" HOST ":" PORT ":" DANE. */

int     cache_probe_key(char *key, size_t size, const char *host, int port, int dane)
{
    if (strlen(host) >= CACHE_DOMAIN_MAX || port < 1 || port > 65535)
	return (-1);
    return (snprintf(key, size, "p:%s:%d:%d", host, port, dane ? 1 : 0) >= (int) size ? -1 : 0);
}

void    cache_probe_prefetch(CACHE *c, const char *const *hosts, int count, int port, int secure)
{
    char    keys[CACHE_MGET_MAX][CACHE_KEY_MAX];
    const char *want[CACHE_MGET_MAX];
    unsigned char *vals[CACHE_MGET_MAX];
    size_t  lens[CACHE_MGET_MAX];
    int     st[CACHE_MGET_MAX];
    CACHE_POLICY rec;
    CACHE_ENTRY *e;
    time_t  now = clock_now();
    int     n = 0;
    int     i, dane;

    if (c->store.mget == 0)
	return;
    (void) pthread_mutex_lock(&c->lock);
    for (i = 0; i < count; i++)
	for (dane = 0; dane <= (secure ? 1 : 0) && n < CACHE_MGET_MAX; dane++) {
	    if (cache_probe_key(keys[n], sizeof(keys[n]), hosts[i], port, dane) != 0)
		continue;
	    if ((e = cache_find(c, keys[n])) != 0 && now < cache_expires(&e->rec))
		continue;			/* fresh in L1 */
	    want[n] = keys[n];
	    n++;
	}
    (void) pthread_mutex_unlock(&c->lock);
    if (n == 0 || c->store.mget(c->store.ctx, want, n, vals, lens, st) != STATUS_OK)
	return;
    for (i = 0; i < n; i++) {
	if (st[i] != STATUS_OK)
	    continue;
	if (cache_decode(vals[i], lens[i], &rec) != STATUS_OK || rec.kind != CACHE_KIND_PROBE) {
	    /* Backend data is untrusted: the host's own get deals with it (a miss, a warning). */
	    cache_policy_clear(&rec);
	} else if (now < cache_expires(&rec)) {
	    (void) cache_l1_put(c, want[i], &rec);
	    cache_policy_clear(&rec);
	} else {
	    cache_policy_clear(&rec);
	}
	free(vals[i]);
    }
}

int     cache_probe_get(CACHE *c, const char *host, int port, int dane, int shared, CACHE_POLICY *out)
{
    char    key[CACHE_KEY_MAX];
    int     st;

    memset(out, 0, sizeof(*out));
    if ((shared && c->store.get == 0) || cache_probe_key(key, sizeof(key), host, port, dane) != 0)
	return (STATUS_NOTFOUND);
    if ((st = cache_get_key(c, key, CACHE_KIND_PROBE, shared, out)) == STATUS_OK
	&& out->len == sizeof(CACHE_PROBE_NO_DANE) - 1 && memcmp(out->body, CACHE_PROBE_NO_DANE, out->len) == 0) {
	/* A "no DANE result" marker (cache_probe_put()) answers as a miss. */
	cache_policy_clear(out);
	memset(out, 0, sizeof(*out));
	st = STATUS_NOTFOUND;
    }
    return (st);
}

int     cache_probe_put(CACHE *c, const char *host, int port, int dane, const char *body, long ttl)
{
    char    key[CACHE_KEY_MAX];
    CACHE_POLICY rec;
    int     st;

    if (cache_probe_key(key, sizeof(key), host, port, dane) != 0 || ttl <= 0 || ttl > CACHE_PROBE_TTL_MAX)
	return (STATUS_INVAL);
    memset(&rec, 0, sizeof(rec));
    rec.kind = CACHE_KIND_PROBE;
    rec.fetched = clock_now();
    rec.checked = rec.fetched;
    rec.expires = rec.fetched + ttl;
    rec.body = (char *) body;
    rec.len = body ? strlen(body) : 0;
    if (rec.len > CACHE_PROBE_BODY_MAX)
	return (STATUS_INVAL);
    if ((st = cache_store_key(c, key, &rec)) != STATUS_OK || dane || body == 0
	|| strstr(body, "\nsecure=1\n") == 0 || cache_probe_key(key, sizeof(key), host, port, 1) != 0)
	return (st);

    /*
     * A result made without DANE for a DNSSEC-secure MX RRset (TLSA
     * records were looked at; none applied): the engine asks for the
     * host's DANE result first on every check, so that key is written
     * too, as a marker that answers "no DANE result" for the same
     * lifetime, instead of a key that is read and never written (a
     * backend round trip per check that can never hit).
     */
    rec.body = (char *) CACHE_PROBE_NO_DANE;
    rec.len = sizeof(CACHE_PROBE_NO_DANE) - 1;
    (void) cache_store_key(c, key, &rec);
    return (st);
}
