/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	socketmap 3
 * SUMMARY
 *	Postfix TLS policy socketmap: request keys and replies
 * DESCRIPTION
 *	See socketmap.h. Implements socketmap_table(5) requests and the
 *	smtp_tls_policy_maps reply syntax of postconf(5) for RFC 8461
 *	(MTA-STS) and RFC 7672 (DANE) verdicts, with the RFC 8460 (TLS-RPT)
 *	policy attributes of Postfix 3.10's TLSRPT_README.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "policy.h"
#include "socketmap.h"
#include "status.h"
#include "str.h"
#include "why.h"

/* socketmap_status_name - reply word */

const char *socketmap_status_name(int status)
{
    switch (status) {
    case SOCKETMAP_OK:
	return ("OK");
    case SOCKETMAP_NOTFOUND:
	return ("NOTFOUND");
    case SOCKETMAP_TEMP:
	return ("TEMP");
    default:
	return ("PERM");
    }
}

/* socketmap_request - "NAME KEY" (socketmap_table(5)) */

int     socketmap_request(const char *req, size_t len, char *name, size_t nsize,
			          char *key, size_t ksize, WHY *why)
{
    const char *sp;
    size_t  nlen;
    size_t  klen;
    size_t  i;
    int     ret = STATUS_INVAL;

    name[0] = 0;
    key[0] = 0;
    for (i = 0; i < len; i++) {
	if ((unsigned char) req[i] < 0x20 || req[i] == 0x7f) {
	    why_set(why, "control character in request");
	    goto out;
	}
    }
    if ((sp = memchr(req, ' ', len)) == 0) {
	why_set(why, "request has no space between map name and key");
	goto out;
    }
    nlen = (size_t) (sp - req);
    klen = len - nlen - 1;
    if (nlen == 0 || klen == 0) {
	why_set(why, "empty map name or key");
	goto out;
    }
    if (nlen >= nsize || nlen > SOCKETMAP_NAME_MAX || klen >= ksize || klen > SOCKETMAP_KEY_MAX) {
	why_set(why, "map name or key too long");
	goto out;
    }
    memcpy(name, req, nlen);
    name[nlen] = 0;
    memcpy(key, sp + 1, klen);
    key[klen] = 0;
    ret = STATUS_OK;

out:
    return (ret);
}

/*
 * socketmap_service - a service name as Postfix's next-hop syntax allows
 * it in place of a port ("[example.com]:submission", "example.com:smtp";
 * postconf(5), transport(5)). The port never changes the answer, so the
 * name is checked for its syntax, RFC 6335 section 5.1: 1 to 15
 * characters, letters, digits and hyphens, at least one letter, no
 * hyphen at either end and no two hyphens in a row. No getservbyname():
 * the answer must not depend on /etc/services.
 */
static int socketmap_service(const char *s)
{
    size_t  len = strlen(s);
    int     letter = 0;
    size_t  i;

    if (len < 1 || len > 15 || s[0] == '-' || s[len - 1] == '-')
	return (-1);
    for (i = 0; i < len; i++) {
	if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
	    letter = 1;
	else if (s[i] == '-') {
	    if (s[i + 1] == '-')
		return (-1);
	} else if (s[i] < '0' || s[i] > '9')
	    return (-1);
    }
    return (letter ? 0 : -1);
}

/* socketmap_port - ":PORT" or ":SERVICE" after a host, or nothing */

static int socketmap_port(const char *s)
{
    long    port;

    if (*s == 0)
	return (0);
    if (*s != ':')
	return (-1);
    if (s[1] >= '0' && s[1] <= '9')
	return (str_to_long(s + 1, 1, 65535, &port) < 0 ? -1 : 0);
    return (socketmap_service(s + 1));
}

/* socketmap_key - smtp(8) lookup key to the domain to check */

