/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	clock 3
 * SUMMARY
 *	injectable clock
 * DESCRIPTION
 *	See clock.h.
 */

#include <time.h>

#include "clock.h"

static time_t (*clock_source) (void);

time_t  clock_now(void)
{
    return (clock_source ? clock_source() : time((time_t *) 0));
}

long long clock_mono_ms(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

void    clock_set_source(time_t (*now) (void))
{
    clock_source = now;
}
