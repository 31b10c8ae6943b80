/* SPDX-License-Identifier: ISC */
#ifndef CACHE_IMPL_H_INCLUDED
#define CACHE_IMPL_H_INCLUDED

/*
 * NAME
 *	cache_impl 3h
 * SUMMARY
 *	the cache's private structure, for cache.c and cache_purge.c only
 * DESCRIPTION
 *	struct CACHE: L1 (an htable of CACHE_ENTRY with an LRU list, under
 *	lock), the backend (store), counters, and the state of the purge
 *	notices this process has applied (cache_purge.c; only the thread
 *	that calls cache_purge_poll() touches it).
 */

#include <pthread.h>

#include "cache.h"
#include "htable.h"

typedef struct CACHE_ENTRY {
    struct CACHE_ENTRY *lru_prev;	/* towards most recent */
    struct CACHE_ENTRY *lru_next;	/* towards least recent */
    char    key[CACHE_KEY_MAX];
    size_t  bytes;
    CACHE_POLICY rec;
} CACHE_ENTRY;

struct CACHE {
    pthread_mutex_t lock;
    int     max_entries;
    long    max_bytes;
    int     count;
    long    bytes;
    HTABLE *table;			/* key -> CACHE_ENTRY */
    CACHE_ENTRY *lru_head;		/* most recent */
    CACHE_ENTRY *lru_tail;		/* least recent */
    CACHE_STORE store;			/* name == 0: memory only */
    int     backend;
    long    lookups, l1_hits, backend_hits, misses, backend_errors, corrupt;
    /* Purge notices (cache_purge.c). */
    int     purge_polled;		/* purge_seq is known */
    unsigned long purge_seq;		/* the newest notice applied */
    unsigned char *purge_last;		/* the record last read, as read */
    size_t  purge_last_len;
};

#endif
