/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	why 3
 * SUMMARY
 *	fixed-size reason buffer
 * DESCRIPTION
 *	See why.h.
 */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "why.h"

void    why_set(WHY *why, const char *fmt,...)
{
    va_list ap;

    if (why == 0)
	return;
    va_start(ap, fmt);
    (void) vsnprintf(why->text, sizeof(why->text), fmt, ap);
    va_end(ap);
}

void    why_prefix(WHY *why, const char *fmt,...)
{
    char    prefix[WHY_MAX];
    char    old[WHY_MAX];
    va_list ap;

    if (why == 0)
	return;
    va_start(ap, fmt);
    (void) vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, why->text, sizeof(old));
    old[sizeof(old) - 1] = 0;
    (void) snprintf(why->text, sizeof(why->text), "%s: %s", prefix, old);
}

const char *why_text(const WHY *why)
{
    return (why ? why->text : "");
}
