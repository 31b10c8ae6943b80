/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	text 3
 * SUMMARY
 *	sanitize remote text
 * DESCRIPTION
 *	See text.h.
 */

#include <string.h>

#include "text.h"

size_t  text_sanitize_len(char *dst, size_t size, const char *src, size_t len)
{
    size_t  out = 0;
    size_t  i;
    unsigned char ch;

    if (size == 0)
	return (0);
    for (i = 0; i < len && out + 1 < size; i++) {
	ch = (unsigned char) src[i];
	dst[out++] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char) ch;
    }
    dst[out] = 0;
    return (out);
}

size_t  text_sanitize(char *dst, size_t size, const char *src)
{
    return (text_sanitize_len(dst, size, src, strlen(src)));
}

int     text_escape_percent(char *dst, size_t size, const char *src)
{
    size_t  out = 0;

    if (size == 0)
	return (-1);
    for (; *src; src++) {
	if (*src == '%') {
	    if (out + 2 >= size)
		break;
	    dst[out++] = '%';
	    dst[out++] = '%';
	} else {
	    if (out + 1 >= size)
		break;
	    dst[out++] = *src;
	}
    }
    dst[out] = 0;
    return (*src ? -1 : 0);
}
