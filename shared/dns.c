/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	dns 3
 * SUMMARY
 *	DNS lookups with DNSSEC status through libunbound
 * SYNOPSIS
 *	See dns.h.
 * DESCRIPTION
 *	With dns_query.c, the only module that includes unbound.h.
 *
 *	Threads. One ub_ctx per DNS handle, in libunbound's threaded mode
 *	(ub_ctx_async(ctx, 1)): libunbound resolves in its own background
 *	thread. dns_create() starts one pump thread that poll()s ub_fd()
 *	and a self-pipe, and calls ub_process(), which runs our callback
 *	for each finished query. Lookup functions run in the callers'
 *	threads: they start queries with ub_resolve_async() and wait on
 *	the query's condition variable until the callback has filled it
 *	or the deadline passes. Several queries of one lookup (A and AAAA;
 *	the two TLSA names) run in parallel under one deadline.
 *
 *	Timeouts and cancellation. A query (DNS_QUERY) is reference-
 *	counted: one reference for the waiting caller, one for the
 *	callback. On timeout the caller marks the query abandoned under
 *	its lock and calls ub_cancel(). In threaded mode ub_cancel()
 *	returns UB_NOERROR only when it found the query before the answer
 *	was taken off libunbound's list, in which case libunbound will
 *	never call the callback; the caller then drops the callback's
 *	reference too. Otherwise (UB_NOID) the callback has run or is about
 *	to run; it sees the abandoned flag, frees the result and drops its
 *	own reference. Whoever drops the last reference frees the query,
 *	so there is neither a leak nor a use after free.
 *
 *	dns_free() must not be called while a lookup is in progress. It
 *	wakes the pump through the self-pipe, joins it, and deletes the
 *	context (which stops libunbound's thread).
 *
 *	Configuration (dns_create()): forwarders with ub_ctx_set_fwd() (none:
 *	/etc/resolv.conf with ub_ctx_resolvconf()), stub zones with
 *	ub_ctx_set_stub(), the trust anchor file with ub_ctx_add_ta_file()
 *	(none: /usr/share/dns/root.key when readable), and the options
 *	"name: value" through a generated unbound.conf "server:" clause
 *	read with ub_ctx_config(), not ub_ctx_set_option(): with libunbound
 *	1.17 the latter accepts `local-zone: "test." nodefault` but ignores
 *	it (see dns_option_file()). A rejected option is named in the
 *	error.
 *	The context is finalized at once so that a bad trust anchor file
 *	is reported by dns_create(), not by the first lookup.
 *
 *	Results (RFC 4035 section 4.3 security states, as libunbound
 *	reports them): bogus -> STATUS_RETRY with info.security DNS_BOGUS
 *	and unbound's why_bogus text (RFC 7672 section 2.1.1: BOGUS is a
 *	temporary failure, never data); NXDOMAIN and NODATA ->
 *	STATUS_NOTFOUND; SERVFAIL, other rcodes, library errors and
 *	timeouts -> STATUS_RETRY.
 *
 *	RDATA is parsed by dns_rr.c with bounds checks (libunbound hands
 *	over uncompressed RDATA), names are checked there too (RFC 1035
 *	section 2.3.4); see dns_rr.h.
 *
 *	Files: dns.c (configuration, the lookups' logic), dns_query.c (the
 *	queries, threads and deadlines above), dns_rr.c (pure: names and
 *	RDATA to results, fuzzed by tests/fuzz/fuzz_dns.c).
 *
 *	dns_tlsa() implements the CNAME rule of RFC 7672 section 2.2.3:
 *	it looks up TLSA at _port._tcp.HOST and, in parallel, A for HOST
 *	to learn whether HOST is an alias. When it is, and the CNAME chain
 *	validated as secure, TLSA is looked up at _port._tcp.EXPANDED
 *	first: records there win (info.cname is then EXPANDED, which is
 *	also the TLSA base domain), a temporary failure there is a
 *	temporary failure, and only a denial of existence falls back to
 *	the original name's answer. An insecure chain uses the original
 *	name only.
 *
 *	Memory: every result is allocated here and freed by the matching
 *	dns_*_free(), which takes a pointer to the pointer and sets it to
 *	null. Nothing on any lookup path exits or aborts.
 * SEE ALSO
 *	RFC 1035 (DNS), RFC 4033-4035 (DNSSEC), RFC 5321 section 5.1
 *	(implicit MX), RFC 7505 (null MX), RFC 6698 and RFC 7672 (TLSA, DANE
 *	for SMTP), RFC 8461 section 3.1 (TXT), libunbound(3).
 */


