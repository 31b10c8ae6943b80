/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	str 3
 * SUMMARY
 *	bounded string helpers
 * DESCRIPTION
 *	See str.h.
 */

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "str.h"

int     str_copy(char *dst, size_t size, const char *src)
{
    size_t  len;

    if (size == 0)
	return (-1);
    len = strlen(src);
    if (len >= size) {
	memcpy(dst, src, size - 1);
	dst[size - 1] = 0;
	return (-1);
    }
    memcpy(dst, src, len + 1);
    return (0);
}

int     str_append(char *dst, size_t size, const char *src)
{
    size_t  used;

    if (size == 0)
	return (-1);
    used = strnlen(dst, size);
    if (used >= size) {
	dst[size - 1] = 0;
	return (-1);
    }
    return (str_copy(dst + used, size - used, src));
}

int     str_appendf(char *dst, size_t size, const char *fmt,...)
{
    size_t  used;
    va_list ap;
    int     n;

    if (size == 0)
	return (-1);
    used = strnlen(dst, size);
    if (used >= size) {
	dst[size - 1] = 0;
	return (-1);
    }
    va_start(ap, fmt);
    n = vsnprintf(dst + used, size - used, fmt, ap);
    va_end(ap);
    return ((n < 0 || (size_t) n >= size - used) ? -1 : 0);
}

int     str_to_long(const char *s, long min, long max, long *out)
{
    char   *end;
    long    val;

    /* The number must fill the whole string: strtol() would skip any leading white space. */
    if (s == 0 || !((*s >= '0' && *s <= '9') || *s == '-' || *s == '+'))
	return (-1);
    errno = 0;
    val = strtol(s, &end, 10);
    if (errno != 0 || *end != 0 || val < min || val > max)
	return (-1);
    *out = val;
    return (0);
}

void    str_lower(char *s)
{
    for (; *s; s++)
	if (*s >= 'A' && *s <= 'Z')
	    *s = (char) (*s - 'A' + 'a');
}

char   *str_trim(char *s)
{
    char   *end;

#define STR_BLANK(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\n')

    while (STR_BLANK(*s))
	s++;
    end = s + strlen(s);
    while (end > s && STR_BLANK(end[-1]))
	*--end = 0;
    return (s);
}
