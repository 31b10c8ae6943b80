/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	ratelimit 3
 * SUMMARY
 *	a token bucket for the checks of domains never seen before
 * DESCRIPTION
 *	See ratelimit.h. Tokens are counted in units of 1/60 token so that
 *	per_minute tokens a minute is exactly per_minute units a second:
 *	integer arithmetic, no drift. Known keys live in an htable and in
 *	a list ordered by last admission (the oldest is forgotten first,
 *	and when its known_ttl has passed).
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "htable.h"
#include "log.h"
#include "ratelimit.h"
#include "status.h"

#define RATELIMIT_LOG_EVERY	60	/* s between "limit reached" lines */

typedef struct RATELIMIT_KEY {
    struct RATELIMIT_KEY *prev;		/* age list, oldest first */
    struct RATELIMIT_KEY *next;
    time_t  seen;
    char    key[1];			/* allocated to fit */
} RATELIMIT_KEY;

struct RATELIMIT {
    pthread_mutex_t lock;
    long    per_minute;
    long    burst;
    long    units;			/* tokens * 60 */
    time_t  filled;			/* last refill */
    int     known_max;
    long    known_ttl;
    int     known;
    HTABLE *table;			/* key -> RATELIMIT_KEY */
    RATELIMIT_KEY *oldest;
    RATELIMIT_KEY *newest;
    long    refused;			/* in all */
    long    refused_unlogged;
    time_t  logged;
    int     ever_logged;
};

int     ratelimit_create(long per_minute, long burst, int known_max, long known_ttl, RATELIMIT **out)
{
    RATELIMIT *rl = 0;
    int     status = STATUS_INVAL;

    *out = 0;
    if (per_minute < 0 || burst < 1 || known_max < 1 || known_ttl < 1)
	goto out;
    status = STATUS_FAIL;
    if ((rl = calloc(1, sizeof(*rl))) == 0)
	goto out;
    if (htable_create(known_max < 1024 ? 1024 : (size_t) known_max, &rl->table) != STATUS_OK) {
	free(rl);
	goto out;
    }
    (void) pthread_mutex_init(&rl->lock, 0);
    rl->per_minute = per_minute;
    rl->burst = burst;
    rl->units = burst * 60;
    rl->filled = clock_now();
    rl->known_max = known_max;
    rl->known_ttl = known_ttl;
    *out = rl;
    status = STATUS_OK;

out:
    return (status);
}

void    ratelimit_free(RATELIMIT **rlp)
{
    RATELIMIT *rl = *rlp;
    RATELIMIT_KEY *k;

    if (rl == 0)
	return;
    while ((k = rl->oldest) != 0) {
	rl->oldest = k->next;
	free(k);
    }
    htable_free(&rl->table, 0);
    (void) pthread_mutex_destroy(&rl->lock);
    free(rl);
    *rlp = 0;
}

/* Callers hold rl->lock. */

static void ratelimit_list_unlink(RATELIMIT *rl, RATELIMIT_KEY *k)
{
    if (k->prev)
	k->prev->next = k->next;
    else
	rl->oldest = k->next;
    if (k->next)
	k->next->prev = k->prev;
    else
	rl->newest = k->prev;
}

/* ratelimit_unlink - out of the table and the list (the caller frees) */

static void ratelimit_unlink(RATELIMIT *rl, RATELIMIT_KEY *k)
{
    (void) htable_delete(rl->table, k->key, 0);
    ratelimit_list_unlink(rl, k);
    rl->known--;
}

static void ratelimit_append(RATELIMIT *rl, RATELIMIT_KEY *k)
{
    k->next = 0;
    k->prev = rl->newest;
    if (rl->newest)
	rl->newest->next = k;
    else
	rl->oldest = k;
    rl->newest = k;
}

/* ratelimit_expire - forget keys past known_ttl */

static void ratelimit_expire(RATELIMIT *rl, time_t now)
{
    RATELIMIT_KEY *k;

    while ((k = rl->oldest) != 0 && now - k->seen >= rl->known_ttl) {
	ratelimit_unlink(rl, k);
	free(k);
    }
}