#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <unbound.h>

#include "dns.h"
#include "dns_query.h"
#include "dns_rr.h"
#include "log.h"
#include "status.h"
#include "str.h"
#include "text.h"

#define DNS_OPTION_MAX	1024		/* one "name: value" option */
#define DNS_ROOT_KEY	"/usr/share/dns/root.key"

/* dns_option_check - "name: value" with a sane name and no line breaks */

static int dns_option_check(const char *option, WHY *why)
{
    char    safe[DNS_OPTION_MAX];
    const char *p;
    size_t  n;
    int     result = STATUS_INVAL;

    (void) text_sanitize(safe, sizeof(safe), option ? option : "");
    if (option == 0 || strnlen(option, DNS_OPTION_MAX) >= DNS_OPTION_MAX) {
	why_set(why, "resolver option \"%s\": too long", safe);
	goto out;
    }
    for (p = option; *p; p++) {
	if ((unsigned char) *p < 0x20 && *p != '\t') {
	    why_set(why, "resolver option \"%s\": control character", safe);
	    goto out;
	}
    }
    p = option + strspn(option, " \t");
    n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
    if (n == 0 || p[n] != ':') {
	why_set(why, "resolver option \"%s\": expected \"name: value\"", safe);
	goto out;
    }
    result = STATUS_OK;
out:
    return (result);
}

 /*
  * dns_option_file - apply options through a generated unbound.conf
  * fragment (a "server:" clause, one option a line) with ub_ctx_config().
  * ub_ctx_set_option() is not used: in libunbound 1.17 it keeps the
  * quotes of a quoted value and silently ignores `local-zone: "x."
  * nodefault` (cfg_parse_local_zone() stores the whole value as the zone
  * name), while the config file parser has exactly unbound.conf(5)
  * semantics.
  */
static int dns_option_file(struct ub_ctx *ctx, const char *const *option,
			           int count)
{
    char    path[4096];
    const char *tmp = getenv("TMPDIR");
    FILE   *fp = 0;
    int     fd;
    int     i;
    int     result = -1;

    if (tmp == 0 || *tmp != '/' || strlen(tmp) > 1024)
	tmp = "/tmp";
    (void) snprintf(path, sizeof(path), "%s/stsfilter-unbound-XXXXXX", tmp);
    if ((fd = mkstemp(path)) < 0)
	goto out;
    if ((fp = fdopen(fd, "w")) == 0) {
	(void) close(fd);
	goto unlink;
    }
    (void) fprintf(fp, "server:\n");
    for (i = 0; i < count; i++)
	(void) fprintf(fp, "\t%s\n", option[i] + strspn(option[i], " \t"));
    if (ferror(fp)) {
	(void) fclose(fp);
	goto unlink;
    }
    if (fclose(fp) != 0)
	goto unlink;
    if (ub_ctx_config(ctx, path) == 0)
	result = 0;
unlink:
    (void) unlink(path);
out:
    return (result);
}

/* dns_options - apply the "name: value" options, naming a bad one */

static int dns_options(struct ub_ctx *ctx, const DNS_OPTS *opts, WHY *why)
{
    struct ub_ctx *probe;
    char    safe[DNS_OPTION_MAX];
    int     i;
    int     result = STATUS_INVAL;

    if (opts->option_count <= 0) {
	result = STATUS_OK;
	goto out;
    }
    for (i = 0; i < opts->option_count; i++)
	if ((result = dns_option_check(opts->options[i], why)) != STATUS_OK)
	    goto out;
    result = STATUS_INVAL;
    if (dns_option_file(ctx, opts->options, opts->option_count) == 0) {
	result = STATUS_OK;
	goto out;
    }
    /* Find the option that libunbound rejects, on a scratch context. */
    for (i = 0; i < opts->option_count; i++) {
	if ((probe = ub_ctx_create()) == 0)
	    break;
	if (dns_option_file(probe, opts->options + i, 1) != 0) {
	    ub_ctx_delete(probe);
	    (void) text_sanitize(safe, sizeof(safe), opts->options[i]);
	    why_set(why, "resolver option \"%s\": rejected by libunbound", safe);
	    goto out;
	}
	ub_ctx_delete(probe);
    }
    why_set(why, "libunbound rejects the resolver options (or cannot read "
	    "the generated configuration file)");
out:
    return (result);
}

