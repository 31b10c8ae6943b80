/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	verdict 3
 * SUMMARY
 *	verdicts, reason codes and explanations
 * DESCRIPTION
 *	See verdict.h. Reason names are the RFC 8460 section 4.3 result
 *	types; this is the one table that maps codes to names and to the
 *	sentence a sender reads.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "str.h"
#include "text.h"
#include "verdict.h"

static const char *verdict_names[VERDICT_COUNT] = {
    "no-policy", "none", "ok", "testing-fail", "enforce-fail", "temporary", "null-mx",
};

/*
 * name: the RFC 8460 §4.3 result type (what TLS reports and JSON show);
 * label: our finer code, for logs and `stsfilter check`.
 */
static const struct {
    const char *name;
    const char *label;
} verdict_reasons[REASON_COUNT] = {
    {"none", "none"},
    {"sts-policy-fetch-error", "sts-policy-fetch-error"},	/* RFC 8460 §4.3.2.2 */
    {"sts-policy-invalid", "sts-policy-invalid"},
    {"sts-webpki-invalid", "sts-webpki-invalid"},
    {"starttls-not-supported", "starttls-not-supported"},	/* RFC 8460 §4.3.2.1 */
    {"certificate-host-mismatch", "certificate-host-mismatch"},
    {"certificate-expired", "certificate-expired"},
    {"certificate-not-trusted", "certificate-not-trusted"},
    {"validation-failure", "validation-failure"},
    {"tlsa-invalid", "tlsa-invalid"},				/* RFC 8460 §4.3.2.2 */
    {"dnssec-invalid", "dnssec-invalid"},
    {"dane-required", "dane-required"},
    /* RFC 8461 §4.1: an MX host the policy does not list; RFC 8460 has no
     * dedicated type, so reports say validation-failure (§4.3.2.1). */
    {"validation-failure", "mx-not-listed"},
    {"validation-failure", "unreachable"},
    {"validation-failure", "timeout"},
    {"validation-failure", "dns-error"},
    {"validation-failure", "smtp-protocol-error"},
    {"validation-failure", "not-probed"},
};

const char *verdict_name(int verdict)
{
    return (verdict >= 0 && verdict < VERDICT_COUNT ? verdict_names[verdict] : "unknown");
}

const char *verdict_reason_name(int reason)
{
    return (reason >= 0 && reason < REASON_COUNT ? verdict_reasons[reason].name : "unknown");
}

const char *verdict_reason_label(int reason)
{
    return (reason >= 0 && reason < REASON_COUNT ? verdict_reasons[reason].label : "unknown");
}

int     verdict_reason_code(const char *name)
{
    int     i;

    for (i = 0; i < REASON_COUNT; i++)
	if (strcmp(verdict_reasons[i].label, name) == 0)
	    return (i);
    return (-1);
}

VERDICT *verdict_create(const char *domain)
{
    VERDICT *v;

    if ((v = calloc(1, sizeof(*v))) == 0)
	return (0);
    (void) text_sanitize(v->domain, sizeof(v->domain), domain);
    v->verdict = VERDICT_TEMPORARY;
    return (v);
}

/* verdict_mx_clear - free the mx patterns */

static void verdict_mx_clear(VERDICT *v)
{
    int     i;

    for (i = 0; v->policy_mx && i < v->policy_mx_count; i++)
	free(v->policy_mx[i]);
    free(v->policy_mx);
    v->policy_mx = 0;
    v->policy_mx_count = 0;
}

void    verdict_free(VERDICT **v)
{
    if (v && *v) {
	verdict_mx_clear(*v);
	free(*v);
	*v = 0;
    }
}

int     verdict_set_policy_mx(VERDICT *v, char *const *mx, int count)
{
    size_t  size;
    int     ret = -1;
    int     i;

    verdict_mx_clear(v);
    if (count <= 0)
	return (0);
    if ((v->policy_mx = calloc((size_t) count, sizeof(*v->policy_mx))) == 0)
	goto out;
    for (i = 0; i < count; i++) {
	size = strlen(mx[i]) + 1;
	if ((v->policy_mx[i] = malloc(size)) == 0)
	    goto out;
	(void) text_sanitize(v->policy_mx[i], size, mx[i]);
	v->policy_mx_count = i + 1;
    }
    ret = 0;

out:
    if (ret < 0)
	verdict_mx_clear(v);
    return (ret);
}

VERDICT *verdict_copy(const VERDICT *v)
{
    VERDICT *c;

    if ((c = malloc(sizeof(*c))) == 0)
	return (0);
    memcpy(c, v, sizeof(*c));
    c->policy_mx = 0;
    c->policy_mx_count = 0;
    if (verdict_set_policy_mx(c, v->policy_mx, v->policy_mx_count) < 0)
	verdict_free(&c);
    return (c);
}

