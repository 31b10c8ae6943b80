/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	htable 3
 * SUMMARY
 *	the one hash table: string keys, chained, growing
 * DESCRIPTION
 *	See htable.h. A table is an array of 2^n bucket heads; an entry
 *	holds its key (allocated with it), the key's full hash (compared
 *	before the key, and reused when the buckets double) and the
 *	caller's value.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "htable.h"
#include "status.h"

typedef struct HTABLE_ENTRY {
    struct HTABLE_ENTRY *next;		/* bucket chain */
    unsigned hash;			/* htable_hash() of the key */
    void   *value;			/* the caller's */
    char    key[1];			/* allocated to fit */
} HTABLE_ENTRY;

struct HTABLE {
    HTABLE_ENTRY **bucket;
    size_t  size;			/* buckets, a power of two */
    size_t  used;			/* entries */
};

#define HTABLE_MIN_SIZE	16
#define HTABLE_MAX_SIZE	((size_t) 1 << 24)	/* doubling stops here */

unsigned htable_hash(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    size_t  i;

    for (i = 0; i < len; i++)
	h = (h ^ (unsigned char) s[i]) * 16777619u;
    return (h);
}

int     htable_create(size_t size, HTABLE **out)
{
    HTABLE *t = 0;
    size_t  n = HTABLE_MIN_SIZE;
    int     status = STATUS_RETRY;

    *out = 0;
    while (n < size && n < HTABLE_MAX_SIZE)
	n <<= 1;
    if ((t = calloc(1, sizeof(*t))) == 0)
	goto done;
    if ((t->bucket = calloc(n, sizeof(*t->bucket))) == 0)
	goto done;
    t->size = n;
    *out = t;
    t = 0;
    status = STATUS_OK;

done:
    free(t);
    return (status);
}

void    htable_free(HTABLE **tp, void (*free_fn) (void *))
{
    HTABLE *t = *tp;
    HTABLE_ENTRY *e;
    HTABLE_ENTRY *next;
    size_t  i;

    if (t == 0)
	return;
    for (i = 0; i < t->size; i++) {
	for (e = t->bucket[i]; e; e = next) {
	    next = e->next;
	    if (free_fn)
		free_fn(e->value);
	    free(e);
	}
    }
    free(t->bucket);
    free(t);
    *tp = 0;
}

/* htable_locate - the link that points at key's entry (it may point at null) */

static HTABLE_ENTRY **htable_locate(const HTABLE *t, const char *key, unsigned hash)
{
    HTABLE_ENTRY **pp;

    for (pp = &t->bucket[hash & (t->size - 1)]; *pp; pp = &(*pp)->next)
	if ((*pp)->hash == hash && strcmp((*pp)->key, key) == 0)
	    break;
    return (pp);
}

/* htable_grow - double the buckets; on no memory keep them */

static void htable_grow(HTABLE *t)
{
    HTABLE_ENTRY **fresh;
    HTABLE_ENTRY *e;
    HTABLE_ENTRY *next;
    size_t  size = t->size * 2;
    size_t  i;

    if (t->size >= HTABLE_MAX_SIZE || (fresh = calloc(size, sizeof(*fresh))) == 0)
	return;
    for (i = 0; i < t->size; i++) {
	for (e = t->bucket[i]; e; e = next) {
	    next = e->next;
	    e->next = fresh[e->hash & (size - 1)];
	    fresh[e->hash & (size - 1)] = e;
	}
    }
    free(t->bucket);
    t->bucket = fresh;
    t->size = size;
}

int     htable_enter(HTABLE *t, const char *key, void *value)
{
    size_t  len = strlen(key);
    unsigned hash = htable_hash(key, len);
    HTABLE_ENTRY **pp;
    HTABLE_ENTRY *e;
    int     status = STATUS_INVAL;

    if (*(pp = htable_locate(t, key, hash)) != 0)
	goto done;
    status = STATUS_RETRY;
    if ((e = malloc(offsetof(HTABLE_ENTRY, key) + len + 1)) == 0)
	goto done;
    memcpy(e->key, key, len + 1);
    e->hash = hash;
    e->value = value;
    if (t->used >= 2 * t->size) {
	htable_grow(t);
	pp = &t->bucket[hash & (t->size - 1)];
    }
    e->next = *pp;
    *pp = e;
    t->used++;
    status = STATUS_OK;

done:
    return (status);
}

void   *htable_find(const HTABLE *t, const char *key)
{
    HTABLE_ENTRY *e = *htable_locate(t, key, htable_hash(key, strlen(key)));

    return (e ? e->value : 0);
}

int     htable_delete(HTABLE *t, const char *key, void **value)
{
    HTABLE_ENTRY **pp = htable_locate(t, key, htable_hash(key, strlen(key)));
    HTABLE_ENTRY *e = *pp;
    int     status = STATUS_NOTFOUND;

    if (e == 0)
	goto done;
    *pp = e->next;
    t->used--;
    if (value)
	*value = e->value;
    free(e);
    status = STATUS_OK;

done:
    return (status);
}

void    htable_walk(HTABLE *t, int (*fn) (const char *, void *, void *), void *ctx)
{
    HTABLE_ENTRY **pp;
    HTABLE_ENTRY *e;
    size_t  i;

    for (i = 0; i < t->size; i++) {
	for (pp = &t->bucket[i]; (e = *pp) != 0;) {
	    if (fn(e->key, e->value, ctx)) {
		*pp = e->next;
		t->used--;
		free(e);
	    } else {
		pp = &e->next;
	    }
	}
    }
}

size_t  htable_used(const HTABLE *t)
{
    return (t->used);
}
