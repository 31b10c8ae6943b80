/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	dns-lookup 1
 * SUMMARY
 *	test driver for the dns module
 * SYNOPSIS
 *	dns-lookup [options] txt|mx|addr NAME
 *	dns-lookup [options] tlsa HOST PORT
 *
 *	options: --forwarder IP[@PORT] (repeatable), --stub ZONE=IP[@PORT]
 *	(repeatable), --anchors FILE, --option "name: value" (repeatable),
 *	--timeout MS (default 5000), --threads N (default 1)
 * DESCRIPTION
 *	Builds a DNS handle with dns_create(), runs one lookup and prints
 *	the result, one item a line:
 *
 *		status: ok|notfound|retry|fail|inval
 *		security: secure|insecure|bogus
 *		cname: NAME			(when aliased)
 *		ttl: N
 *		why: TEXT			(when not ok)
 *		null_mx: 1 / implicit: 1	(mx)
 *		mx: PREF NAME			(mx, sorted)
 *		txt: TEXT			(txt, sanitized)
 *		addr: ADDRESS			(addr)
 *		tlsa: USAGE SELECTOR MTYPE HEX	(tlsa)
 *
 *	With --threads N the same lookup runs in N threads at once
 *	against the one handle; the first thread's result is printed, and
 *	"threads: N agree" when all N got the same status and record
 *	count ("threads: disagree" otherwise).
 *
 *	Exit status: 0 when the lookup ran (whatever its status), 2 for a
 *	usage error or when dns_create() fails (the reason on stderr).
 */

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "log.h"
#include "status.h"
#include "str.h"
#include "text.h"

#define LOOKUP_LIST_MAX	32
#define LOOKUP_THREADS_MAX 64

typedef struct LOOKUP {
    DNS    *dns;
    const char *type;
    const char *name;
    int     port;
    int     timeout;
    int     status;
    int     count;
    char    out[16384];			/* the printed result */
    WHY     why;
} LOOKUP;

static void lookup_usage(void)
{
    fprintf(stderr, "usage: dns-lookup [--forwarder IP[@PORT]]... "
	    "[--stub ZONE=IP]... [--anchors FILE] [--option 'name: value']... "
	    "[--timeout MS] [--threads N] txt|mx|addr NAME | tlsa HOST PORT\n");
    exit(2);
}

static const char *lookup_security(int security)
{
    return (security == DNS_SECURE ? "secure" :
	    security == DNS_BOGUS ? "bogus" : "insecure");
}

static void lookup_info(LOOKUP *lk, const DNS_INFO *info)
{
    (void) str_appendf(lk->out, sizeof(lk->out), "security: %s\n",
		       lookup_security(info->security));
    if (info->cname[0])
	(void) str_appendf(lk->out, sizeof(lk->out), "cname: %s\n", info->cname);
    (void) str_appendf(lk->out, sizeof(lk->out), "ttl: %d\n", info->ttl);
}

static void *lookup_run(void *arg)
{
    LOOKUP *lk = arg;
    DNS_TXT *txt = 0;
    DNS_MX *mx = 0;
    DNS_ADDR *addr = 0;
    DNS_TLSA *tlsa = 0;
    char    buf[4096];
    size_t  j;
    int     i;

    lk->out[0] = 0;
    lk->why.text[0] = 0;
    if (strcmp(lk->type, "txt") == 0)
	lk->status = dns_txt(lk->dns, lk->name, lk->timeout, &txt, &lk->why);
    else if (strcmp(lk->type, "mx") == 0)
	lk->status = dns_mx(lk->dns, lk->name, lk->timeout, &mx, &lk->why);
    else if (strcmp(lk->type, "addr") == 0)
	lk->status = dns_addr(lk->dns, lk->name, lk->timeout, &addr, &lk->why);
    else
	lk->status = dns_tlsa(lk->dns, lk->name, lk->port, lk->timeout, &tlsa, &lk->why);
    (void) str_appendf(lk->out, sizeof(lk->out), "status: %s\n", status_name(lk->status));
    if (lk->status != STATUS_OK) {
	(void) text_sanitize(buf, sizeof(buf), lk->why.text);
	(void) str_appendf(lk->out, sizeof(lk->out), "why: %s\n", buf);
    }
    if (txt) {
	lookup_info(lk, &txt->info);
	lk->count = txt->count;
	for (i = 0; i < txt->count; i++) {
	    (void) text_sanitize_len(buf, sizeof(buf), txt->text[i], txt->len[i]);
	    (void) str_appendf(lk->out, sizeof(lk->out), "txt: %s\n", buf);
	}
    }
    if (mx) {
	lookup_info(lk, &mx->info);
	lk->count = mx->count;
	if (mx->null_mx)
	    (void) str_appendf(lk->out, sizeof(lk->out), "null_mx: 1\n");
	if (mx->implicit)
	    (void) str_appendf(lk->out, sizeof(lk->out), "implicit: 1\n");
	for (i = 0; i < mx->count; i++)
	    (void) str_appendf(lk->out, sizeof(lk->out), "mx: %d %s\n",
			       mx->host[i].pref, mx->host[i].name);
    }
    if (addr) {
	lookup_info(lk, &addr->info);
	lk->count = addr->count;
	for (i = 0; i < addr->count; i++) {
	    const struct sockaddr_storage *ss = &addr->addr[i];

	    if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *) (const void *) ss)->sin_addr,
			  buf, sizeof(buf));
	    else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) (const void *) ss)->sin6_addr,
			  buf, sizeof(buf));
	    (void) str_appendf(lk->out, sizeof(lk->out), "addr: %s\n", buf);
	}
    }
    if (tlsa) {
	lookup_info(lk, &tlsa->info);
	lk->count = tlsa->count;
	for (i = 0; i < tlsa->count; i++) {
	    buf[0] = 0;
	    for (j = 0; j < tlsa->rr[i].len && j < 1024; j++)
		(void) str_appendf(buf, sizeof(buf), "%02x", tlsa->rr[i].data[j]);
	    (void) str_appendf(lk->out, sizeof(lk->out), "tlsa: %d %d %d %s\n",
			       tlsa->rr[i].usage, tlsa->rr[i].selector,
			       tlsa->rr[i].mtype, buf);
	}
    }
    dns_txt_free(&txt);
    dns_mx_free(&mx);
    dns_addr_free(&addr);
    dns_tlsa_free(&tlsa);
    return (0);
}

