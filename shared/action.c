/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	action 3
 * SUMMARY
 *	verdict to action, SMTP reply and tag header; which mail is checked
 * SYNOPSIS
 *	#include "action.h"
#include "status.h"
 * DESCRIPTION
 *	See action.h. RFCs: 8461 section 5.1 (a policy failure is not a
 *	reason to bounce), 7505 section 4.3 (556 5.1.10 for a null MX),
 *	3463 (enhanced status codes), 5321 section 4.5.3.1.5 (reply line
 *	length), 5322 section 2.1.1 (header line length), 8460 section 3
 *	(the TLS-RPT rua address shown to senders).
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "action.h"
#include "status.h"
#include "str.h"
#include "text.h"

#define ACTION_DOMAIN_MAX	256		/* a domain, sanitized */

/* action_name - the configuration word of an action */

const char *action_name(int action)
{
    static const char *const names[] = {"accept", "tag", "defer", "reject"};

    return (action >= 0 && action <= ACTION_REJECT ? names[action] : "unknown");
}

/* action_decide - verdict class to configured and effective action */

void    action_decide(const CONF *conf, int verdict, ACTION *act)
{
    int     configured;

    switch (verdict) {
    case VERDICT_ENFORCE_FAIL:
	configured = conf_enum(conf, CONF_ACTION_ENFORCE_FAIL);
	break;
    case VERDICT_TESTING_FAIL:
	configured = conf_enum(conf, CONF_ACTION_TESTING_FAIL);
	break;
    case VERDICT_TEMPORARY:
	configured = conf_enum(conf, CONF_ACTION_TEMPORARY);
	break;
    case VERDICT_NULL_MX:
	configured = conf_enum(conf, CONF_ACTION_NULL_MX);
	break;
    case VERDICT_OK:
    case VERDICT_NONE:
    case VERDICT_NO_POLICY:
	configured = ACTION_ACCEPT;
	break;
    default:					/* ACTION_INTERNAL_ERROR */
	configured = conf_enum(conf, CONF_ACTION_INTERNAL_ERROR);
	verdict = ACTION_INTERNAL_ERROR;
	break;
    }
    act->verdict = verdict;
    act->configured = configured;
    act->action = configured;
    act->monitor = 0;
    /* Rollout: log and tag what would be refused, refuse nothing. */
    if (conf_bool(conf, CONF_MONITOR_MODE)
	&& (configured == ACTION_DEFER || configured == ACTION_REJECT)) {
	act->action = ACTION_TAG;
	act->monitor = 1;
    }
    act->tag = (act->action == ACTION_TAG);
}

/* action_codes - reply code and enhanced status code */

static void action_codes(const ACTION *act, ACTION_REPLY *reply)
{
    const char *code;
    const char *dsn;
    int     defer = (act->action == ACTION_DEFER);

    switch (act->verdict) {
    case VERDICT_NULL_MX:
	/* RFC 7505 section 4.3: 556 5.1.10 for a null MX domain. */
	code = defer ? "450" : "556";
	dsn = defer ? "4.1.10" : "5.1.10";
	break;
    case VERDICT_TEMPORARY:
	/* RFC 3463 section 3.5: X.4.3 directory server (DNS) failure. */
	code = defer ? "451" : "550";
	dsn = defer ? "4.4.3" : "5.4.3";
	break;
    case ACTION_INTERNAL_ERROR:
	/* RFC 3463 section 3.4: X.3.0 other mail system status. */
	code = defer ? "451" : "554";
	dsn = defer ? "4.3.0" : "5.3.0";
	break;
    default:
	/*
	 * RFC 3463 section 3.8: X.7.5 cryptographic failure. RFC 8461
	 * section 5.1 makes a policy failure a temporary condition for the
	 * sending MTA, hence the 4xx default; 5xx only when configured.
	 */
	code = defer ? "450" : "550";
	dsn = defer ? "4.7.5" : "5.7.5";
	break;
    }
    (void) str_copy(reply->code, sizeof(reply->code), code);
    (void) str_copy(reply->dsn, sizeof(reply->dsn), dsn);
}

/* action_fit - append s to dst, truncating it with "..." to fit max */

static void action_fit(char *dst, size_t max, const char *s)
{
    size_t  used = strlen(dst);
    size_t  len = strlen(s);
    size_t  room;

    if (used + len <= max) {
	(void) str_append(dst, max + 1, s);
	return;
    }
    if (used + 3 > max)
	return;
    room = max - used - 3;
    if (room > len)
	room = len;
    memcpy(dst + used, s, room);
    memcpy(dst + used + room, "...", 4);
}

