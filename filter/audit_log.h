/* SPDX-License-Identifier: ISC */
#ifndef AUDIT_LOG_H_INCLUDED
#define AUDIT_LOG_H_INCLUDED

/*
 * NAME
 *	audit_log 3h
 * SUMMARY
 *	`stsfilter audit`: the recipients of mail log lines (Postfix,
 *	Sendmail) or of a list of domains
 * SYNOPSIS
 *	#include "audit_log.h"
 *
 *	int	audit_log_read(FILE *fp, char *buf, size_t size, size_t *len)
 *
 *	int	audit_log_detect(const char *line, size_t len)
 *
 *	int	audit_log_parse(int format, const char *line, size_t len,
 *			AUDIT_LINE *out)
 *
 *	const char *audit_log_format_name(int format)
 *	int	audit_log_format_code(const char *name)
 * DESCRIPTION
 *	audit_log_read() reads one line of at most AUDIT_LINE_MAX bytes
 *	(without its newline) into buf (size at least AUDIT_LINE_MAX + 2)
 *	and NUL-terminates it; a CR before the newline is dropped. Returns
 *	1 for a line, 0 at the end of the input, -1 for a line longer than
 *	AUDIT_LINE_MAX: its rest is read and discarded, and buf holds
 *	nothing usable. A NUL byte in a line ends what the parsers see of
 *	it (*len), not the line.
 *
 *	audit_log_detect() names the format of a line when it tells:
 *	AUDIT_FORMAT_POSTFIX for a syslog line of a program "postfix..."
 *	(postfix/smtp[PID]:, postfix-out/qmgr[PID]:), AUDIT_FORMAT_SENDMAIL
 *	for sendmail[PID]:, sm-mta[PID]: and sm-msp-queue[PID]:,
 *	AUDIT_FORMAT_DOMAINS for a line that is one word (a domain or an
 *	address), AUDIT_FORMAT_AUTO when the line does not tell (another
 *	program's log line, a blank line, a comment).
 *
 *	audit_log_parse() reads one line of the given format and fills
 *	out. Returns STATUS_OK for a delivery attempt to audit (out has
 *	at least one recipient), STATUS_NOTFOUND for any other line, and
 *	STATUS_INVAL for a line over AUDIT_LINE_MAX bytes or a delivery
 *	line whose recipient cannot be read. What counts:
 *
 *	postfix	a delivery agent's line "QUEUEID: to=<ADDR>, ... status=S":
 *		the first recipient after the queue id (never orig_to=).
 *		Lines of local(8), virtual(8), lmtp(8), pipe(8) and
 *		discard(8), and lines whose relay is a loopback address
 *		(the hop into a content filter such as amavis, whose
 *		reinjected message is logged again under a new queue
 *		id), are not outbound deliveries: STATUS_NOTFOUND.
 *	sendmail "QUEUEID: to=ADDR[,ADDR...], ... stat=S": every address of
 *		the list (up to AUDIT_RCPT_MAX; out->rcpt_dropped counts
 *		the rest); lines of the local, prog and *file* mailers,
 *		loopback relays and addresses without a domain (local
 *		users, |programs, /files) do not count.
 *	domains	one word a line, a domain or an address (the part after
 *		its last "@"); blank lines and "#" comments do not count.
 *
 *	In an address, quoted local parts may hold "@", ">" and ",": the
 *	domain is what follows the last "@" outside quotes (RFC 5321
 *	section 4.1.2). Each recipient's domain is normalized
 *	(domain_normalize(): IDNA to A-labels, lowercase); a domain that
 *	cannot be (an address literal, a bad name) has valid 0 and its
 *	text, sanitized (text_sanitize()), in domain. out->status is the
 *	delivery status (sent, deferred, bounced; Postfix's expired and
 *	Sendmail's permanent failures count as bounced).
 *
 *	audit_log_format_name() names a format ("auto", "postfix",
 *	"sendmail", "domains"); audit_log_format_code() returns the code
 *	of a name, or -1.
 *
 *	Pure functions but for audit_log_read(); nothing is allocated;
 *	out belongs to the caller.
 */

#include <stddef.h>
#include <stdio.h>

#include "domain.h"

#define AUDIT_LINE_MAX		4096	/* longer lines are skipped */
#define AUDIT_RCPT_MAX		16	/* recipients kept from one line */
#define AUDIT_ADDR_MAX		512	/* one address, as logged */
#define AUDIT_QID_MAX		32

#define AUDIT_FORMAT_AUTO	0
#define AUDIT_FORMAT_POSTFIX	1
#define AUDIT_FORMAT_SENDMAIL	2
#define AUDIT_FORMAT_DOMAINS	3

#define AUDIT_STATUS_SENT	0
#define AUDIT_STATUS_DEFERRED	1
#define AUDIT_STATUS_BOUNCED	2
#define AUDIT_STATUS_OTHER	3

typedef struct AUDIT_RCPT {
    char    addr[AUDIT_ADDR_MAX];	/* as logged, sanitized */
    char    domain[DOMAIN_MAX + 1];	/* normalized; or the text, when !valid */
    int     valid;
} AUDIT_RCPT;

typedef struct AUDIT_LINE {
    int     format;			/* AUDIT_FORMAT_* */
    char    qid[AUDIT_QID_MAX];		/* queue id; empty for domains */
    char    agent[32];			/* postfix/smtp: "smtp"; sendmail: mailer; sanitized */
    int     status;			/* AUDIT_STATUS_* */
    int     rcpt_count;
    int     rcpt_dropped;		/* recipients past AUDIT_RCPT_MAX */
    AUDIT_RCPT rcpt[AUDIT_RCPT_MAX];
} AUDIT_LINE;

extern int audit_log_read(FILE *, char *, size_t, size_t *);
extern int audit_log_detect(const char *, size_t);
extern int audit_log_parse(int, const char *, size_t, AUDIT_LINE *);
extern const char *audit_log_format_name(int);
extern int audit_log_format_code(const char *);

#endif
