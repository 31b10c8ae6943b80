/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	audit_table 3
 * SUMMARY
 *	`stsfilter audit`: recipient domains and their message counts,
 *	bounded
 * SYNOPSIS
 *	#include "audit_table.h"
 * DESCRIPTION
 *	See audit_table.h. The domains are an htable (key: the valid flag
 *	and the name). The (queue id, recipient) pairs already counted are
 *	not strings in a table but a set of their 64-bit FNV-1a
 *	fingerprints, open-addressed and grown by doubling up to
 *	max_messages entries: 8 bytes a message, where an htable entry
 *	would take 60 or more, so that 4 million messages fit in 64 MB. A
 *	collision between two messages (about 1 in 2^64 / n) would count
 *	one of them once too few.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_table.h"
#include "htable.h"
#include "status.h"
#include "str.h"

struct AUDIT_TABLE {
    HTABLE *domains;			/* audit_table_key() -> AUDIT_DOMAIN */
    int     max_domains;
    uint64_t *seen;			/* 0: empty */
    size_t  seen_slots;
    size_t  seen_count;
    long    max_messages;
    AUDIT_TABLE_STATS stats;
};

static uint64_t audit_table_hash(uint64_t h, const char *s, size_t n, int lower)
{
    size_t  i;
    unsigned char c;

    for (i = 0; i < n; i++) {
	c = (unsigned char) s[i];
	if (lower && c >= 'A' && c <= 'Z')
	    c += 'a' - 'A';
	h ^= c;
	h *= 1099511628211ULL;
    }
    return (h);
}

#define AUDIT_FNV_BASIS	14695981039346656037ULL

int     audit_table_create(int max_domains, long max_messages, AUDIT_TABLE **table)
{
    AUDIT_TABLE *t = 0;
    int     ret = STATUS_INVAL;

    *table = 0;
    if (max_domains < 1 || max_domains > AUDIT_DOMAINS_LIMIT || max_messages < 1)
	goto out;
    ret = STATUS_FAIL;
    if ((t = calloc(1, sizeof(*t))) == 0)
	goto out;
    t->seen_slots = 4096;
    if (htable_create(max_domains < 4096 ? (size_t) max_domains : 4096, &t->domains) != STATUS_OK
	|| (t->seen = calloc(t->seen_slots, sizeof(*t->seen))) == 0)
	goto out;
    t->max_domains = max_domains;
    t->max_messages = max_messages;
    *table = t;
    t = 0;
    ret = STATUS_OK;

out:
    audit_table_free(&t);
    return (ret);
}

void    audit_table_free(AUDIT_TABLE **table)
{
    AUDIT_TABLE *t = *table;

    if (t == 0)
	return;
    htable_free(&t->domains, free);
    free(t->seen);
    free(t);
    *table = 0;
}

/* Doubles the seen set; 0, or -1 when out of memory. */

static int audit_table_grow(AUDIT_TABLE *t)
{
    uint64_t *bigger;
    size_t  size = t->seen_slots * 2;
    size_t  i, j;

    if ((bigger = calloc(size, sizeof(*bigger))) == 0)
	return (-1);
    for (i = 0; i < t->seen_slots; i++) {
	if (t->seen[i] == 0)
	    continue;
	for (j = t->seen[i] & (size - 1); bigger[j]; j = (j + 1) & (size - 1))
	     /* void */ ;
	bigger[j] = t->seen[i];
    }
    free(t->seen);
    t->seen = bigger;
    t->seen_slots = size;
    return (0);
}

/* 1 when the message is new (and now remembered), 0 when seen before. */

