/* SPDX-License-Identifier: ISC */
#ifndef CLOCK_H_INCLUDED
#define CLOCK_H_INCLUDED

/*
 * NAME
 *	clock 3h
 * SUMMARY
 *	injectable clock
 * SYNOPSIS
 *	#include "clock.h"
 *
 *	time_t	clock_now(void)
 *
 *	long long clock_mono_ms(void)
 *
 *	void	clock_set_source(time_t (*now)(void))
 * DESCRIPTION
 *	All engine code asks clock_now() for wall-clock time (cache
 *	expiry, max_age, certificate dates) and clock_mono_ms() for
 *	time budgets. Tests call clock_set_source() with their own
 *	function so that max_age expiry can be tested without sleeping;
 *	a null pointer restores time(2). The source is process-global
 *	and must be set before threads start.
 */

#include <time.h>

extern time_t clock_now(void);
extern long long clock_mono_ms(void);
extern void clock_set_source(time_t (*) (void));

#endif
