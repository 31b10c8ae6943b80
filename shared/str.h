/* SPDX-License-Identifier: ISC */
#ifndef STR_H_INCLUDED
#define STR_H_INCLUDED

/*
 * NAME
 *	str 3h
 * SUMMARY
 *	bounded string helpers (the project's replacements for banned calls)
 * SYNOPSIS
 *	#include "str.h"
 *
 *	int	str_copy(char *dst, size_t size, const char *src)
 *
 *	int	str_append(char *dst, size_t size, const char *src)
 *
 *	int	str_appendf(char *dst, size_t size, const char *fmt, ...)
 *
 *	int	str_to_long(const char *s, long min, long max, long *out)
 *
 *	void	str_lower(char *s)
 *
 *	char	*str_trim(char *s)
 * DESCRIPTION
 *	strcpy, strcat, sprintf, atoi and strtok are banned in this tree
 *	(tests/check-banned). These are the bounded replacements.
 *
 *	str_copy(), str_append() and str_appendf() always NUL-terminate a
 *	non-zero-sized destination. They return 0 on success and -1 when
 *	the result was truncated.
 *
 *	str_to_long() parses an optionally signed decimal integer that
 *	must fill the whole string, without overflow, in [min, max]. It
 *	returns 0 and stores the value, or -1 and leaves *out alone.
 *
 *	str_lower() lowercases ASCII letters in place (locale-independent).
 *
 *	str_trim() removes leading and trailing ASCII blanks (space, tab,
 *	CR, LF) in place and returns the first non-blank byte.
 */

#include <stddef.h>

#if defined(__GNUC__)
#define STR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define STR_PRINTF(a, b)
#endif

extern int str_copy(char *, size_t, const char *);
extern int str_append(char *, size_t, const char *);
extern int str_appendf(char *, size_t, const char *,...) STR_PRINTF(3, 4);
extern int str_to_long(const char *, long, long, long *);
extern void str_lower(char *);
extern char *str_trim(char *);

#endif