static int audit_table_new_message(AUDIT_TABLE *t, const char *qid, const char *addr)
{
    uint64_t h;
    size_t  j;

    if (qid[0] == 0)
	return (1);
    h = audit_table_hash(AUDIT_FNV_BASIS, qid, strlen(qid) + 1, 0);
    h = audit_table_hash(h, addr, strlen(addr), 1);
    if (h == 0)
	h = 1;
    for (j = h & (t->seen_slots - 1); t->seen[j]; j = (j + 1) & (t->seen_slots - 1))
	if (t->seen[j] == h)
	    return (0);
    if (t->stats.seen_full)
	return (1);
    if ((long) t->seen_count >= t->max_messages) {
	t->stats.seen_full = 1;
	return (1);
    }
    t->seen[j] = h;
    t->seen_count++;
    if (t->seen_count * 2 > t->seen_slots && audit_table_grow(t) != 0)
	t->stats.seen_full = 1;			/* out of memory: stop remembering */
    return (1);
}

/* The domain's entry, made when new and there is room; 0 otherwise. */

static AUDIT_DOMAIN *audit_table_domain(AUDIT_TABLE *t, const AUDIT_RCPT *r)
{
    char    key[DOMAIN_MAX + 4];
    AUDIT_DOMAIN *d;

    /* The name as the entry keeps it (truncated alike), and the valid flag. */
    (void) snprintf(key, sizeof(key), "%d %.*s", r->valid != 0, DOMAIN_MAX, r->domain);
    if ((d = htable_find(t->domains, key)) != 0)
	return (d);
    if (htable_used(t->domains) >= (size_t) t->max_domains || (d = calloc(1, sizeof(*d))) == 0)
	return (0);
    (void) str_copy(d->name, sizeof(d->name), r->domain);
    d->valid = r->valid;
    if (htable_enter(t->domains, key, d) != STATUS_OK) {
	free(d);
	return (0);
    }
    return (d);
}

int     audit_table_add(AUDIT_TABLE *t, const AUDIT_LINE *line)
{
    AUDIT_DOMAIN *d;
    int     added = 0;
    int     i;

    t->stats.dropped_rcpts += line->rcpt_dropped;
    for (i = 0; i < line->rcpt_count; i++) {
	if ((d = audit_table_domain(t, &line->rcpt[i])) == 0) {
	    t->stats.dropped_domains++;
	    if (audit_table_new_message(t, line->qid, line->rcpt[i].addr))
		t->stats.dropped_messages++;
	    continue;
	}
	if (line->status >= 0 && line->status <= AUDIT_STATUS_OTHER)
	    d->lines[line->status]++;
	if (!audit_table_new_message(t, line->qid, line->rcpt[i].addr)) {
	    t->stats.repeats++;
	    continue;
	}
	d->messages++;
	t->stats.messages++;
	added++;
    }
    return (added);
}

static int audit_table_cmp(const void *a, const void *b)
{
    const AUDIT_DOMAIN *x = *(AUDIT_DOMAIN *const *) a;
    const AUDIT_DOMAIN *y = *(AUDIT_DOMAIN *const *) b;

    if (x->messages != y->messages)
	return (x->messages > y->messages ? -1 : 1);
    return (strcmp(x->name, y->name));
}

typedef struct AUDIT_TABLE_LIST {
    AUDIT_DOMAIN **all;
    int     n;
} AUDIT_TABLE_LIST;

static int audit_table_list(const char *key, void *value, void *ctx)
{
    AUDIT_TABLE_LIST *list = ctx;

    (void) key;
    list->all[list->n++] = value;
    return (0);
}

AUDIT_DOMAIN **audit_table_sorted(AUDIT_TABLE *t, int *count)
{
    AUDIT_TABLE_LIST list;

    *count = 0;
    if ((list.all = calloc(htable_used(t->domains) + 1, sizeof(*list.all))) == 0)
	return (0);
    list.n = 0;
    htable_walk(t->domains, audit_table_list, &list);
    qsort(list.all, (size_t) list.n, sizeof(*list.all), audit_table_cmp);
    *count = list.n;
    return (list.all);
}

void    audit_table_stats(const AUDIT_TABLE *t, AUDIT_TABLE_STATS *stats)
{
    *stats = t->stats;
    stats->domains = (int) htable_used(t->domains);
}