/* dns_stub - apply one "zone=IP[@port]" stub zone */

static int dns_stub(struct ub_ctx *ctx, const char *stub, WHY *why)
{
    char    buf[DNS_OPTION_MAX];
    char    safe[DNS_OPTION_MAX];
    char   *eq;
    char   *zone;
    char   *addr;
    int     rc;
    int     result = STATUS_INVAL;

    (void) text_sanitize(safe, sizeof(safe), stub ? stub : "");
    if (stub == 0 || str_copy(buf, sizeof(buf), stub) != 0
	|| (eq = strchr(buf, '=')) == 0) {
	why_set(why, "stub zone \"%s\": expected \"zone=address\"", safe);
	goto out;
    }
    *eq = 0;
    zone = str_trim(buf);
    addr = str_trim(eq + 1);
    if (*zone == 0 || *addr == 0) {
	why_set(why, "stub zone \"%s\": expected \"zone=address\"", safe);
	goto out;
    }
    if ((rc = ub_ctx_set_stub(ctx, zone, addr, 0)) != 0) {
	why_set(why, "stub zone \"%s\": %s", safe, ub_strerror(rc));
	goto out;
    }
    result = STATUS_OK;
out:
    return (result);
}

/* dns_create - build a validating resolver and start its pump */

int     dns_create(const DNS_OPTS *opts, DNS **dnsp, WHY *why)
{
    static const DNS_OPTS none;
    DNS    *dns = 0;
    const char *anchors;
    char    safe[DNS_OPTION_MAX];
    sigset_t all;
    sigset_t old;
    int     rc;
    int     i;
    int     result = STATUS_FAIL;

    if (dnsp == 0) {
	why_set(why, "dns_create: null handle pointer");
	result = STATUS_INVAL;
	goto out;
    }
    *dnsp = 0;
    if (opts == 0)
	opts = &none;
    if ((dns = calloc(1, sizeof(*dns))) == 0) {
	why_set(why, "out of memory");
	goto out;
    }
    dns->wake[0] = dns->wake[1] = -1;
    if ((dns->ctx = ub_ctx_create()) == 0) {
	why_set(why, "cannot create the libunbound context");
	goto out;
    }
    if ((rc = ub_ctx_async(dns->ctx, 1)) != 0) {
	why_set(why, "libunbound threads: %s", ub_strerror(rc));
	goto out;
    }
    /* Options first: later calls (forwarders, anchors) add to them. */
    if ((result = dns_options(dns->ctx, opts, why)) != STATUS_OK)
	goto out;
    result = STATUS_INVAL;
    for (i = 0; i < opts->forwarder_count; i++) {
	if (opts->forwarders[i] == 0
	    || (rc = ub_ctx_set_fwd(dns->ctx, opts->forwarders[i])) != 0) {
	    (void) text_sanitize(safe, sizeof(safe),
				 opts->forwarders[i] ? opts->forwarders[i] : "");
	    why_set(why, "DNS forwarder \"%s\": %s", safe,
		    opts->forwarders[i] ? ub_strerror(rc) : "empty");
	    goto out;
	}
    }
    if (opts->forwarder_count <= 0
	&& (rc = ub_ctx_resolvconf(dns->ctx, 0)) != 0) {
	why_set(why, "cannot use the resolvers in /etc/resolv.conf: %s",
		ub_strerror(rc));
	result = STATUS_FAIL;
	goto out;
    }
    for (i = 0; i < opts->stub_zone_count; i++) {
	if ((result = dns_stub(dns->ctx, opts->stub_zones[i], why)) != STATUS_OK)
	    goto out;
    }
    result = STATUS_INVAL;
    anchors = opts->trust_anchor_file;
    if (anchors == 0 || *anchors == 0)
	anchors = access(DNS_ROOT_KEY, R_OK) == 0 ? DNS_ROOT_KEY : 0;
    if (anchors == 0) {
	log_warn("no DNSSEC trust anchor file and no %s: every answer is "
		 "insecure, so DANE never applies", DNS_ROOT_KEY);
    } else {
	(void) text_sanitize(safe, sizeof(safe), anchors);
	if (access(anchors, R_OK) != 0) {
	    why_set(why, "trust anchor file %s: %s", safe, strerror(errno));
	    goto out;
	}
	if ((rc = ub_ctx_add_ta_file(dns->ctx, anchors)) != 0) {
	    why_set(why, "trust anchor file %s: %s", safe, ub_strerror(rc));
	    goto out;
	}
    }

    /*
     * Finalize now so that configuration errors (an unparsable anchor
     * file) surface here: ub_ctx_zone_remove() finalizes the context,
     * and removing a zone that cannot exist changes nothing.
     */
    if ((rc = ub_ctx_zone_remove(dns->ctx, "finalize.stsfilter.invalid.")) != 0) {
	why_set(why, "cannot initialize the resolver (check the trust anchor "
		"file and resolver options): %s", ub_strerror(rc));
	goto out;
    }
    result = STATUS_FAIL;
    if (pipe(dns->wake) != 0) {
	dns->wake[0] = dns->wake[1] = -1;
	why_set(why, "pipe: %s", strerror(errno));
	goto out;
    }
    (void) fcntl(dns->wake[0], F_SETFD, FD_CLOEXEC);
    (void) fcntl(dns->wake[1], F_SETFD, FD_CLOEXEC);
    /* Signals go to the application's threads, never to the pump. */
    (void) sigfillset(&all);
    (void) pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&dns->pump, 0, dns_query_pump, dns);
    (void) pthread_sigmask(SIG_SETMASK, &old, 0);
    if (rc != 0) {
	why_set(why, "cannot start the DNS thread: %s", strerror(rc));
	goto out;
    }
    dns->pump_started = 1;
    *dnsp = dns;
    dns = 0;
    result = STATUS_OK;
