/*
 * NAME
 *	cli_check 3
 * SUMMARY
 *	`stsfilter check DOMAIN...`: a postmaster's diagnosis
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int	cli_check_print(const VERDICT *v, int json, FILE *fp)
 *
 *	int	cli_check_exit(int verdict)
 *
 *	int	cli_check(int argc, char **argv, const char *path, int given)
 * DESCRIPTION
 *	Glue only: the engine (route_check()) decides; this prints every
 *	step it took and what it found, for a person or, with json, for
 *	machines (jansson). cli_check_print() returns 0, or -1 when the
 *	output could not be written.
 *
 *	cli_check_exit() maps a verdict to the exit status: 0 for ok,
 *	no-policy and none; 1 for a failure (testing-fail, enforce-fail,
 *	null-mx); 2 for temporary.
 *
 *	cli_check() runs "check [--json] [--ca-file FILE] [--resolver
 *	IP[@PORT]] [--trust-anchor FILE] DOMAIN..." (argv[0] is "check"):
 *	the flags override the configuration file; every domain gets a
 *	report (with --json and several domains, one JSON array). The exit
 *	status is the worst cli_check_exit() over the domains, or
 *	CLI_EX_DATAERR when a domain is invalid, or a usage/config error.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "conf.h"
#include "policy.h"
#include "route.h"
#include "route_conf.h"
#include "status.h"
#include "verdict.h"

int     cli_check_exit(int verdict)
{
    switch (verdict) {
    case VERDICT_OK:
    case VERDICT_NO_POLICY:
    case VERDICT_NONE:
	return (0);
    case VERDICT_TEMPORARY:
	return (2);
    default:
	return (1);
    }
}

static void cli_check_time(time_t t, char *buf, size_t size)
{
    struct tm tm;

    if (t == 0 || gmtime_r(&t, &tm) == 0 || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
	(void) snprintf(buf, size, "unknown");
}

static int cli_check_text(const VERDICT *v, FILE *fp)
{
    const VERDICT_HOST *h;
    char    when[32];
    int     i, j;

    fprintf(fp, "%s\n", v->domain);
    fprintf(fp, "  MX records (%s):%s\n", v->mx_secure ? "DNSSEC-secure" : "not DNSSEC-secure",
	    v->verdict == VERDICT_NULL_MX ? " null MX (RFC 7505)" :
	    v->implicit_mx ? " none; implicit MX (RFC 5321 section 5.1)" : "");
    for (i = 0; i < v->host_count; i++)
	fprintf(fp, "    %d %s%s%s\n", v->host[i].pref, v->host[i].name,
		v->host[i].cname[0] ? " -> CNAME " : "", v->host[i].cname);
    if (v->has_txt)
	fprintf(fp, "  MTA-STS TXT _mta-sts.%s: id=%s (TTL %d s)\n", v->domain, v->txt_id, v->txt_ttl);
    else
	fprintf(fp, "  MTA-STS TXT _mta-sts.%s: none\n", v->domain);
    if (v->has_policy) {
	fprintf(fp, "  MTA-STS policy (%s): mode %s, max_age %ld, mx:", v->policy_cached ? "cached" : "fetched",
		policy_mode_name(v->policy_mode), v->policy_max_age);
	for (i = 0; i < v->policy_mx_count; i++)
	    fprintf(fp, " %s", v->policy_mx[i]);
	fprintf(fp, "\n");
    } else if (v->has_txt || v->reason == REASON_STS_FETCH_ERROR) {
	fprintf(fp, "  MTA-STS policy: not available\n");
    }
    if (v->reason != REASON_NONE)
	fprintf(fp, "  problem: %s: %s\n", verdict_reason_label(v->reason), v->detail);
    fprintf(fp, "  TLS-RPT _smtp._tls.%s: %s\n", v->domain, v->tlsrpt[0] ? v->tlsrpt : "none");
    if (v->host_count)
	fprintf(fp, "  MX hosts:\n");
    for (i = 0; i < v->host_count; i++) {
	h = &v->host[i];
	fprintf(fp, "    %s: %s", h->name, h->passed ? "pass" :
		h->reason == REASON_NONE ? "not checked (no policy applies)" : verdict_reason_label(h->reason));
	if (v->has_policy && v->policy_mode != POLICY_MODE_NONE)
	    fprintf(fp, ", %s", h->listed ? "listed in the policy" : "NOT listed in the policy");
	if (h->dane)
	    fprintf(fp, ", DANE");
	fprintf(fp, "\n");
	if (h->detail[0] && !h->passed)
	    fprintf(fp, "      %s\n", h->detail);
	if (h->address[0])
	    fprintf(fp, "      address %s%s%s, %ld ms\n", h->address, h->tls_version[0] ? ", " : "",
		    h->tls_version, h->probe_ms);
	if (h->cert_name_count || h->cert_issuer[0]) {
	    cli_check_time(h->cert_not_after, when, sizeof(when));
	    fprintf(fp, "      certificate names:");
	    for (j = 0; j < h->cert_name_count; j++)
		fprintf(fp, " %s", h->cert_names[j]);
	    fprintf(fp, "; issuer %s; expires %s\n", h->cert_issuer[0] ? h->cert_issuer : "unknown", when);
	}
    }
    for (i = 0; i < v->warn_count; i++)
	fprintf(fp, "  warning: %s\n", v->warn[i]);
    fprintf(fp, "  time: dns %ld ms, fetch %ld ms, probe %ld ms, total %ld ms\n",
	    v->dns_ms, v->fetch_ms, v->probe_ms, v->total_ms);
    fprintf(fp, "  verdict: %s: %s\n", verdict_name(v->verdict), v->explanation);
    return (ferror(fp) ? -1 : 0);
}

static json_t *cli_check_host_json(const VERDICT_HOST *h)
{
    json_t *names = json_array();
    char    when[32];
    int     j;

    for (j = 0; j < h->cert_name_count; j++)
	json_array_append_new(names, json_string(h->cert_names[j]));
    cli_check_time(h->cert_not_after, when, sizeof(when));
    return (json_pack("{s:s, s:i, s:b, s:s?, s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:I}",
		      "name", h->name, "pref", h->pref, "listed", h->listed,
		      "cname", h->cname[0] ? h->cname : NULL, "dane", h->dane, "passed", h->passed,
		      "result", h->passed ? "ok" : verdict_reason_name(h->reason),
		      "reason", h->passed ? "ok" : verdict_reason_label(h->reason),
		      "detail", h->detail, "address", h->address, "tls_version", h->tls_version,
		      "cert_names", names, "cert_issuer", h->cert_issuer,
		      "cert_not_after", h->cert_not_after ? when : "", "probe_ms", (json_int_t) h->probe_ms));
}

static json_t *cli_check_json(const VERDICT *v)
{
    json_t *hosts, *mx, *warn;
    int     i;

    hosts = json_array();
    mx = json_array();
    warn = json_array();
    for (i = 0; i < v->host_count; i++)
	json_array_append_new(hosts, cli_check_host_json(&v->host[i]));
    for (i = 0; i < v->policy_mx_count; i++)
	json_array_append_new(mx, json_string(v->policy_mx[i]));
    for (i = 0; i < v->warn_count; i++)
	json_array_append_new(warn, json_string(v->warn[i]));
    return (json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:b, s:b, s:b,"
		      " s:{s:b, s:s?, s:i}, s:{s:b, s:s?, s:I, s:o, s:b},"
		      " s:s?, s:o, s:o, s:{s:I, s:I, s:I, s:I}}",
		      "domain", v->domain, "verdict", verdict_name(v->verdict),
		      "reason", verdict_reason_label(v->reason), "detail", v->detail,
		      "explanation", v->explanation, "mx_secure", v->mx_secure,
		      "implicit_mx", v->implicit_mx, "null_mx", v->verdict == VERDICT_NULL_MX, "dane", v->dane,
		      "txt", "present", v->has_txt, "id", v->has_txt ? v->txt_id : NULL, "ttl", v->txt_ttl,
		      "policy", "present", v->has_policy,
		      "mode", v->has_policy ? policy_mode_name(v->policy_mode) : NULL,
		      "max_age", (json_int_t) v->policy_max_age, "mx", mx, "cached", v->policy_cached,
		      "tlsrpt", v->tlsrpt[0] ? v->tlsrpt : NULL, "hosts", hosts, "warnings", warn,
		      "time_ms", "dns", (json_int_t) v->dns_ms, "fetch", (json_int_t) v->fetch_ms,
		      "probe", (json_int_t) v->probe_ms, "total", (json_int_t) v->total_ms));
}

/* Write a JSON document and a newline; steals the reference. */