int     socketmap_key(const char *key, char *domain, size_t size, WHY *why)
{
    char    host[SOCKETMAP_KEY_MAX + 1];
    unsigned char addr[sizeof(struct in6_addr)];
    const char *end;
    const char *colon;
    size_t  hlen;
    int     ret = STATUS_INVAL;

    domain[0] = 0;
    if (strlen(key) > SOCKETMAP_KEY_MAX) {
	why_set(why, "key too long");
	goto out;
    }

    /*
     * RFC 8461 section 3.4: a policy covers its own domain only. Postfix
     * asks ".example.com" for parent-domain matches; never answer it.
     */
    if (key[0] == '.') {
	why_set(why, "parent-domain lookup (RFC 8461 section 3.4)");
	ret = STATUS_NOTFOUND;
	goto out;
    }
    if (key[0] == '[') {
	/* "[host]" or "[host]:port": a nexthop without MX lookup. */
	if ((end = strchr(key, ']')) == 0 || socketmap_port(end + 1) < 0) {
	    why_set(why, "malformed [host]:port");
	    goto out;
	}
	hlen = (size_t) (end - key - 1);
	memcpy(host, key + 1, hlen);
	host[hlen] = 0;
    } else if ((colon = strchr(key, ':')) != 0 && strchr(colon + 1, ':') != 0) {
	/* Two colons: an IPv6 address, not a domain with a port. */
	why_set(why, "address literal");
	ret = STATUS_NOTFOUND;
	goto out;
    } else {
	if (colon && socketmap_port(colon) < 0) {
	    why_set(why, "malformed host:port");
	    goto out;
	}
	hlen = colon ? (size_t) (colon - key) : strlen(key);
	memcpy(host, key, hlen);
	host[hlen] = 0;
    }
    if (strncasecmp(host, "ipv6:", 5) == 0 || inet_pton(AF_INET, host, addr) == 1
	|| inet_pton(AF_INET6, host, addr) == 1) {
	why_set(why, "address literal");
	ret = STATUS_NOTFOUND;
	goto out;
    }
    if (host[0] == '.') {
	why_set(why, "parent-domain lookup (RFC 8461 section 3.4)");
	ret = STATUS_NOTFOUND;
	goto out;
    }
    ret = domain_normalize(host, domain, size, why);
    if (ret != STATUS_OK)
	ret = STATUS_INVAL;

out:
    if (ret != STATUS_OK && size > 0)
	domain[0] = 0;
    return (ret);
}

/* socketmap_pattern_ok - a pattern Postfix's match= syntax can carry */

static int socketmap_pattern_ok(const char *p)
{
    if (*p == 0)
	return (0);
    for (; *p; p++) {
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')
	      || *p == '.' || *p == '-' || *p == '*' || *p == '_'))
	    return (0);
    }
    return (1);
}

/* socketmap_secure - "OK secure match=... servername=hostname" */

static int socketmap_secure(const VERDICT *v, char *out, size_t size, int *flags)
{
    int     written = 0;
    int     i;

    /* Every pattern, in policy order: Postfix matches any of them. */
    (void) str_copy(out, size, "OK secure match=");
    for (i = 0; i < v->policy_mx_count; i++) {
	const char *p = v->policy_mx[i];

	if (!socketmap_pattern_ok(p)) {
	    *flags |= SOCKETMAP_TRUNCATED;
	    continue;
	}
	/* RFC 8461 section 4.1 "*.example.com" is Postfix's ".example.com". */
	if (p[0] == '*' && p[1] == '.')
	    p++;
	if (strchr(p, '*') != 0) {
	    *flags |= SOCKETMAP_TRUNCATED;
	    continue;
	}
	if (str_appendf(out, size, "%s%s", written ? ":" : "", p) < 0)
	    return (-1);
	written++;
    }
    if (written == 0)
	return (-1);
    if (str_append(out, size, " servername=hostname") < 0)
	return (-1);
    return (0);
}

/* socketmap_name_tlsrpt - does this map name ask for the TLS-RPT attributes? */

int     socketmap_name_tlsrpt(const char *name)
{
    size_t  len = strlen(name);
    size_t  tail = sizeof(SOCKETMAP_TLSRPT_SUFFIX) - 1;

    /*
     * postfix-tlspol's map name "QUERYwithTLSRPT", and any other name that
     * ends in "tlsrpt" ("postfix-tlsrpt"), in any case.
     */
    return (len >= tail && strcasecmp(name + len - tail, SOCKETMAP_TLSRPT_SUFFIX) == 0);
}