int     action_reply(const ACTION *act, const ANSWER *v, const char *domain,
		             const char *rcpt, ACTION_REPLY *reply)
{
    char    who[ACTION_RCPT_MAX + 8];
    char    dom[ACTION_DOMAIN_MAX];
    char    addr[ACTION_RCPT_MAX + 1];
    char    tail[320];
    const char *expl;
    const char *uri;
    size_t  max;
    size_t  n;
    int     ret = -1;

    memset(reply, 0, sizeof(*reply));
    if (act->action != ACTION_DEFER && act->action != ACTION_REJECT)
	goto out;
    action_codes(act, reply);
    /* "CODE DSN TEXT" fits ACTION_LINE_MAX. */
    max = ACTION_LINE_MAX - strlen(reply->code) - 1 - strlen(reply->dsn) - 1;

    (void) text_sanitize(dom, sizeof(dom), domain ? domain : v ? v->domain : "");
    who[0] = 0;
    if (rcpt && *rcpt) {
	n = strlen(rcpt);
	if (rcpt[0] == '<' && n >= 2 && rcpt[n - 1] == '>') {
	    rcpt++;
	    n -= 2;
	}
	if (n > ACTION_RCPT_MAX)
	    n = ACTION_RCPT_MAX;
	(void) text_sanitize_len(addr, n + 1, rcpt, n);
	if (addr[0])
	    (void) snprintf(who, sizeof(who), "<%s>: ", addr);
    }
    expl = (v && v->explanation[0]) ? v->explanation : "";
    uri = v ? v->tlsrpt_uri : "";

    (void) str_copy(reply->text, max + 1, who);
    switch (act->verdict) {
    case VERDICT_NULL_MX:
	if (*expl)
	    action_fit(reply->text, max, expl);
	else {
	    (void) snprintf(tail, sizeof(tail), "%s accepts no mail (null MX, RFC 7505)", dom);
	    action_fit(reply->text, max, tail);
	}
	break;
    case VERDICT_TEMPORARY:
	(void) snprintf(tail, sizeof(tail), "the TLS route to %s could not be checked: ", dom);
	action_fit(reply->text, max, tail);
	/* Keep the advice: shorten the explanation, not the end. */
	action_fit(reply->text, max - strlen("; try again later"), *expl ? expl : "no detail");
	action_fit(reply->text, max, "; try again later");
	break;
    case ACTION_INTERNAL_ERROR:
	(void) snprintf(tail, sizeof(tail), "the TLS route to %s could not be checked"
			" (internal error); try again later", dom);
	action_fit(reply->text, max, tail);
	break;
    default:
	(void) snprintf(tail, sizeof(tail), "mail to %s cannot be delivered securely: ", dom);
	action_fit(reply->text, max, tail);
	if (uri[0])
	    (void) snprintf(tail, sizeof(tail), "; contact the recipient another way"
			    " (the domain receives TLS reports at %s)", uri);
	else
	    (void) snprintf(tail, sizeof(tail), "; contact the recipient another way");
	/* The TLS-RPT address is the first thing to go when space is short. */
	if (strlen(reply->text) + strlen(expl) + strlen(tail) > max)
	    (void) snprintf(tail, sizeof(tail), "; contact the recipient another way");
	action_fit(reply->text, max - strlen(tail), *expl ? expl : "no detail");
	action_fit(reply->text, max, tail);
	break;
    }
    ret = 0;

out:
    return (ret);
}

/* action_tag_add - one entry per domain in the tag header value */

int     action_tag_add(char *header, size_t size, const ACTION *act, const ANSWER *v,
		               const char *domain)
{
    char    entry[ACTION_TAG_MAX];
    char    dom[ACTION_DOMAIN_MAX];
    const char *p;
    size_t  len;
    size_t  cap;
    int     ret = -1;

    if (size > ACTION_TAG_MAX + 1)
	size = ACTION_TAG_MAX + 1;
    cap = size - 1;
    (void) text_sanitize(dom, sizeof(dom), domain ? domain : v ? v->domain : "");
    len = strlen(dom);
    /*
     * Once per domain: "DOM " at the start of an entry, i.e. of the value
     * or after "; ". Entry starts are visited one by one: a search for
     * the domain itself missed overlapping occurrences and never advanced
     * for an empty domain (both found by fuzz_action).
     */
    for (p = header; p != 0; p = (p = strstr(p, "; ")) != 0 ? p + 2 : 0) {
	if (strncmp(p, dom, len) == 0 && p[len] == ' ') {
	    ret = 0;
	    goto out;
	}
    }
    (void) snprintf(entry, sizeof(entry), "%s%s %s (%s)%s%s", header[0] ? "; " : "", dom,
		    v && v->verdict != ACTION_INTERNAL_ERROR ? verdict_name(v->verdict) : "internal-error",
		    v && v->reasons[0] ? v->reasons : "-",
		    act->monitor ? " would-" : "", act->monitor ? action_name(act->configured) : "");
    len = strlen(header);
    if (len >= 3 && strcmp(header + len - 3, "...") == 0)
	goto out;				/* already full */
    /* Keep room for "; ..." (as a sum: cap - 5 wraps for tiny buffers). */
    if (len + strlen(entry) + 5 > cap) {
	if (len + 5 <= cap)
	    (void) str_append(header, size, header[0] ? "; ..." : "...");
	goto out;
    }
    (void) str_append(header, size, entry);
    ret = 1;

out:
    return (ret);
}

