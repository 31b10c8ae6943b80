/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	sender 3
 * SUMMARY
 *	named sender behaviours (rfc, outlook) replayed over a verdict
 * DESCRIPTION
 *	See sender.h. The verdict holds all the evidence: for each MX host
 *	its CNAME target (dns.c: the canonical name after CNAMEs), the
 *	probe's outcome and the certificate's SAN DNS names; for the
 *	policy, its mode and mx patterns. A probe reason says which check
 *	failed first ("the most basic one wins", probe.h): a host that
 *	failed only certificate-host-mismatch has a trusted, current
 *	chain, so another sender that checks another name against the
 *	same certificate decides on the names alone.
 *
 *	Certificate names are matched with policy_pattern_match(), which
 *	is the RFC 6125 section 6.4.3 rule RFC 8461 section 4.2 asks for
 *	(a "*" only as the whole leftmost label, matching one label).
 */

#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "sender.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "verdict.h"

#define SENDER_CERT_NAMES_KEPT	8	/* VERDICT_HOST.cert_names */

static const char *sender_names[SENDER_COUNT] = {"rfc", "outlook"};

const char *sender_name(int behaviour)
{
    return (behaviour >= 0 && behaviour < SENDER_COUNT ? sender_names[behaviour] : "unknown");
}

int     sender_code(const char *name)
{
    int     i;

    for (i = 0; name && i < SENDER_COUNT; i++)
	if (strcmp(sender_names[i], name) == 0)
	    return (i);
    return (-1);
}

/* Does any of the policy's mx patterns match name (RFC 8461 §4.1)? */

static int sender_listed(const VERDICT *v, const char *name)
{
    int     i;

    for (i = 0; i < v->policy_mx_count; i++)
	if (policy_pattern_match(v->policy_mx[i], name))
	    return (1);
    return (0);
}

/* Does the certificate name host (RFC 8461 §4.2 via RFC 6125 §6.4.3)? */

static int sender_cert_names(const VERDICT_HOST *h, const char *name)
{
    int     i;

    for (i = 0; i < h->cert_name_count; i++)
	if (policy_pattern_match(h->cert_names[i], name))
	    return (1);
    return (0);
}

/* A failure that may go away by itself (as route.c counts them). */

static int sender_transient(int reason)
{
    return (reason == REASON_UNREACHABLE || reason == REASON_TIMEOUT || reason == REASON_PROTOCOL
	    || reason == REASON_DNS_ERROR || reason == REASON_DNSSEC_INVALID
	    || reason == REASON_NOT_PROBED);
}

/* The host as the verdict has it (rfc, and every sender for a plain host). */

static void sender_host_rfc(const VERDICT_HOST *h, SENDER_HOST *s)
{
    (void) str_copy(s->name, sizeof(s->name), h->name);
    s->alias = 0;
    s->listed = h->listed;
    s->passed = h->passed;
    s->reason = h->passed ? REASON_NONE : h->reason;
    s->cert_ok = h->passed || (h->cert_name_count > 0 && sender_cert_names(h, h->name));
    s->known = h->passed || h->reason != REASON_NOT_PROBED;
}

/*
 * Outlook.com (seed 001): an MX host that is an alias is checked under
 * its CNAME target, for the policy and for the certificate.
 */
static void sender_host_outlook(const VERDICT *v, const VERDICT_HOST *h, SENDER_HOST *s)
{
    int     probed;

    sender_host_rfc(h, s);
    if (h->cname[0] == 0 || h->dane)
	return;
    (void) str_copy(s->name, sizeof(s->name), h->cname);
    s->alias = 1;
    s->listed = sender_listed(v, h->cname);
    s->cert_ok = sender_cert_names(h, h->cname);
    probed = h->passed || h->cert_name_count > 0 || h->address[0] != 0;
    s->known = 1;
    s->passed = 0;
    if (!s->listed) {
	s->reason = REASON_MX_NOT_LISTED;
    } else if (!probed) {
	/* The engine did not probe it (e.g. not listed under its MX name). */
	s->reason = h->reason == REASON_MX_NOT_LISTED ? REASON_NOT_PROBED : h->reason;
	s->known = (h->reason != REASON_MX_NOT_LISTED && h->reason != REASON_NOT_PROBED
		    && h->reason != REASON_NONE);
    } else if (!h->passed && h->reason != REASON_CERT_HOST_MISMATCH) {
	/* A failure before the name check fails for every sender. */
	s->reason = h->reason;
    } else if (!s->cert_ok) {
	s->reason = REASON_CERT_HOST_MISMATCH;
	/* Names beyond those kept may include the target: cannot tell. */
	s->known = h->cert_name_count < SENDER_CERT_NAMES_KEPT;
    } else {
	s->passed = 1;
	s->reason = REASON_NONE;
    }
}

