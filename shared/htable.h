/* SPDX-License-Identifier: ISC */
#ifndef HTABLE_H_INCLUDED
#define HTABLE_H_INCLUDED

/*
 * NAME
 *	htable 3h
 * SUMMARY
 *	the one hash table: string keys, chained, growing
 * SYNOPSIS
 *	#include "htable.h"
 *
 *	int	htable_create(size_t size, HTABLE **out)
 *	void	htable_free(HTABLE **tp, void (*free_fn)(void *value))
 *
 *	int	htable_enter(HTABLE *t, const char *key, void *value)
 *	void   *htable_find(const HTABLE *t, const char *key)
 *	int	htable_delete(HTABLE *t, const char *key, void **value)
 *	void	htable_walk(HTABLE *t, int (*fn)(const char *key,
 *			void *value, void *ctx), void *ctx)
 *	size_t	htable_used(const HTABLE *t)
 *
 *	unsigned htable_hash(const char *s, size_t len)
 * DESCRIPTION
 *	Every table in stsfilter that maps a string to something (the
 *	cache's L1, the rate limiter's known keys, the probe pool's jobs,
 *	the refresh scheduler's domains, a policy's mx patterns) is one of
 *	these. Keys are copied into the table; values are the caller's.
 *
 *	htable_create() makes a table of at least size buckets (a power of
 *	two). It returns STATUS_OK, or STATUS_RETRY when out of memory.
 *	htable_free() calls free_fn (when not null) for every value, frees
 *	the table and sets *tp to null.
 *
 *	htable_enter() adds key with value: STATUS_OK, STATUS_INVAL when
 *	the key is in the table already (nothing changes), STATUS_RETRY
 *	when out of memory. When the table holds twice as many entries as
 *	it has buckets it doubles them; when that allocation fails it goes
 *	on with the buckets it has (slower, never wrong).
 *
 *	htable_find() returns the value of key, or null. It allocates
 *	nothing and changes nothing.
 *
 *	htable_delete() removes key: STATUS_OK, with its value in *value
 *	when value is not null (the caller frees it), or STATUS_NOTFOUND.
 *
 *	htable_walk() calls fn for every entry in an unspecified order; fn
 *	returns 1 to have the entry removed (then it has taken care of the
 *	value), 0 to keep it. fn must not otherwise change the table.
 *
 *	htable_hash() is the hash (FNV-1a, 32 bits) of len bytes of s, for
 *	callers that need a hash without a table.
 *
 *	No locking: the caller serializes access to a table.
 */

#include <stddef.h>

typedef struct HTABLE HTABLE;

extern int htable_create(size_t, HTABLE **);
extern void htable_free(HTABLE **, void (*) (void *));
extern int htable_enter(HTABLE *, const char *, void *);
extern void *htable_find(const HTABLE *, const char *);
extern int htable_delete(HTABLE *, const char *, void **);
extern void htable_walk(HTABLE *, int (*) (const char *, void *, void *), void *);
extern size_t htable_used(const HTABLE *);
extern unsigned htable_hash(const char *, size_t);

#endif
