/* SPDX-License-Identifier: ISC */
#ifndef TEXT_H_INCLUDED
#define TEXT_H_INCLUDED

/*
 * NAME
 *	text 3h
 * SUMMARY
 *	sanitize remote text for replies, headers and logs
 * SYNOPSIS
 *	#include "text.h"
 *
 *	size_t	text_sanitize(char *dst, size_t size, const char *src)
 *
 *	size_t	text_sanitize_len(char *dst, size_t size,
 *				const char *src, size_t len)
 *
 *	int	text_escape_percent(char *dst, size_t size, const char *src)
 * DESCRIPTION
 *	Remote text (policy bodies, SMTP replies, certificate names, DNS
 *	data) must never put CR, LF or other control bytes into an SMTP
 *	reply, a header or a log line.
 *
 *	text_sanitize() copies src into dst (always NUL-terminated,
 *	truncated to size-1 bytes) replacing every byte below 0x20, DEL
 *	and every byte >= 0x80 with '?'. It returns the output length.
 *	text_sanitize_len() does the same for a counted, possibly
 *	NUL-containing input.
 *
 *	text_escape_percent() doubles every '%' so that the result can be
 *	passed to smfi_setreply(), which treats '%' as a format character.
 *	It returns -1 when the result does not fit (dst is then still
 *	NUL-terminated and never ends in half of a "%%" pair).
 */

#include <stddef.h>

extern size_t text_sanitize(char *, size_t, const char *);
extern size_t text_sanitize_len(char *, size_t, const char *, size_t);
extern int text_escape_percent(char *, size_t, const char *);

#endif
