/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	answer 3
 * SUMMARY
 *	the compact answer about one recipient domain
 * DESCRIPTION
 *	See answer.h.
 */

#include <string.h>

#include "action.h"
#include "answer.h"
#include "clock.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "tlsrpt.h"

/*
 * The first rua URI of a TLS-RPT record, as parsed by tlsrpt.c (RFC
 * 8460 section 3), sanitized; empty when the record is invalid or the
 * URI is too long to show.
 */
static void answer_tlsrpt_uri(const char *record, char *buf, size_t size)
{
    TLSRPT_RECORD rec;
    size_t  n;

    buf[0] = 0;
    if (*record == 0 || tlsrpt_parse(record, strlen(record), &rec, 0) != STATUS_OK || rec.rua_count < 1)
	return;
    if ((n = strlen(rec.rua[0].uri)) >= size || n > ANSWER_TLSRPT_URI_MAX)
	return;
    (void) text_sanitize(buf, size, rec.rua[0].uri);
}

int     answer_reasons(const VERDICT *v, char *buf, size_t size)
{
    const char *seen[REASON_COUNT + VERDICT_HOSTS_MAX];
    const char *label;
    int     nseen = 0;
    int     ret = 0;
    int     i, j;

    if (size == 0)
	return (-1);
    buf[0] = 0;
    for (i = -1; v && i < v->host_count && i < VERDICT_HOSTS_MAX; i++) {
	if (i < 0) {
	    if (v->reason == REASON_NONE)
		continue;
	    label = verdict_reason_label(v->reason);
	} else {
	    if (v->host[i].passed || v->host[i].reason == REASON_NONE)
		continue;
	    label = verdict_reason_label(v->host[i].reason);
	}
	for (j = 0; j < nseen && strcmp(seen[j], label) != 0; j++)
	     /* void */ ;
	if (j < nseen)
	    continue;
	seen[nseen++] = label;
	if ((buf[0] && str_append(buf, size, ",") < 0) || str_append(buf, size, label) < 0)
	    ret = -1;
    }
    if (buf[0] == 0 && str_copy(buf, size, "-") < 0)
	ret = -1;
    return (ret);
}

void    answer_from_verdict(const VERDICT *v, ANSWER *a)
{
    memset(a, 0, sizeof(*a));
    a->verdict = v->verdict;
    a->reason = v->reason;
    a->policy_mx_count = v->policy_mx_count;
    a->dane = v->dane;
    a->built = clock_now();
    a->until = v->answer_until;
    (void) str_copy(a->domain, sizeof(a->domain), v->domain);
    (void) answer_reasons(v, a->reasons, sizeof(a->reasons));
    (void) str_copy(a->explanation, sizeof(a->explanation), v->explanation);
    answer_tlsrpt_uri(v->tlsrpt, a->tlsrpt_uri, sizeof(a->tlsrpt_uri));
}

void    answer_internal(ANSWER *a, const char *domain)
{
    memset(a, 0, sizeof(*a));
    a->verdict = ACTION_INTERNAL_ERROR;
    a->built = clock_now();
    (void) str_copy(a->domain, sizeof(a->domain), domain ? domain : "");
    (void) str_copy(a->reasons, sizeof(a->reasons), "-");
}