/* action_cidr_match - addr in "a.b.c.d[/n]" or "[v6]/n" */

static int action_cidr_match(const char *cidr, int family, const unsigned char *addr)
{
    char    buf[INET6_ADDRSTRLEN + 8];
    unsigned char net[sizeof(struct in6_addr)];
    char   *slash;
    char   *host = buf;
    long    len;
    int     bits;
    int     i;
    size_t  n;

    if (str_copy(buf, sizeof(buf), cidr) < 0)
	return (0);
    if ((slash = strchr(buf, '/')) != 0)
	*slash++ = 0;
    if (*host == '[') {
	n = strlen(host);
	if (n < 3 || host[n - 1] != ']')
	    return (0);
	host[n - 1] = 0;
	host++;
    }
    if (inet_pton(family, host, net) != 1)
	return (0);				/* other family */
    bits = (family == AF_INET) ? 32 : 128;
    len = bits;
    if (slash && str_to_long(slash, 0, bits, &len) < 0)
	return (0);
    for (i = 0; i < len; i++)
	if ((addr[i / 8] ^ net[i / 8]) & (0x80 >> (i % 8)))
	    return (0);
    return (1);
}

int     action_scope_client(const CONF *conf, int authenticated, const struct sockaddr *sa)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const char *const *act_on;
    const char *const *nets;
    const unsigned char *addr = 0;
    int     family = 0;
    int     count;
    int     nnets;
    int     i, j;

    if (sa && sa->sa_family == AF_INET) {
	family = AF_INET;
	addr = (const unsigned char *) &((const struct sockaddr_in *) sa)->sin_addr;
    } else if (sa && sa->sa_family == AF_INET6) {
	family = AF_INET6;
	addr = (const unsigned char *) &((const struct sockaddr_in6 *) sa)->sin6_addr;
	if (memcmp(addr, mapped, sizeof(mapped)) == 0) {
	    family = AF_INET;
	    addr += 12;
	}
    }
    act_on = conf_list(conf, CONF_ACT_ON, &count);
    for (i = 0; i < count; i++) {
	if (strcmp(act_on[i], "all") == 0)
	    return (1);
	if (strcmp(act_on[i], "authenticated") == 0 && authenticated)
	    return (1);
	if (strcmp(act_on[i], "mynetworks") == 0 && addr) {
	    nets = conf_list(conf, CONF_MYNETWORKS, &nnets);
	    for (j = 0; j < nnets; j++)
		if (action_cidr_match(nets[j], family, addr))
		    return (1);
	}
    }
    return (0);
}

/* action_domain_listed - domain matches an entry of a domain list */

static int action_domain_listed(const CONF *conf, int id, const char *domain)
{
    const char *const *list;
    size_t  dlen = strlen(domain);
    size_t  elen;
    int     count;
    int     i;

    list = conf_list(conf, id, &count);
    for (i = 0; i < count; i++) {
	elen = strlen(list[i]);
	if (elen && list[i][elen - 1] == '.')
	    elen--;				/* trailing dot */
	if (list[i][0] == '.') {
	    /* ".example.com": subdomains only. */
	    if (dlen > elen && strncasecmp(domain + dlen - elen, list[i], elen) == 0)
		return (1);
	} else if (dlen == elen && strncasecmp(domain, list[i], elen) == 0) {
	    return (1);
	}
    }
    return (0);
}

int     action_scope_domain(const CONF *conf, const char *domain)
{
    return (!action_domain_listed(conf, CONF_LOCAL_DOMAINS, domain)
	    && !action_domain_listed(conf, CONF_SKIP_DOMAINS, domain));
}