VERDICT_HOST *verdict_add_host(VERDICT *v, const char *name, int pref)
{
    VERDICT_HOST *h;

    if (v->host_count >= VERDICT_HOSTS_MAX)
	return (0);
    h = &v->host[v->host_count++];
    memset(h, 0, sizeof(*h));
    (void) text_sanitize(h->name, sizeof(h->name), name);
    h->pref = pref;
    h->reason = REASON_NOT_PROBED;
    return (h);
}

void    verdict_warn(VERDICT *v, const char *fmt,...)
{
    char    raw[256];
    va_list ap;

    if (v->warn_count >= VERDICT_WARN_MAX)
	return;
    va_start(ap, fmt);
    (void) vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    (void) text_sanitize(v->warn[v->warn_count++], sizeof(v->warn[0]), raw);
}

/*
 * verdict_no_policy - no policy in force, no DANE: no-policy or temporary.
 *
 * RFC 8461 §3.3: "If a valid TXT record is found but no policy can be
 * fetched via HTTPS (for any reason), and there is no valid (non-expired)
 * previously cached policy, senders MUST continue with delivery as though
 * the domain has not implemented MTA-STS." The same holds for a fetched
 * policy that is invalid (§3.2, §3.3) or whose host's certificate is not
 * valid (§3.3). So every such domain is no-policy, whatever the reason;
 * the RFC 8460 §4.3.2.2 result type stays as the reason and a warning,
 * since senders report it. Only what may change within minutes is
 * temporary: a DNS timeout, SERVFAIL or BOGUS answer (also for the
 * policy host's address), or the time budget running out mid-fetch.
 */
void    verdict_no_policy(VERDICT *v, int reason, int transient)
{
    v->reason = reason;
    switch (reason) {
    case REASON_NONE:
	v->verdict = VERDICT_NO_POLICY;
	break;
    case REASON_STS_FETCH_ERROR:
    case REASON_STS_POLICY_INVALID:
    case REASON_STS_WEBPKI_INVALID:
	if (transient) {
	    v->verdict = VERDICT_TEMPORARY;
	    break;
	}
	v->verdict = VERDICT_NO_POLICY;
	verdict_warn(v, "the MTA-STS policy cannot be used (%s: %s); senders deliver "
		     "without MTA-STS (RFC 8461 section 3.3)", verdict_reason_name(reason),
		     v->detail[0] ? v->detail : "no detail");
	break;
    default:
	v->verdict = VERDICT_TEMPORARY;
	break;
    }
}

/* The host whose failure best explains the verdict. */

static const VERDICT_HOST *verdict_culprit(const VERDICT *v)
{
    int     i;

    for (i = 0; i < v->host_count; i++)
	if (!v->host[i].passed && v->host[i].listed && v->host[i].reason != REASON_NOT_PROBED)
	    return (&v->host[i]);
    for (i = 0; i < v->host_count; i++)
	if (!v->host[i].passed && v->host[i].reason != REASON_NOT_PROBED)
	    return (&v->host[i]);
    return (v->host_count ? &v->host[0] : 0);
}

static void verdict_host_sentence(const VERDICT *v, const VERDICT_HOST *h, char *buf, size_t size)
{
    const char *mode = policy_mode_name(v->policy_mode);
    const char *d = h->detail[0] ? h->detail : "no detail";

    switch (h->reason) {
    case REASON_MX_NOT_LISTED:
	(void) snprintf(buf, size, "MX %s is not listed in %s's MTA-STS policy (%s); "
			"the recipient's postmaster must fix the policy or the MX records",
			h->name, v->domain, mode);
	break;
    case REASON_CERT_HOST_MISMATCH:
	(void) snprintf(buf, size, "MX %s presents a certificate that does not name it (%s); "
			"the recipient's postmaster must fix the certificate", h->name, d);
	break;
    case REASON_CERT_EXPIRED:
	(void) snprintf(buf, size, "MX %s presents an expired certificate (%s); "
			"the recipient's postmaster must renew it", h->name, d);
	break;
    case REASON_CERT_NOT_TRUSTED:
	(void) snprintf(buf, size, "MX %s presents an untrusted certificate (%s); "
			"the recipient's postmaster must fix the certificate chain", h->name, d);
	break;
    case REASON_STARTTLS_NOT_SUPPORTED:
	(void) snprintf(buf, size, "MX %s does not offer STARTTLS, which %s's %s requires",
			h->name, v->domain, h->dane ? "DANE TLSA record" : "MTA-STS policy");
	break;
    case REASON_TLSA_INVALID:
	(void) snprintf(buf, size, "MX %s does not match its DANE TLSA records (%s); "
			"the recipient's postmaster must fix the TLSA records or the certificate", h->name, d);
	break;
    case REASON_DNSSEC_INVALID:
	(void) snprintf(buf, size, "DNSSEC validation failed for MX %s (%s)", h->name, d);
	break;
    case REASON_UNREACHABLE:
    case REASON_TIMEOUT:
	(void) snprintf(buf, size, "MX %s could not be reached (%s)", h->name, d);
	break;
    case REASON_DNS_ERROR:
	(void) snprintf(buf, size, "DNS lookup for MX %s failed (%s)", h->name, d);
	break;
    case REASON_NOT_PROBED:
	(void) snprintf(buf, size, "MX %s was not checked within the time budget", h->name);
	break;
    default:
	(void) snprintf(buf, size, "MX %s failed TLS validation (%s)", h->name, d);
	break;
    }
}

