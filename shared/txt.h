/* SPDX-License-Identifier: ISC */
#ifndef TXT_H_INCLUDED
#define TXT_H_INCLUDED

/*
 * NAME
 *	txt 3h
 * SUMMARY
 *	MTA-STS TXT record parser (RFC 8461 section 3.1)
 * SYNOPSIS
 *	#include "txt.h"
 *
 *	int	txt_parse(const char *record, size_t len, TXT_RECORD *out,
 *			WHY *why)
 *
 *	int	txt_select(const char *const *records, const size_t *lens,
 *			size_t count, TXT_RECORD *out, WHY *why)
 *
 *	size_t	txt_join_rdata(const unsigned char *rdata, size_t rdlen,
 *			char *out, size_t outsize)
 * DESCRIPTION
 *	Pure functions: no I/O, no allocation; safe to fuzz.
 *
 *	txt_parse() parses one complete (already joined) record exactly
 *	to the RFC 8461 section 3.1 ABNF: "v=STSv1" first, then "id" with
 *	1-32 ALPHA/DIGIT, extension fields allowed and ignored, fields
 *	separated by ";" with optional surrounding WSP, optional trailing
 *	";". Returns STATUS_OK, or STATUS_INVAL with a reason.
 *
 *	txt_select() applies the section 3.1 selection: discard records
 *	that do not begin with "v=STSv1;"; exactly one must remain, and
 *	it must parse. Returns STATUS_OK; STATUS_NOTFOUND when none
 *	remains; STATUS_INVAL when more than one remains or the one left
 *	is invalid (the sender then assumes no policy; RFC 8461 section
 *	3.1), with a reason. The STATUS_NOTFOUND reason, "no v=STSv1
 *	record", goes on to name what is wrong with the records that were
 *	discarded (another version, "v=STSv1" not first, white space, not
 *	an MTA-STS record at all), so that a diagnosis can show it.
 *
 *	txt_join_rdata() joins the character-strings of one TXT RR's
 *	wire-format RDATA (RFC 1035 section 3.3.14; RFC 8461 section 3.1:
 *	"concatenated ... without adding spaces") into out, NUL-terminated.
 *	Returns the joined length, or (size_t) -1 when the RDATA is
 *	malformed or does not fit.
 */

#include <stddef.h>

#include "why.h"

#define TXT_ID_MAX	32		/* RFC 8461 section 3.1: 1*32 */
#define TXT_RECORD_MAX	4096		/* input cap for one joined record */

typedef struct TXT_RECORD {
    char    id[TXT_ID_MAX + 1];
} TXT_RECORD;

extern int txt_parse(const char *, size_t, TXT_RECORD *, WHY *);
extern int txt_select(const char *const *, const size_t *, size_t, TXT_RECORD *, WHY *);
extern size_t txt_join_rdata(const unsigned char *, size_t, char *, size_t);

#endif