/*
 * socketmap_tlsrpt - append the TLS-RPT attributes of an MTA-STS policy
 * to a "secure" reply, as Postfix 3.10's TLSRPT_README ("MTA-STS Support
 * via smtp_tls_policy_maps") lists them: policy_type=sts,
 * policy_domain=, one mx_host_pattern= per "mx:" line, and one
 * "{ policy_string = LINE }" per policy line (RFC 8460 section 4.4: the
 * policy-string is the applied policy, one string per line). The lines
 * are those of the policy as the engine applies it (RFC 8461 section
 * 3.2 field order: version, mode, each mx, max_age); fields that RFC
 * 8461 section 3.2 lets a sender ignore (extensions) are not kept by the
 * engine and so not written. Called only when socketmap_secure() kept
 * every pattern (socketmap_pattern_ok(): letters, digits, ".", "-",
 * "_", "*") and v->domain is normalized, so no value holds a blank, a
 * comma or a brace, which Postfix's syntax cannot carry. Returns -1 when the
 * attributes do not fit in limit bytes (with the NUL): the caller then
 * leaves them all out.
 */
static int socketmap_tlsrpt(const VERDICT *v, char *out, size_t limit)
{
    int     i;

    /* TLSRPT_README: "policy_type=type  Specify sts or no-policy-found." */
    if (str_appendf(out, limit, " policy_type=sts policy_domain=%s", v->domain) < 0)
	return (-1);
    for (i = 0; i < v->policy_mx_count; i++)
	if (str_appendf(out, limit, " mx_host_pattern=%s", v->policy_mx[i]) < 0)
	    return (-1);
    /* Whitespace in a value: "{ name = value }" (TLSRPT_README). */
    if (str_appendf(out, limit, " { policy_string = version: STSv1 } { policy_string = mode: %s }",
		    policy_mode_name(v->policy_mode)) < 0)
	return (-1);
    for (i = 0; i < v->policy_mx_count; i++)
	if (str_appendf(out, limit, " { policy_string = mx: %s }", v->policy_mx[i]) < 0)
	    return (-1);
    if (str_appendf(out, limit, " { policy_string = max_age: %ld }", v->policy_max_age) < 0)
	return (-1);
    return (0);
}

/* socketmap_bogus_host - an MX host whose DNSSEC data is bogus */

static int socketmap_bogus_host(const VERDICT *v)
{
    int     i;

    for (i = 0; i < v->host_count; i++)
	if (v->host[i].reason == REASON_DNSSEC_INVALID)
	    return (1);
    return (0);
}

/* socketmap_reply - the TLS policy for one verdict */

int     socketmap_reply(const VERDICT *v, char *out, size_t size, int *flags, const char **basis)
{
    return (socketmap_reply_ext(v, 0, out, size, flags, basis));
}

/* socketmap_reply_ext - the same, with options */