void    verdict_explain(VERDICT *v)
{
    char    buf[VERDICT_TEXT_MAX];
    const VERDICT_HOST *h;
    int     i;

    buf[0] = 0;
    switch (v->verdict) {
    case VERDICT_NO_POLICY:
	/* RFC 8461 §3.3: an unusable policy; the owner must fix what senders report. */
	switch (v->reason) {
	case REASON_STS_FETCH_ERROR:
	    (void) snprintf(buf, sizeof(buf), "senders cannot fetch the MTA-STS policy of %s: %s; "
			    "they deliver without MTA-STS and report %s", v->domain,
			    v->detail[0] ? v->detail : "no detail", verdict_reason_name(v->reason));
	    break;
	case REASON_STS_POLICY_INVALID:
	    (void) snprintf(buf, sizeof(buf), "senders ignore the MTA-STS policy of %s, which is invalid: %s; "
			    "they deliver without MTA-STS and report %s", v->domain,
			    v->detail[0] ? v->detail : "no detail", verdict_reason_name(v->reason));
	    break;
	case REASON_STS_WEBPKI_INVALID:
	    (void) snprintf(buf, sizeof(buf), "senders ignore the MTA-STS policy of %s: the certificate of "
			    "mta-sts.%s is not valid (%s); they deliver without MTA-STS and report %s",
			    v->domain, v->domain, v->detail[0] ? v->detail : "no detail",
			    verdict_reason_name(v->reason));
	    break;
	default:
	    (void) snprintf(buf, sizeof(buf), "%s publishes no MTA-STS policy and no DANE TLSA records",
			    v->domain);
	    break;
	}
	break;
    case VERDICT_NONE:
	(void) snprintf(buf, sizeof(buf), "%s's MTA-STS policy is in mode none", v->domain);
	break;
    case VERDICT_NULL_MX:
	/* RFC 7505 §3: a null MX means the domain accepts no mail. */
	(void) snprintf(buf, sizeof(buf), "%s accepts no mail (null MX, RFC 7505)", v->domain);
	break;
    case VERDICT_OK:
	for (i = 0; i < v->host_count && !v->host[i].passed; i++)
	     /* void */ ;
	(void) snprintf(buf, sizeof(buf), "%s has a valid TLS route via MX %s%s", v->domain,
			i < v->host_count ? v->host[i].name : "?",
			i < v->host_count && v->host[i].dane ? " (DANE)" : "");
	break;
    default:
	switch (v->reason) {
	case REASON_STS_FETCH_ERROR:
	    (void) snprintf(buf, sizeof(buf), "the MTA-STS policy of %s could not be fetched (%s)",
			    v->domain, v->detail);
	    break;
	case REASON_STS_POLICY_INVALID:
	    (void) snprintf(buf, sizeof(buf), "the MTA-STS policy of %s is invalid (%s)", v->domain, v->detail);
	    break;
	case REASON_STS_WEBPKI_INVALID:
	    (void) snprintf(buf, sizeof(buf), "the MTA-STS policy host of %s has an invalid certificate (%s)",
			    v->domain, v->detail);
	    break;
	case REASON_DNSSEC_INVALID:
	    (void) snprintf(buf, sizeof(buf), "DNSSEC validation failed for %s (%s)", v->domain, v->detail);
	    break;
	case REASON_DNS_ERROR:
	    (void) snprintf(buf, sizeof(buf), "DNS lookup for %s failed (%s)", v->domain, v->detail);
	    break;
	case REASON_NOT_PROBED:
	    (void) snprintf(buf, sizeof(buf), "no MX host of %s could be checked within the time budget",
			    v->domain);
	    break;
	default:
	    if ((h = verdict_culprit(v)) != 0)
		verdict_host_sentence(v, h, buf, sizeof(buf));
	    else
		(void) snprintf(buf, sizeof(buf), "%s has no usable MX host (%s)", v->domain,
				v->detail[0] ? v->detail : "no detail");
	    break;
	}
	break;
    }
    (void) text_sanitize(v->explanation, sizeof(v->explanation), buf);
}
