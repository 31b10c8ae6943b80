/* SPDX-License-Identifier: ISC */
#ifndef NETSTRING_H_INCLUDED
#define NETSTRING_H_INCLUDED

/*
 * NAME
 *	netstring 3h
 * SUMMARY
 *	netstring parser and formatter (the Postfix socketmap framing)
 * SYNOPSIS
 *	#include "netstring.h"
 *
 *	int	netstring_parse(const char *buf, size_t len, size_t max,
 *			const char **data, size_t *dlen, size_t *consumed)
 *
 *	int	netstring_format(char *out, size_t size, const char *data,
 *			size_t dlen, size_t *outlen)
 * DESCRIPTION
 *	A netstring is "LEN:DATA," where LEN is the decimal length of
 *	DATA (D. J. Bernstein, "Netstrings", 1997: no leading zeros, "0"
 *	for the empty string). Postfix's socketmap client (socketmap_table
 *	5) and Sendmail's socket map send one request per netstring and
 *	read one reply per netstring.
 *
 *	netstring_parse() looks at the len bytes of buf, which start at a
 *	netstring. Pure: no state is kept, so a caller that reads in pieces
 *	calls it again on the whole buffer when more has arrived. It
 *	returns
 * .IP STATUS_OK
 *	a complete netstring: *data points at DATA inside buf (not
 *	NUL-terminated), *dlen is its length and *consumed the length of
 *	the whole netstring, where the next one starts.
 * .IP NETSTRING_MORE
 *	a valid prefix: read more.
 * .IP STATUS_INVAL
 *	not a netstring (no digits, a leading zero, no ':' after the
 *	length, no ',' after the data), or a length above max (a hard
 *	cap; Postfix sends at most 100000 bytes, NETSTRING_REQUEST_MAX).
 *	The stream cannot be resynchronized: close it.
 * .PP
 *	netstring_format() writes DATA as a netstring to out (size bytes,
 *	NUL-terminated for convenience; the NUL is not part of it) and
 *	stores its length in *outlen. STATUS_INVAL when it does not fit.
 *
 *	Memory: nothing is allocated.
 */

#include <stddef.h>

#define NETSTRING_MORE		100	/* not a STATUS_* value */
#define NETSTRING_REQUEST_MAX	100000	/* Postfix socketmap_max_reply default */
#define NETSTRING_DIGITS_MAX	10	/* "4294967295" */

extern int netstring_parse(const char *, size_t, size_t, const char **, size_t *, size_t *);
extern int netstring_format(char *, size_t, const char *, size_t, size_t *);

#endif
