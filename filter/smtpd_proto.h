/* SPDX-License-Identifier: ISC */
#ifndef SMTPD_PROTO_H_INCLUDED
#define SMTPD_PROTO_H_INCLUDED

/*
 * NAME
 *	smtpd_proto 3h
 * SUMMARY
 *	the OpenSMTPD filter protocol (smtpd-filters(7)), versions 0.6
 *	and 0.7: parse the lines smtpd sends, format the lines it reads
 * SYNOPSIS
 *	#include "smtpd_proto.h"
 *
 *	int	smtpd_proto_parse(char *line, SMTPD_PROTO_MSG *msg,
 *			char *err, size_t errsize)
 *
 *	int	smtpd_proto_version(const char *key, const char *value)
 *
 *	int	smtpd_proto_link_connect(const SMTPD_PROTO_MSG *msg,
 *			char *addr, size_t size)
 *
 *	int	smtpd_proto_link_auth(const SMTPD_PROTO_MSG *msg,
 *			char *result, size_t size)
 *
 *	int	smtpd_proto_link_auth_user(const SMTPD_PROTO_MSG *msg,
 *			char *user, size_t size)
 *
 *	int	smtpd_proto_tx_mail(const SMTPD_PROTO_MSG *msg,
 *			char *result, size_t rsize, char *address,
 *			size_t asize)
 *
 *	int	smtpd_proto_tx_rcpt(const SMTPD_PROTO_MSG *msg,
 *			char *result, size_t rsize, char *address,
 *			size_t asize)
 *
 *	int	smtpd_proto_result(char *buf, size_t size, int version,
 *			const char *session, const char *token,
 *			const char *decision, const char *param)
 *
 *	int	smtpd_proto_dataline(char *buf, size_t size, int version,
 *			const char *session, const char *token,
 *			const char *line)
 *
 *	const char *const smtpd_proto_register[]
 *
 *	const char smtpd_proto_register_data[]
 * DESCRIPTION
 *	Pure: no I/O, no threads, no allocation; safe to fuzz.
 *
 *	Input lines (without the newline; at most SMTPD_PROTO_LINE_MAX
 *	bytes):
 *	config|KEY|VALUE	handshake; "config|ready" ends it
 *	report|V|TS|SUBSYSTEM|EVENT|SESSION[|PARAMS]
 *	filter|V|TS|SUBSYSTEM|PHASE|SESSION|TOKEN[|PARAMS]
 *	V is "0.6" (OpenSMTPD 6.7 to 7.3) or "0.7" (7.4 and later); TS is
 *	SECONDS.MICROSECONDS; SESSION and TOKEN are 1 to 16 hex digits.
 *	A later 0.N is read as 0.7; 0.5 and earlier are refused.
 *	"|" may appear only in the last field (smtpd-filters(7)), so
 *	PARAMS is the rest of the line, "|" and all; a data-line's PARAMS
 *	is the message line itself and may be empty.
 *
 *	smtpd_proto_parse() splits line in place (NUL bytes replace
 *	separators; msg points into line). It returns 0, or -1 with a
 *	reason in err for a line that is not one of the above (unknown
 *	stream or version, bad timestamp, session or token, missing
 *	fields). It never fails on an unknown event or phase: the caller
 *	ignores those.
 *
 *	smtpd_proto_version() reads a handshake key: "protocol" gives the
 *	version directly (sent by 7.4 and later); "smtpd-version" maps
 *	OpenSMTPD 7.4 and later to 0.7, anything earlier to 0.6. Returns
 *	SMTPD_PROTO_V06 or SMTPD_PROTO_V07, 0 for other keys, -1 for a
 *	value it cannot read.
 *
 *	The differences between 0.6 and 0.7 that matter here: 0.7 sends
 *	"config|protocol|0.7" in the handshake, and swaps the link-auth
 *	parameters ("USER|RESULT" in 0.6, "RESULT|USER" in 0.7).
 *	filter-result and filter-dataline are "SESSION|TOKEN" in both
 *	(they were "TOKEN|SESSION" in 0.5, OpenSMTPD 6.6, which is not
 *	supported).
 *
 *	smtpd_proto_link_connect() extracts the client address from a
 *	link-connect report ("RDNS|FCRDNS|SRC|DEST"; SRC is "a.b.c.d:port",
 *	"[x:y::z]:port", possibly "IPv6:" inside the brackets, or
 *	"unix:/path"). It writes the bare address, or "" for a UNIX
 *	socket, and returns 0, or -1 for a malformed report.
 *
 *	smtpd_proto_link_auth() copies the result ("pass", "fail" or
 *	"error") of a link-auth report, read in the order of the
 *	message's own version. Returns 0, or -1 when malformed or when
 *	it does not fit.
 *
 *	smtpd_proto_link_auth_user() copies the user name of a link-auth
 *	report that smtpd_proto_link_auth() accepts (0.6: all before the
 *	last "|"; 0.7: all after the first), cut to size (it is only
 *	shown, after text_sanitize()). Returns 0, or -1 when malformed.
 *
 *	smtpd_proto_tx_mail() and smtpd_proto_tx_rcpt() copy RESULT and
 *	ADDRESS of a tx-mail or tx-rcpt report ("MSGID|RESULT|ADDRESS",
 *	the same in 0.6 and 0.7). Return 0 or -1.
 *
 *	Who frees: nothing here allocates; msg points into line.
 *
 *	smtpd_proto_result() formats "filter-result|SESSION|TOKEN|DECISION"
 *	plus "|PARAM" when param is not null, and a newline.
 *	A reject or disconnect param must be one line starting "4xx " or
 *	"5xx " (smtpd-filters(7)); anything else, and any CR, LF or NUL,
 *	is refused. smtpd_proto_dataline() formats
 *	"filter-dataline|SESSION|TOKEN|LINE\n"; LINE must hold no LF (a
 *	bare CR inside message data is data, and is echoed). Both return the length, or -1 when the line would be
 *	malformed or does not fit (buf is then "").
 *
 *	smtpd_proto_register[] is the registration sent after
 *	"config|ready", null-terminated, "register|ready" last. It has no
 *	data-line filter: smtpd_proto_register_data is sent before it only
 *	when the filter tags (smtpd_tagging), because with a data-line
 *	filter OpenSMTPD 6.8 cuts every body line longer than 1,997
 *	characters (the LINE_MAX buffer of lka_filter_process_response).
 */