int     socketmap_reply_ext(const VERDICT *v, int opts, char *out, size_t size, int *flags,
			            const char **basis)
{
    const char *why = "";
    size_t  plain;
    size_t  limit;
    int     all_dane = 1;
    int     i;
    int     ret = SOCKETMAP_TEMP;

    *flags = 0;
    if (v == 0) {
	why = "internal error";
	(void) snprintf(out, size, "TEMP internal error");
	goto out;
    }

    /* RFC 7505: a null MX accepts no mail; Postfix bounces by itself. */
    if (v->verdict == VERDICT_NULL_MX) {
	why = "null MX";
	ret = SOCKETMAP_NOTFOUND;
	goto out;
    }

    /*
     * RFC 7672 section 2.1.1: bogus DNSSEC data is never a downgrade, and
     * never an answer either: a bogus MX or TLSA RRset that leaves the
     * verdict undecided is TEMP, also when other hosts have usable TLSA
     * records (the verdict says temporary; so does the reply).
     */
    if (v->reason == REASON_DNSSEC_INVALID
	|| (v->verdict == VERDICT_TEMPORARY && socketmap_bogus_host(v))) {
	why = "DNSSEC-bogus data, RFC 7672 section 2.1.1";
	(void) snprintf(out, size, "TEMP %s: DNSSEC validation failed", v->domain);
	goto out;
    }

    /*
     * RFC 8461 section 2: DANE first. RFC 7672 section 2.2: hosts with
     * usable TLSA records need DANE authentication, the others are
     * reached opportunistically: "dane-only" only when every host has
     * them, else Postfix's per-host "dane".
     */
    if (v->dane) {
	for (i = 0; i < v->host_count; i++)
	    if (!v->host[i].dane)
		all_dane = 0;
	all_dane = all_dane && v->host_count > 0;
	why = all_dane ? "DANE TLSA records for every MX host" : "DANE TLSA records for some MX hosts";
	(void) snprintf(out, size, "OK %s", all_dane ? "dane-only" : "dane");
	ret = SOCKETMAP_OK;
	goto out;
    }

    /*
     * RFC 8461 section 4.1 and 5: an enforce policy (fresh or cached)
     * decides, whatever the probes found; Postfix checks the
     * certificate against the same patterns at delivery.
     */
    if (v->has_policy && v->policy_mode == POLICY_MODE_ENFORCE) {
	if (socketmap_secure(v, out, size, flags) < 0) {
	    why = "policy not expressible";
	    (void) snprintf(out, size, "TEMP %s: policy cannot be written as a Postfix TLS policy",
			    v->domain);
	    goto out;
	}
	why = v->policy_cached ? "cached MTA-STS policy, mode enforce" : "MTA-STS policy, mode enforce";
	ret = SOCKETMAP_OK;

	/*
	 * TLS-RPT attributes (Postfix 3.10 TLSRPT_README), when asked for:
	 * all or none. A policy that lost a pattern above is not the
	 * policy, and a reply over Postfix's limit fails the lookup
	 * (dict_sockmap.c: a netstring over dict_sockmap_max_reply is an
	 * error, the mail is deferred): then the plain reply.
	 */
	if (opts & SOCKETMAP_WANT_TLSRPT) {
	    plain = strlen(out);
	    /* At most SOCKETMAP_REPLY_MAX - 1 bytes: every reply buffer holds it. */
	    limit = size < SOCKETMAP_REPLY_MAX ? size : SOCKETMAP_REPLY_MAX;
	    if ((*flags & SOCKETMAP_TRUNCATED) || socketmap_tlsrpt(v, out, limit) < 0) {
		out[plain] = 0;
		*flags |= SOCKETMAP_TLSRPT_OMITTED;
	    }
	}
	goto out;
    }

    /* RFC 8461 section 5: testing and none never block delivery. */
    if (v->has_policy) {
	why = v->policy_mode == POLICY_MODE_TESTING ? "MTA-STS policy, mode testing" : "MTA-STS policy, mode none";
	ret = SOCKETMAP_NOTFOUND;
	goto out;
    }
    if (v->verdict == VERDICT_TEMPORARY) {
	switch (v->reason) {
	case REASON_STS_FETCH_ERROR:
	case REASON_STS_POLICY_INVALID:
	case REASON_STS_WEBPKI_INVALID:

	    /*
	     * RFC 8461 section 5: a TXT record but no policy to be had and
	     * none cached: deliver as though the domain had no MTA-STS.
	     */
	    why = "MTA-STS policy unavailable, none cached, RFC 8461 section 5";
	    ret = SOCKETMAP_NOTFOUND;
	    goto out;
	default:
	    why = "check not finished";
	    (void) snprintf(out, size, "TEMP %s: check not finished (%s)", v->domain,
			    v->reason != REASON_NONE ? verdict_reason_label(v->reason) : "timeout");
	    goto out;
	}
    }
    why = "no MTA-STS policy, no DANE";
    ret = SOCKETMAP_NOTFOUND;

out:
    if (ret == SOCKETMAP_NOTFOUND)
	(void) str_copy(out, size, "NOTFOUND ");
    if (basis)
	*basis = why;
    return (ret);
}