/* What the domain's owner must change for the aliased hosts that fail. */

static void sender_outlook_fix(const VERDICT *v, SENDER_VIEW *out)
{
    const VERDICT_HOST *h;
    const SENDER_HOST *s;
    char    what[VERDICT_TEXT_MAX];
    int     i;

    for (i = 0; i < out->host_count; i++) {
	h = &v->host[i];
	s = &out->host[i];
	if (!s->alias || s->passed || !s->known
	    || (s->reason != REASON_MX_NOT_LISTED && s->reason != REASON_CERT_HOST_MISMATCH))
	    continue;
	what[0] = 0;
	if (!s->listed)
	    (void) str_appendf(what, sizeof(what), "list \"mx: %s\" in the policy", s->name);
	if (!s->cert_ok)
	    (void) str_appendf(what, sizeof(what), "%s%s %s %s the certificate of %s",
			       what[0] ? " and " : "", h->cert_name_count ? "add" : "make sure",
			       s->name, h->cert_name_count ? "to" : "is named in", h->name);
	(void) snprintf(out->fix, sizeof(out->fix),
			"point the MX record at %s instead of the alias %s, or %s"
			" (RFC 2181 section 10.3: an MX must not point to an alias)",
			s->name, h->name, what);
	return;
    }
}

static void sender_outlook_explain(const VERDICT *v, SENDER_VIEW *out)
{
    const SENDER_HOST *s = 0;
    char    buf[VERDICT_TEXT_MAX];
    int     a = -1;
    int     i;

    buf[0] = 0;
    if (!out->differs) {
	(void) snprintf(buf, sizeof(buf), "same as rfc: %s", v->explanation);
	goto done;
    }
    /* The aliased host that explains it: the first failing one, else the first. */
    for (i = 0; i < out->host_count; i++)
	if (out->host[i].alias && (a < 0 || (!out->host[i].passed && out->host[a].passed)))
	    a = i;
    if (a >= 0)
	s = &out->host[a];
    if (out->verdict == VERDICT_OK) {
	for (i = 0; i < out->host_count && !out->host[i].passed; i++)
	     /* void */ ;
	(void) snprintf(buf, sizeof(buf), "Outlook.com follows MX aliases to their target and delivers"
			" via %s%s", i < out->host_count ? out->host[i].name : "?",
			i < out->host_count && out->host[i].alias ?
			", which the policy lists and the certificate names" : "");
    } else if (s) {
	(void) snprintf(buf, sizeof(buf), "Outlook.com follows the alias %s to %s and requires the policy"
			" to list and the certificate to name %s: %s; it %s", v->host[a].name, s->name,
			s->name, !s->known ? "this check cannot tell whether the certificate names it" :
			!s->listed && !s->cert_ok && v->host[a].cert_name_count ? "neither does" : !s->listed ?
			"the policy does not list it" : !s->cert_ok ? "the certificate does not name it" :
			verdict_reason_label(s->reason),
			out->verdict == VERDICT_ENFORCE_FAIL ? "defers the mail and bounces it when it expires"
			: out->verdict == VERDICT_TESTING_FAIL ? "delivers and reports the failure (testing)"
			: "cannot decide from this check");
    } else {
	(void) snprintf(buf, sizeof(buf), "Outlook.com: %s", verdict_name(out->verdict));
    }

done:
    (void) text_sanitize(out->explanation, sizeof(out->explanation), buf);
}

