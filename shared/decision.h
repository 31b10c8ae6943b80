/* SPDX-License-Identifier: ISC */
#ifndef DECISION_H_INCLUDED
#define DECISION_H_INCLUDED

/*
 * NAME
 *	decision 3h
 * SUMMARY
 *	the log line of one RCPT decision, the same in every front end
 * SYNOPSIS
 *	#include "decision.h"
 *
 *	int	decision_line(char *buf, size_t size, const DECISION *d)
 * DESCRIPTION
 *	stsfilter-milter and stsfilter-smtpd log one line per recipient
 *	they decide on, in the style of Postfix's own lines (smtpd's
 *	"QID: client=host[addr], sasl_method=..., sasl_username=..." and
 *	qmgr's "QID: from=<...>, size=..."): the queue id first, then
 *	"name=value" fields separated by ", ", always in this order:
 *
 *	QID: client=ADDR, from=<SENDER>[, sasl_username=USER],
 *	to=<RCPT>, domain=DOMAIN, verdict=VERDICT, reasons=LABELS,
 *	action=ACTION[ (monitor_mode: would ACTION)][ (NOTE)],
 *	delay=Nms[, reply=CODE DSN TEXT | : EXPLANATION]
 *
 *	QID is "NOQUEUE" when the MTA has not given one (Postfix before
 *	the queue file exists, as Postfix's smtpd writes it). from=<> is
 *	the null sender; a sender the front end never saw (no MAIL FROM
 *	step) is shown as from=<>, too: stsfilter never invents one.
 *	sasl_username appears only for an authenticated client, as in
 *	Postfix. A refused recipient ends with its SMTP reply; an
 *	accepted one with the engine's explanation.
 *
 *	Every field that came from the network (client, from, user, to)
 *	is passed through text_sanitize() here, whatever the caller did;
 *	log.c sanitizes the whole line once more.
 *
 *	decision_line() returns 0, or -1 when the line was cut to size.
 *	Pure and thread-safe; nothing is allocated.
 */

#include <stddef.h>

#include "action.h"
#include "answer.h"

typedef struct DECISION {
    const char *qid;			/* null or "": NOQUEUE */
    const char *client;			/* null: "unknown" */
    const char *from;			/* shown form, no brackets; null: "" */
    const char *sasl_username;		/* null or "": not authenticated */
    const char *rcpt;			/* shown form (rcpt_show()) */
    const char *domain;			/* "" or null: "unreadable" */
    const ANSWER *answer;		/* null: internal error */
    const ACTION *act;
    const char *note;			/* null, or appended after action= */
    long    delay_ms;
    const ACTION_REPLY *reply;		/* code "" when not refused */
} DECISION;

extern int decision_line(char *, size_t, const DECISION *);

#endif