out:
    if (dns)
	dns_free(&dns);
    return (result);
}

/* dns_free - stop the pump, delete the context */

void    dns_free(DNS **dnsp)
{
    DNS    *dns;
    ssize_t n;

    if (dnsp == 0 || (dns = *dnsp) == 0)
	return;
    if (dns->pump_started) {
	do {
	    n = write(dns->wake[1], "x", 1);
	} while (n < 0 && errno == EINTR);
	(void) pthread_join(dns->pump, 0);
    }
    if (dns->wake[0] >= 0)
	(void) close(dns->wake[0]);
    if (dns->wake[1] >= 0)
	(void) close(dns->wake[1]);
    if (dns->ctx)
	ub_ctx_delete(dns->ctx);
    free(dns);
    *dnsp = 0;
}

/* dns_check_args - common argument checks */

static int dns_check_args(DNS *dns, const char *name, void *out, char *norm,
			          size_t size, WHY *why)
{
    if (dns == 0 || out == 0) {
	why_set(why, "DNS lookup: null argument");
	return (STATUS_INVAL);
    }
    return (dns_rr_name_norm(name, norm, size, why));
}

/* dns_txt_free - free a TXT result */

void    dns_txt_free(DNS_TXT **outp)
{
    DNS_TXT *out;
    int     i;

    if (outp == 0 || (out = *outp) == 0)
	return;
    for (i = 0; out->text && i < out->count; i++)
	free(out->text[i]);
    free(out->text);
    free(out->len);
    free(out);
    *outp = 0;
}

/* dns_txt - TXT RRset, each RR's strings joined (RFC 8461 section 3.1) */

int     dns_txt(DNS *dns, const char *name, int timeout_ms, DNS_TXT **outp,
		        WHY *why)
{
    char    qname[DNS_NAME_MAX + 1];
    DNS_ANSWER ans;
    DNS_RRSET set;
    int     result;

    memset(&ans, 0, sizeof(ans));
    if ((result = dns_check_args(dns, name, outp, qname, sizeof(qname), why)) != STATUS_OK)
	goto out;
    *outp = 0;
    dns_query_lookup(dns, qname, DNS_T_TXT, dns_query_deadline(timeout_ms), &ans, why);
    if ((result = ans.status) != STATUS_OK)
	goto out;
    dns_query_rrset(ans.res, &set);
    result = dns_rr_txt(qname, &set, &ans.info, outp, why);
out:
    /* BOGUS: STATUS_RETRY with an empty result that carries the status. */
    if (result == STATUS_RETRY && ans.info.security == DNS_BOGUS
	&& (*outp = calloc(1, sizeof(**outp))) != 0)
	(*outp)->info = ans.info;
    if (ans.res)
	ub_resolve_free(ans.res);
    return (result);
}