/* sender_reason - the reason that decides a verdict (see sender.h) */

int     sender_reason(const VERDICT *v)
{
    int     i;

    if (v->reason != REASON_NONE)
	return (v->reason);
    if (v->verdict != VERDICT_TESTING_FAIL && v->verdict != VERDICT_ENFORCE_FAIL
	&& v->verdict != VERDICT_TEMPORARY)
	return (REASON_NONE);
    /* As verdict_explain() picks its culprit: a listed host first. */
    for (i = 0; i < v->host_count; i++)
	if (!v->host[i].passed && v->host[i].listed && v->host[i].reason != REASON_NOT_PROBED
	    && v->host[i].reason != REASON_NONE)
	    return (v->host[i].reason);
    for (i = 0; i < v->host_count; i++)
	if (!v->host[i].passed && v->host[i].reason != REASON_NOT_PROBED && v->host[i].reason != REASON_NONE)
	    return (v->host[i].reason);
    return (v->verdict == VERDICT_TEMPORARY ? REASON_NOT_PROBED : REASON_VALIDATION_FAILURE);
}

int     sender_view(int behaviour, const VERDICT *v, SENDER_VIEW *out)
{
    SENDER_HOST rfc;
    int     status = STATUS_INVAL;
    int     active;
    int     any_pass = 0, any_temp = 0, any_unknown = 0, any_dane = 0;
    int     first_fail = -1;
    int     i;

    memset(out, 0, sizeof(*out));
    out->behaviour = behaviour;
    out->verdict = v->verdict;
    out->reason = sender_reason(v);
    if (behaviour != SENDER_RFC && behaviour != SENDER_OUTLOOK)
	goto done;
    status = STATUS_OK;
    out->host_count = v->host_count;
    for (i = 0; i < v->host_count; i++) {
	if (behaviour == SENDER_OUTLOOK)
	    sender_host_outlook(v, &v->host[i], &out->host[i]);
	else
	    sender_host_rfc(&v->host[i], &out->host[i]);
    }
    if (behaviour == SENDER_RFC) {
	(void) text_sanitize(out->explanation, sizeof(out->explanation), v->explanation);
	goto done;
    }

    /*
     * Only an MTA-STS policy in testing or enforce mode makes the names
     * matter; every other verdict stands as the engine gave it.
     */
    active = v->has_policy && v->policy_mode != POLICY_MODE_NONE
	&& (v->verdict == VERDICT_OK || v->verdict == VERDICT_TESTING_FAIL
	    || v->verdict == VERDICT_ENFORCE_FAIL || v->verdict == VERDICT_TEMPORARY);
    for (i = 0; active && i < out->host_count; i++) {
	const SENDER_HOST *s = &out->host[i];

	sender_host_rfc(&v->host[i], &rfc);
	if (s->passed != rfc.passed || s->reason != rfc.reason || strcmp(s->name, rfc.name) != 0)
	    out->differs = 1;
	if (v->host[i].dane)
	    any_dane = 1;
	/* A host no policy asked for and no DANE decides plays no part. */
	if (!s->listed && !v->host[i].dane && !s->alias)
	    continue;
	if (s->passed)
	    any_pass = 1;
	else if (!s->known)
	    any_unknown = 1;
	else if (sender_transient(s->reason))
	    any_temp = 1;
	if (!s->passed && first_fail < 0)
	    first_fail = i;
    }
    if (active && out->differs) {
	if (any_pass) {
	    out->verdict = VERDICT_OK;
	    out->reason = REASON_NONE;
	} else if (any_unknown || any_temp) {
	    /* The evidence cannot decide it: keep the engine's verdict. */
	    out->verdict = v->verdict;
	} else {
	    out->verdict = any_dane || v->policy_mode == POLICY_MODE_ENFORCE ?
		VERDICT_ENFORCE_FAIL : VERDICT_TESTING_FAIL;
	    out->reason = first_fail >= 0 ? out->host[first_fail].reason : REASON_VALIDATION_FAILURE;
	}
	sender_outlook_fix(v, out);
    }
    sender_outlook_explain(v, out);

done:
    return (status);
}
