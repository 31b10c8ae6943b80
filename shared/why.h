/* SPDX-License-Identifier: ISC */
#ifndef WHY_H_INCLUDED
#define WHY_H_INCLUDED

/*
 * NAME
 *	why 3h
 * SUMMARY
 *	fixed-size reason buffer
 * SYNOPSIS
 *	#include "why.h"
 *
 *	typedef struct WHY { char text[WHY_MAX]; } WHY;
 *
 *	void	why_set(WHY *why, const char *fmt, ...)
 *
 *	void	why_prefix(WHY *why, const char *fmt, ...)
 *
 *	const char *why_text(const WHY *why)
 * DESCRIPTION
 *	A WHY is an optional out-parameter that carries the reason for a
 *	non-OK status. Every function accepts a null WHY pointer. The
 *	text is always NUL-terminated and silently truncated at WHY_MAX-1
 *	bytes. The caller owns the buffer; nothing is allocated.
 *
 *	why_set() replaces the text. why_prefix() prepends "prefix: ".
 *	why_text() returns "" for a null or empty buffer.
 *
 *	The text may contain remote data; sanitize (text.h) before it
 *	reaches an SMTP reply, a header or a log.
 */

#define WHY_MAX 512

typedef struct WHY {
    char    text[WHY_MAX];
} WHY;

#if defined(__GNUC__)
#define WHY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define WHY_PRINTF(a, b)
#endif

extern void why_set(WHY *, const char *,...) WHY_PRINTF(2, 3);
extern void why_prefix(WHY *, const char *,...) WHY_PRINTF(2, 3);
extern const char *why_text(const WHY *);

#endif
