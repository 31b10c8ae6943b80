/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	decision 3
 * SUMMARY
 *	the log line of one RCPT decision
 * DESCRIPTION
 *	See decision.h.
 */

#include <string.h>

#include "decision.h"
#include "str.h"
#include "text.h"
#include "verdict.h"

#define DECISION_FIELD_MAX	512	/* one remote field, sanitized */

int     decision_line(char *buf, size_t size, const DECISION *d)
{
    char    client[DECISION_FIELD_MAX];
    char    from[DECISION_FIELD_MAX];
    char    user[DECISION_FIELD_MAX];
    char    rcpt[DECISION_FIELD_MAX];
    const ANSWER *v = d->answer;
    const ACTION *act = d->act;
    int     ret = 0;

    (void) text_sanitize(client, sizeof(client), d->client ? d->client : "unknown");
    (void) text_sanitize(from, sizeof(from), d->from ? d->from : "");
    (void) text_sanitize(user, sizeof(user), d->sasl_username ? d->sasl_username : "");
    (void) text_sanitize(rcpt, sizeof(rcpt), d->rcpt ? d->rcpt : "");
    if (size == 0)
	return (-1);
    buf[0] = 0;
    if (str_appendf(buf, size, "%s: client=%s, from=<%s>", d->qid && *d->qid ? d->qid : "NOQUEUE",
		    client, from) < 0)
	ret = -1;
    if (user[0] && str_appendf(buf, size, ", sasl_username=%s", user) < 0)
	ret = -1;
    if (str_appendf(buf, size, ", to=<%s>, domain=%s, verdict=%s, reasons=%s, action=%s", rcpt,
		    d->domain && *d->domain ? d->domain : "unreadable",
		    v ? verdict_name(v->verdict) : "internal-error", v && v->reasons[0] ? v->reasons : "-",
		    action_name(act->action)) < 0)
	ret = -1;
    if (act->monitor && str_appendf(buf, size, " (monitor_mode: would %s)", action_name(act->configured)) < 0)
	ret = -1;
    if (d->note && *d->note && str_appendf(buf, size, " (%s)", d->note) < 0)
	ret = -1;
    if (str_appendf(buf, size, ", delay=%ldms", d->delay_ms) < 0)
	ret = -1;
    if (d->reply && d->reply->code[0]) {
	if (str_appendf(buf, size, ", reply=%s %s %s", d->reply->code, d->reply->dsn, d->reply->text) < 0)
	    ret = -1;
    } else if (v && v->explanation[0]) {
	if (str_appendf(buf, size, ": %s", v->explanation) < 0)
	    ret = -1;
    }
    return (ret);
}