/* dns_addr_free - free an address result */

void    dns_addr_free(DNS_ADDR **outp)
{
    DNS_ADDR *out;

    if (outp == 0 || (out = *outp) == 0)
	return;
    free(out->addr);
    free(out);
    *outp = 0;
}

 /*
  * dns_addr_deadline - A and AAAA in parallel under one deadline. BOGUS on
  * either is a temporary failure (RFC 7672 section 2.1.1). When one type
  * has data and the other failed temporarily, the addresses found are
  * returned (as MTAs do) and the failure is logged.
  */
static int dns_addr_deadline(DNS *dns, const char *qname, long long deadline,
			             DNS_ADDR **outp, WHY *why)
{
    DNS_QUERY *q4;
    DNS_QUERY *q6;
    DNS_ANSWER a4;
    DNS_ANSWER a6;
    WHY     w4;
    WHY     w6;
    DNS_ADDR *out = 0;
    DNS_RRSET set;
    int     result = STATUS_RETRY;

    w4.text[0] = w6.text[0] = 0;
    q4 = dns_query_start(dns, qname, DNS_T_A);
    q6 = dns_query_start(dns, qname, DNS_T_AAAA);
    dns_query_finish(dns, &q4, deadline, &a4, &w4);
    dns_query_finish(dns, &q6, deadline, &a6, &w6);

    if (a4.info.security == DNS_BOGUS || a6.info.security == DNS_BOGUS) {
	why_set(why, "%s: %s", qname, why_text(a4.info.security == DNS_BOGUS ? &w4 : &w6));
	goto out;
    }
    if (a4.status != STATUS_OK && a6.status != STATUS_OK) {
	if (a4.status == STATUS_RETRY || a6.status == STATUS_RETRY) {
	    why_set(why, "%s: %s", qname, why_text(a4.status == STATUS_RETRY ? &w4 : &w6));
	    goto out;
	}
	result = STATUS_NOTFOUND;
	if (a4.nxdomain || a6.nxdomain)
	    why_set(why, "%s: NXDOMAIN", qname);
	else
	    why_set(why, "%s: no A or AAAA record", qname);
	goto out;
    }
    if (a4.status == STATUS_RETRY)
	log_warn("%s: using AAAA records only: %s", qname, why_text(&w4));
    if (a6.status == STATUS_RETRY)
	log_warn("%s: using A records only: %s", qname, why_text(&w6));
    if ((out = calloc(1, sizeof(*out))) == 0
	|| (out->addr = calloc(DNS_LIST_MAX, sizeof(*out->addr))) == 0) {
	why_set(why, "%s: out of memory", qname);
	goto out;
    }
    /* Secure only when every answer that arrived validated. */
    out->info.security = (a4.status != STATUS_RETRY && a4.info.security == DNS_SECURE
		      && a6.status != STATUS_RETRY && a6.info.security == DNS_SECURE)
	? DNS_SECURE : DNS_INSECURE;
    out->info.ttl = a4.status == STATUS_OK ? a4.info.ttl : a6.info.ttl;
    if (a4.status == STATUS_OK && a6.status == STATUS_OK && a6.info.ttl < out->info.ttl)
	out->info.ttl = a6.info.ttl;
    (void) str_copy(out->info.cname, sizeof(out->info.cname),
		    a4.info.cname[0] ? a4.info.cname : a6.info.cname);
    if (a4.status == STATUS_OK) {
	dns_query_rrset(a4.res, &set);
	dns_rr_addr(out, qname, DNS_T_A, &set);
    }
    if (a6.status == STATUS_OK) {
	dns_query_rrset(a6.res, &set);
	dns_rr_addr(out, qname, DNS_T_AAAA, &set);
    }
    if (out->count == 0) {
	why_set(why, "%s: no well-formed A or AAAA record", qname);
	result = STATUS_NOTFOUND;
	goto out;
    }
    *outp = out;
    out = 0;
    result = STATUS_OK;
out:
    dns_addr_free(&out);
    /* BOGUS: STATUS_RETRY with an empty result that carries the status. */
    if (result == STATUS_RETRY && (a4.info.security == DNS_BOGUS
				   || a6.info.security == DNS_BOGUS)
	&& (*outp = calloc(1, sizeof(**outp))) != 0)
	(*outp)->info = a4.info.security == DNS_BOGUS ? a4.info : a6.info;
    if (a4.res)
	ub_resolve_free(a4.res);
    if (a6.res)
	ub_resolve_free(a6.res);
    return (result);
}