int     main(int argc, char **argv)
{
    const char *fwd[LOOKUP_LIST_MAX];
    const char *stub[LOOKUP_LIST_MAX];
    const char *opt[LOOKUP_LIST_MAX];
    static LOOKUP lk[LOOKUP_THREADS_MAX];
    pthread_t tid[LOOKUP_THREADS_MAX];
    DNS_OPTS opts;
    DNS    *dns = 0;
    WHY     why;
    long    val;
    int     threads = 1;
    int     timeout = 5000;
    int     port = 0;
    int     agree = 1;
    int     arg;
    int     i;

    log_init("dns-lookup", LOG_TO_STDERR);
    memset(&opts, 0, sizeof(opts));
    opts.forwarders = fwd;
    opts.stub_zones = stub;
    opts.options = opt;
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
	if (i + 1 >= argc)
	    lookup_usage();
	if (strcmp(argv[i], "--forwarder") == 0 && opts.forwarder_count < LOOKUP_LIST_MAX)
	    fwd[opts.forwarder_count++] = argv[++i];
	else if (strcmp(argv[i], "--stub") == 0 && opts.stub_zone_count < LOOKUP_LIST_MAX)
	    stub[opts.stub_zone_count++] = argv[++i];
	else if (strcmp(argv[i], "--option") == 0 && opts.option_count < LOOKUP_LIST_MAX)
	    opt[opts.option_count++] = argv[++i];
	else if (strcmp(argv[i], "--anchors") == 0)
	    opts.trust_anchor_file = argv[++i];
	else if (strcmp(argv[i], "--timeout") == 0
		 && str_to_long(argv[i + 1], 1, 600000, &val) == 0)
	    timeout = (int) val, i++;
	else if (strcmp(argv[i], "--threads") == 0
		 && str_to_long(argv[i + 1], 1, LOOKUP_THREADS_MAX, &val) == 0)
	    threads = (int) val, i++;
	else
	    lookup_usage();
    }
    if (argc - i < 2)
	lookup_usage();
    arg = i;
    if (strcmp(argv[i], "tlsa") == 0) {
	if (argc - i != 3 || str_to_long(argv[i + 2], 0, 99999, &val) != 0)
	    lookup_usage();
	port = (int) val;
    } else if (argc - i != 2 || (strcmp(argv[i], "txt") != 0
		     && strcmp(argv[i], "mx") != 0 && strcmp(argv[i], "addr") != 0)) {
	lookup_usage();
    }
    if (dns_create(&opts, &dns, &why) != STATUS_OK) {
	fprintf(stderr, "dns-lookup: %s\n", why.text);
	return (2);
    }
    for (i = 0; i < threads; i++) {
	lk[i].dns = dns;
	lk[i].type = argv[arg];
	lk[i].name = argv[arg + 1];
	lk[i].port = port;
	lk[i].timeout = timeout;
	if (pthread_create(&tid[i], 0, lookup_run, &lk[i]) != 0) {
	    fprintf(stderr, "dns-lookup: cannot start thread\n");
	    return (2);
	}
    }
    for (i = 0; i < threads; i++)
	(void) pthread_join(tid[i], 0);
    fputs(lk[0].out, stdout);
    for (i = 1; i < threads; i++)
	if (lk[i].status != lk[0].status || lk[i].count != lk[0].count)
	    agree = 0;
    if (threads > 1)
	printf("threads: %s\n", agree ? "agree" : "disagree");
    dns_free(&dns);
    if (dns != 0)
	return (2);
    return (0);
}