#include <stddef.h>

#define SMTPD_PROTO_LINE_MAX	65536	/* one protocol line, without \n */
#define SMTPD_PROTO_ID_MAX	16	/* hex digits of a session or token */

#define SMTPD_PROTO_V06		6
#define SMTPD_PROTO_V07		7

#define SMTPD_PROTO_CONFIG	1
#define SMTPD_PROTO_REPORT	2
#define SMTPD_PROTO_FILTER	3

typedef struct SMTPD_PROTO_MSG {
    int     stream;			/* SMTPD_PROTO_CONFIG etc. */
    int     version;			/* report, filter: SMTPD_PROTO_V0x */
    const char *key;			/* config */
    const char *value;			/* config; null for "ready" */
    const char *subsystem;		/* "smtp-in" */
    const char *event;			/* report event or filter phase */
    char    session[SMTPD_PROTO_ID_MAX + 1];
    char    token[SMTPD_PROTO_ID_MAX + 1];	/* filter only */
    const char *params;			/* null when absent */
} SMTPD_PROTO_MSG;

extern int smtpd_proto_parse(char *, SMTPD_PROTO_MSG *, char *, size_t);
extern int smtpd_proto_version(const char *, const char *);
extern int smtpd_proto_link_connect(const SMTPD_PROTO_MSG *, char *, size_t);
extern int smtpd_proto_link_auth(const SMTPD_PROTO_MSG *, char *, size_t);
extern int smtpd_proto_link_auth_user(const SMTPD_PROTO_MSG *, char *, size_t);
extern int smtpd_proto_tx_mail(const SMTPD_PROTO_MSG *, char *, size_t, char *, size_t);
extern int smtpd_proto_tx_rcpt(const SMTPD_PROTO_MSG *, char *, size_t, char *, size_t);
extern int smtpd_proto_result(char *, size_t, int, const char *, const char *, const char *, const char *);
extern int smtpd_proto_dataline(char *, size_t, int, const char *, const char *, const char *);
extern const char *const smtpd_proto_register[];
extern const char smtpd_proto_register_data[];

#endif