/* dns_addr - addresses of a host */

int     dns_addr(DNS *dns, const char *host, int timeout_ms, DNS_ADDR **outp,
		         WHY *why)
{
    char    qname[DNS_NAME_MAX + 1];
    int     result;

    if ((result = dns_check_args(dns, host, outp, qname, sizeof(qname), why)) != STATUS_OK)
	goto out;
    *outp = 0;
    result = dns_addr_deadline(dns, qname, dns_query_deadline(timeout_ms), outp, why);
out:
    return (result);
}

/* dns_mx_free - free an MX result */

void    dns_mx_free(DNS_MX **outp)
{
    DNS_MX *out;

    if (outp == 0 || (out = *outp) == 0)
	return;
    free(out->host);
    free(out);
    *outp = 0;
}

/* dns_mx_implicit - RFC 5321 section 5.1: no MX RRset */

static int dns_mx_implicit(DNS *dns, const char *qname, const DNS_ANSWER *ans,
			           long long deadline, DNS_MX **outp, WHY *why)
{
    DNS_ADDR *addr = 0;
    DNS_MX *out = 0;
    const char *target;
    int     result;

    /*
     * RFC 5321 section 5.1: when the name is an alias, "the resulting
     * domain is processed as if it were the initial domain name".
     */
    target = ans->info.cname[0] ? ans->info.cname : qname;
    result = dns_addr_deadline(dns, target, deadline, &addr, why);
    if (result == STATUS_NOTFOUND) {
	why_set(why, "%s: no MX record and no address record", qname);
	goto out;
    }
    if (result != STATUS_OK)
	goto out;
    result = STATUS_RETRY;
    if ((out = calloc(1, sizeof(*out))) == 0
	|| (out->host = calloc(1, sizeof(*out->host))) == 0) {
	why_set(why, "%s: out of memory", qname);
	goto out;
    }
    out->implicit = 1;
    out->count = 1;
    out->host[0].pref = 0;
    (void) str_copy(out->host[0].name, sizeof(out->host[0].name), target);
    out->info = ans->info;
    if (addr->info.security != DNS_SECURE)
	out->info.security = DNS_INSECURE;
    if (addr->info.ttl < out->info.ttl)
	out->info.ttl = addr->info.ttl;
    *outp = out;
    out = 0;
    result = STATUS_OK;
out:
    if (result == STATUS_RETRY && addr != 0 && addr->info.security == DNS_BOGUS
	&& (*outp = calloc(1, sizeof(**outp))) != 0)
	(*outp)->info = addr->info;
    dns_addr_free(&addr);
    dns_mx_free(&out);
    return (result);
}

/* dns_mx - MX RRset, null MX, implicit MX */

int     dns_mx(DNS *dns, const char *domain, int timeout_ms, DNS_MX **outp,
		       WHY *why)
{
    char    qname[DNS_NAME_MAX + 1];
    DNS_ANSWER ans;
    DNS_RRSET set;
    long long deadline;
    int     result;

    memset(&ans, 0, sizeof(ans));
    if ((result = dns_check_args(dns, domain, outp, qname, sizeof(qname), why)) != STATUS_OK)
	goto out;
    *outp = 0;
    deadline = dns_query_deadline(timeout_ms);
    dns_query_lookup(dns, qname, DNS_T_MX, deadline, &ans, why);
    if (ans.status == STATUS_NOTFOUND && !ans.nxdomain) {
	result = dns_mx_implicit(dns, qname, &ans, deadline, outp, why);
	goto out;
    }
    if ((result = ans.status) != STATUS_OK)
	goto out;
    dns_query_rrset(ans.res, &set);
    result = dns_rr_mx(qname, &set, &ans.info, outp, why);
out:
    /* BOGUS: STATUS_RETRY with an empty result that carries the status. */
    if (result == STATUS_RETRY && ans.info.security == DNS_BOGUS && *outp == 0
	&& (*outp = calloc(1, sizeof(**outp))) != 0)
	(*outp)->info = ans.info;
    if (ans.res)
	ub_resolve_free(ans.res);
    return (result);
}

/* dns_tlsa_free - free a TLSA result */