/* ratelimit_find - a known key, or null */

static RATELIMIT_KEY *ratelimit_find(RATELIMIT *rl, const char *key)
{
    return (htable_find(rl->table, key));
}

/* ratelimit_remember - key is known from now on (refreshed when it was) */

static void ratelimit_remember(RATELIMIT *rl, const char *key, time_t now)
{
    RATELIMIT_KEY *k;
    size_t  len = strlen(key);

    if ((k = ratelimit_find(rl, key)) != 0) {
	ratelimit_list_unlink(rl, k);		/* to the young end */
    } else {
	if (len > RATELIMIT_KEY_MAX)
	    return;
	if (rl->known >= rl->known_max && (k = rl->oldest) != 0) {
	    ratelimit_unlink(rl, k);
	    free(k);
	}
	if ((k = malloc(sizeof(*k) + len)) == 0)
	    return;
	memcpy(k->key, key, len + 1);
	if (htable_enter(rl->table, k->key, k) != STATUS_OK) {
	    free(k);
	    return;
	}
	rl->known++;
    }
    k->seen = now;
    ratelimit_append(rl, k);
}

/* ratelimit_refill - per_minute units a second, up to burst tokens */

static void ratelimit_refill(RATELIMIT *rl, time_t now)
{
    long    max = rl->burst * 60;
    long    secs;

    if (now <= rl->filled)
	return;				/* the same second, or a clock going back */
    secs = (long) (now - rl->filled);
    rl->filled = now;
    if (secs >= max / (rl->per_minute ? rl->per_minute : 1) + 1 || rl->units + secs * rl->per_minute >= max)
	rl->units = max;
    else
	rl->units += secs * rl->per_minute;
}

int     ratelimit_admit(RATELIMIT *rl, const char *key)
{
    time_t  now = clock_now();
    int     admit = 0;

    if (rl == 0 || rl->per_minute == 0)
	return (1);
    (void) pthread_mutex_lock(&rl->lock);
    ratelimit_expire(rl, now);
    ratelimit_refill(rl, now);
    if (ratelimit_find(rl, key) != 0) {
	admit = 1;
    } else if (rl->units >= 60) {
	rl->units -= 60;
	admit = 1;
    }
    if (admit) {
	ratelimit_remember(rl, key, now);
    } else {
	rl->refused++;
	rl->refused_unlogged++;
	if (!rl->ever_logged || now - rl->logged >= RATELIMIT_LOG_EVERY) {
	    log_warn("new-domain rate limit reached (new_domain_rate = %ld a minute, new_domain_burst = %ld):"
		     " %ld check(s) of new domains not started; action_temporary applies",
		     rl->per_minute, rl->burst, rl->refused_unlogged);
	    rl->logged = now;
	    rl->ever_logged = 1;
	    rl->refused_unlogged = 0;
	}
    }
    (void) pthread_mutex_unlock(&rl->lock);
    return (admit);
}

void    ratelimit_know(RATELIMIT *rl, const char *key)
{
    time_t  now = clock_now();

    if (rl == 0 || rl->per_minute == 0)
	return;
    (void) pthread_mutex_lock(&rl->lock);
    ratelimit_expire(rl, now);
    ratelimit_remember(rl, key, now);
    (void) pthread_mutex_unlock(&rl->lock);
}

int     ratelimit_known(RATELIMIT *rl, const char *key)
{
    time_t  now = clock_now();
    int     known;

    if (rl == 0 || rl->per_minute == 0)
	return (1);
    (void) pthread_mutex_lock(&rl->lock);
    ratelimit_expire(rl, now);
    if ((known = (ratelimit_find(rl, key) != 0)) != 0)
	ratelimit_remember(rl, key, now);
    (void) pthread_mutex_unlock(&rl->lock);
    return (known);
}

long    ratelimit_refused(RATELIMIT *rl)
{
    long    n;

    if (rl == 0)
	return (0);
    (void) pthread_mutex_lock(&rl->lock);
    n = rl->refused;
    (void) pthread_mutex_unlock(&rl->lock);
    return (n);
}
