/* SPDX-License-Identifier: ISC */
#ifndef RATELIMIT_H_INCLUDED
#define RATELIMIT_H_INCLUDED

/*
 * NAME
 *	ratelimit 3h
 * SUMMARY
 *	a token bucket for the checks of domains never seen before
 * SYNOPSIS
 *	#include "ratelimit.h"
 *
 *	int	ratelimit_create(long per_minute, long burst, int known_max,
 *			long known_ttl, RATELIMIT **rl)
 *
 *	void	ratelimit_free(RATELIMIT **rl)
 *
 *	int	ratelimit_admit(RATELIMIT *rl, const char *key)
 *
 *	void	ratelimit_know(RATELIMIT *rl, const char *key)
 *
 *	int	ratelimit_known(RATELIMIT *rl, const char *key)
 *
 *	long	ratelimit_refused(RATELIMIT *rl)
 * DESCRIPTION
 *	Authenticated users who send to many random domains must not turn
 *	the filter into a scanner of MX hosts. The engine asks this module
 *	before the network lookups of a domain it has no cached answer
 *	for: a domain admitted in the last known_ttl seconds is known and
 *	always admitted; a new one takes a token from a bucket that holds
 *	at most burst tokens and gains per_minute tokens a minute.
 *
 *	ratelimit_create() returns STATUS_OK, or STATUS_INVAL for a
 *	negative rate, a burst under 1, or known_max under 1. per_minute 0
 *	means no limit (every key admitted, nothing remembered).
 *
 *	ratelimit_admit() returns 1 when key is known or a token was
 *	taken (key is then known), 0 when the bucket is empty. The first
 *	refusal after a quiet minute is logged (log_warn), with the number
 *	refused since the last such line: at most one line a minute.
 *
 *	ratelimit_know() makes key known without a token (the engine
 *	found a cached answer for it). ratelimit_known() returns 1 when
 *	key is known (and keeps it known from now on), 0 otherwise; it
 *	takes no token. With per_minute 0 every key is known.
 *
 *	ratelimit_refused() returns the number of refusals so far.
 *
 *	Bounds: at most known_max keys (of at most 253 octets) are
 *	remembered; past that the least recently admitted is forgotten.
 *	Keys compare case-sensitively (callers pass normalized domains).
 *
 *	Time: clock_now() (clock.h), so tests inject the clock. A clock
 *	that goes back adds no tokens.
 *
 *	Threads: every function but ratelimit_create() and
 *	ratelimit_free() is thread-safe.
 */

#include "status.h"

typedef struct RATELIMIT RATELIMIT;

#define RATELIMIT_KEY_MAX	253

extern int ratelimit_create(long, long, int, long, RATELIMIT **);
extern void ratelimit_free(RATELIMIT **);
extern int ratelimit_admit(RATELIMIT *, const char *);
extern void ratelimit_know(RATELIMIT *, const char *);
extern int ratelimit_known(RATELIMIT *, const char *);
extern long ratelimit_refused(RATELIMIT *);

#endif
