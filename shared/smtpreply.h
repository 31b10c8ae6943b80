/* SPDX-License-Identifier: ISC */
#ifndef SMTPREPLY_H_INCLUDED
#define SMTPREPLY_H_INCLUDED

/*
 * NAME
 *	smtpreply 3h
 * SUMMARY
 *	incremental parser for SMTP replies (RFC 5321 section 4.2)
 * SYNOPSIS
 *	#include "smtpreply.h"
 *
 *	void	smtpreply_init(SMTPREPLY *reply)
 *
 *	int	smtpreply_feed(SMTPREPLY *reply, const char *buf, size_t len,
 *			size_t *consumed)
 *
 *	const char *smtpreply_line(const SMTPREPLY *reply, int index)
 *
 *	int	smtpreply_has_keyword(const SMTPREPLY *reply,
 *			const char *keyword)
 * DESCRIPTION
 *	A pure parser: no I/O, no allocation, no global state, no logging;
 *	safe to fuzz and to use from any thread (one SMTPREPLY per reply).
 *	The caller owns the SMTPREPLY (it is about 9 KiB; fixed size).
 *
 *	smtpreply_init() prepares reply for one reply.
 *
 *	smtpreply_feed() takes the next bytes from the peer. It consumes
 *	bytes up to and including the end of the reply's last line and no
 *	further, so that bytes after the reply (a pipelining server, or an
 *	early talker) stay with the caller; *consumed (may be null) says
 *	how many bytes of buf it took. It returns:
 *
 *	SMTPREPLY_MORE	the reply is not complete; every byte was consumed.
 *	STATUS_OK	the reply is complete: reply->code, reply->line_count
 *			and the lines are set.
 *	STATUS_INVAL	the input is not a valid reply; reply->error says
 *			why (it quotes no remote bytes). *consumed counts
 *			the bytes up to and including the offending one.
 *			The connection should be dropped.
 *
 *	Once a reply is complete or invalid, further calls return the same
 *	status and consume nothing.
 *
 *	smtpreply_line() returns the text of line index (0-based) after
 *	the code and its "-" or " " separator, without the line ending,
 *	NUL-terminated; "" for an index out of range. The text is remote
 *	data: sanitize it (text.h) before it reaches a log, header or reply.
 *
 *	smtpreply_has_keyword() tells whether a complete EHLO reply lists
 *	keyword (e.g. "STARTTLS"): the first word of a line other than the
 *	first, compared case-insensitively (RFC 5321 section 2.4:
 *	extension keywords are case-insensitive; section 4.1.1.1: the first
 *	line carries the server's domain, not a keyword).
 *
 *	Syntax accepted (RFC 5321 section 4.2):
 *	- every line starts with the same three-digit code, first digit 2
 *	  to 5, second 0 to 5 (Reply-code = %x32-35 %x30-35 %x30-39);
 *	  different codes across lines are invalid (section 4.2.1);
 *	- "-" after the code continues the reply, " " or the end of the
 *	  line ends it (Reply-line = *(Reply-code "-" [textstring] CRLF)
 *	  Reply-code [SP textstring] CRLF); anything else is invalid;
 *	- lines end in CRLF; a bare LF is tolerated (as Postfix does),
 *	  and a CR just before the LF is dropped;
 *	- a NUL byte is invalid (textstring excludes it); other control
 *	  and 8-bit bytes are kept for the caller to sanitize, since real
 *	  servers send them and the text is informational only;
 *	- a line may hold at most SMTPREPLY_LINE_MAX octets including its
 *	  CRLF (section 4.5.3.1.5: 512); a longer line is invalid, also
 *	  when it ends in a bare LF (counted as if it were CRLF);
 *	- hard caps of our own: SMTPREPLY_LINES_MAX lines and
 *	  SMTPREPLY_SIZE_MAX octets per reply; more is invalid.
 */

#include <stddef.h>

#include "status.h"

#define SMTPREPLY_LINE_MAX	512	/* RFC 5321 §4.5.3.1.5, incl. CRLF */
#define SMTPREPLY_LINES_MAX	64	/* our cap */
#define SMTPREPLY_SIZE_MAX	8192	/* our cap, octets on the wire */

#define SMTPREPLY_MORE		(-1)	/* need more input */

typedef struct SMTPREPLY {
    /* Results, valid after STATUS_OK. */
    int     code;			/* 200..559 */
    int     line_count;
    /* Parser state; private. */
    int     state;			/* SMTPREPLY_ST_* in smtpreply.c */
    size_t  size;			/* octets consumed so far */
    size_t  cur_len;			/* octets in the current line */
    size_t  text_len;			/* octets used in text[] */
    int     line_off[SMTPREPLY_LINES_MAX];	/* line starts in text[] */
    char    cur[SMTPREPLY_LINE_MAX];	/* the line being collected */
    char    text[SMTPREPLY_SIZE_MAX];	/* lines' text, NUL-separated */
    char    error[96];			/* why STATUS_INVAL */
} SMTPREPLY;

extern void smtpreply_init(SMTPREPLY *);
extern int smtpreply_feed(SMTPREPLY *, const char *, size_t, size_t *);
extern const char *smtpreply_line(const SMTPREPLY *, int);
extern int smtpreply_has_keyword(const SMTPREPLY *, const char *);

#endif