static int cli_check_dump(json_t *root, FILE *fp)
{
    int     result = -1;

    if (root == 0)
	goto done;
    if (json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
	goto done;
    fputc('\n', fp);
    result = ferror(fp) ? -1 : 0;

done:
    json_decref(root);
    return (result);
}

int     cli_check_print(const VERDICT *v, int json, FILE *fp)
{
    return (json ? cli_check_dump(cli_check_json(v), fp) : cli_check_text(v, fp));
}

/* cli_check - stsfilter check [--json] [--ca-file F] [--resolver IP] [--trust-anchor F] DOMAIN... */

int     cli_check(int argc, char **argv, const char *path, int given)
{
    static const struct option longopts[] = {
	{"json", no_argument, 0, 'j'},
	{"ca-file", required_argument, 0, 'C'},
	{"resolver", required_argument, 0, 'R'},
	{"trust-anchor", required_argument, 0, 'T'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0},
    };
    static const char usage[] = "usage: stsfilter [-c FILE] check [--json] [--ca-file FILE]"
	" [--resolver IP[@PORT]] [--trust-anchor FILE] DOMAIN...\n";
    const char *resolver[1];
    CONF   *conf = 0;
    ROUTE  *route = 0;
    ROUTE_OPTS opts;
    VERDICT *v = 0;
    json_t *all = 0;
    WHY     why;
    int     json = 0;
    int     worst = CLI_EX_OK;
    int     ret = CLI_EX_USAGE;
    int     ch;
    int     i;

    why.text[0] = 0;
    memset(&opts, 0, sizeof(opts));
    optind = 0;					/* glibc: full reset */
    opterr = 0;
    resolver[0] = 0;
    while ((ch = getopt_long(argc, argv, "+h", longopts, 0)) != -1) {
	switch (ch) {
	case 'j':
	    json = 1;
	    break;
	case 'C':
	case 'R':
	case 'T':
	    break;				/* applied after the config is loaded */
	case 'h':
	    (void) fputs(usage, stdout);
	    ret = CLI_EX_OK;
	    goto out;
	default:
	    cli_error("check: unknown option or missing argument \"%s\"", argv[optind - 1]);
	    (void) fputs(usage, stderr);
	    goto out;
	}
    }
    if (optind >= argc) {
	cli_error("check: no domain given");
	(void) fputs(usage, stderr);
	goto out;
    }
    if ((ret = cli_load_conf(path, given, &conf)) != CLI_EX_OK)
	goto out;
    route_conf_opts(conf, &opts);
    /* A diagnosis looks at the world as it is now: no shared cache. */
    opts.cache.backend = CACHE_BACKEND_MEMORY;
    /* The flags override the configuration file. */
    optind = 0;
    while ((ch = getopt_long(argc, argv, "+h", longopts, 0)) != -1) {
	if (ch == 'C')
	    opts.ca_file = optarg;
	else if (ch == 'T')
	    opts.dns.trust_anchor_file = optarg;
	else if (ch == 'R') {
	    resolver[0] = optarg;
	    opts.dns.forwarders = resolver;
	    opts.dns.forwarder_count = 1;
	}
    }
    if (route_create(&opts, &route, &why) != STATUS_OK) {
	cli_error("check: cannot start the engine: %s", why_text(&why));
	ret = CLI_EX_UNAVAILABLE;
	goto out;
    }
    if (json && argc - optind > 1)
	all = json_array();
    ret = CLI_EX_OK;
    for (i = optind; i < argc; i++) {
	if (route_check(route, argv[i], route_conf_budget_ms(conf), ROUTE_TLSRPT, &v, &why) != STATUS_OK) {
	    cli_error("check: %s: %s", argv[i], why_text(&why));
	    ret = CLI_EX_DATAERR;
	    continue;
	}
	if (cli_check_exit(v->verdict) > worst)
	    worst = cli_check_exit(v->verdict);
	if (all)
	    json_array_append_new(all, cli_check_json(v));
	else if (cli_check_print(v, json, stdout) != 0)
	    ret = CLI_EX_IOERR;
	verdict_free(&v);
    }
    if (all && cli_check_dump(all, stdout) != 0)
	ret = CLI_EX_IOERR;
    all = 0;
    if (ret == CLI_EX_OK)
	ret = worst;

out:
    json_decref(all);
    route_free(&route);
    conf_unref(&conf);
    return (ret);
}