void    dns_tlsa_free(DNS_TLSA **outp)
{
    DNS_TLSA *out;
    int     i;

    if (outp == 0 || (out = *outp) == 0)
	return;
    for (i = 0; out->rr && i < out->count; i++)
	free(out->rr[i].data);
    free(out->rr);
    free(out);
    *outp = 0;
}

/* dns_tlsa_name - "_port._tcp.host" (RFC 6698 section 3) */

static int dns_tlsa_name(int port, const char *host, char *out, size_t size, WHY *why)
{
    char    buf[DNS_NAME_MAX + 16];

    (void) snprintf(buf, sizeof(buf), "_%d._tcp.%s", port, host);
    return (dns_rr_name_norm(buf, out, size, why));
}

/* dns_tlsa - TLSA records for host:port, RFC 7672 section 2.2.3 CNAMEs */

int     dns_tlsa(DNS *dns, const char *host, int port, int timeout_ms,
		         DNS_TLSA **outp, WHY *why)
{
    char    hname[DNS_NAME_MAX + 1];
    char    tname[DNS_NAME_MAX + 1];
    char    ename[DNS_NAME_MAX + 1];
    DNS_QUERY *qt;
    DNS_QUERY *qa;
    DNS_ANSWER orig;
    DNS_ANSWER addr;
    DNS_ANSWER exp;
    DNS_ANSWER *use = 0;
    DNS_RRSET set;
    long long deadline;
    WHY     wt;
    WHY     wa;
    WHY     we;
    int     result;

    memset(&orig, 0, sizeof(orig));
    memset(&addr, 0, sizeof(addr));
    memset(&exp, 0, sizeof(exp));
    wt.text[0] = wa.text[0] = we.text[0] = 0;
    if ((result = dns_check_args(dns, host, outp, hname, sizeof(hname), why)) != STATUS_OK)
	goto out;
    *outp = 0;
    if (port < 1 || port > 65535) {
	why_set(why, "TLSA lookup: bad port %d", port);
	result = STATUS_INVAL;
	goto out;
    }
    if ((result = dns_tlsa_name(port, hname, tname, sizeof(tname), why)) != STATUS_OK)
	goto out;
    deadline = dns_query_deadline(timeout_ms);

    /* The TLSA RRset at the original name and, in parallel, the alias. */
    qt = dns_query_start(dns, tname, DNS_T_TLSA);
    qa = dns_query_start(dns, hname, DNS_T_A);
    dns_query_finish(dns, &qt, deadline, &orig, &wt);
    dns_query_finish(dns, &qa, deadline, &addr, &wa);
    use = &orig;

    /*
     * RFC 7672 section 2.2.3: when the host is an alias reached through a
     * secure CNAME chain, TLSA records at the expanded name come first;
     * only their denial of existence falls back to the original name.
     */
    if (addr.info.cname[0] != 0 && addr.info.security == DNS_SECURE
	&& addr.status != STATUS_RETRY
	&& dns_tlsa_name(port, addr.info.cname, ename, sizeof(ename), 0) == STATUS_OK) {
	dns_query_lookup(dns, ename, DNS_T_TLSA, deadline, &exp, &we);
	if (exp.status != STATUS_NOTFOUND) {
	    use = &exp;
	    wt = we;
	}
    }
    if ((result = use->status) != STATUS_OK) {
	why_set(why, "%s", why_text(&wt));
	if (use == &orig)
	    why_prefix(why, "%s", tname);
	goto out;
    }
    dns_query_rrset(use->res, &set);
    if ((result = dns_rr_tlsa(use == &exp ? ename : tname, &set, &use->info, outp, why)) != STATUS_OK)
	goto out;
    /* info.cname: the TLSA base domain when it is not host itself. */
    if (use == &exp)
	(void) str_copy((*outp)->info.cname, sizeof((*outp)->info.cname),
			addr.info.cname);
    else
	(*outp)->info.cname[0] = 0;
out:
    /* BOGUS: STATUS_RETRY with an empty result that carries the status. */
    if (result == STATUS_RETRY && use != 0 && use->info.security == DNS_BOGUS
	&& (*outp = calloc(1, sizeof(**outp))) != 0) {
	(*outp)->info = use->info;
	(*outp)->info.cname[0] = 0;
    }
    if (orig.res)
	ub_resolve_free(orig.res);
    if (addr.res)
	ub_resolve_free(addr.res);
    if (exp.res)
	ub_resolve_free(exp.res);
    return (result);
}
