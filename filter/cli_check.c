/* SPDX-License-Identifier: ISC */
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
 *	machines (cli_json.c, jansson). Beside the verdict it shows what
 *	named senders conclude (sender.c: rfc, outlook), a refused policy
 *	as strict and lenient parsers read it (policy_lenient(), through
 *	the VERDICT), TXT records at _mta-sts that are not valid, and what
 *	the cluster applies now: the domain's entry in the configured
 *	shared cache (LMDB or Redis), opened read-only and read with
 *	cache_peek(), so that nothing in it changes. cli_check_print()
 *	returns 0, or -1 when the output could not be written (no cached
 *	entry is shown then).
 *
 *	cli_check_exit() maps a verdict to the exit status: 0 for ok,
 *	no-policy and none; 1 for a failure (testing-fail, enforce-fail,
 *	null-mx); 2 for temporary.
 *
 *	cli_check() runs "check [--json] [--ca-file FILE] [--resolver
 *	IP[@PORT]] [--trust-anchor FILE] DOMAIN..." (argv[0] is "check"):
 *	the flags override the configuration file; every domain gets a
 *	report; with --json one document {"version", "results"} whatever
 *	the number of domains, an invalid domain being a result with an
 *	error. The exit status is the worst cli_check_exit() over the
 *	domains, or CLI_EX_DATAERR when a domain is invalid, or a
 *	usage/config error.
 */

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cache.h"
#include "cli.h"
#include "cli_check.h"
#include "conf.h"
#include "policy.h"
#include "route.h"
#include "route_conf.h"
#include "sender.h"
#include "status.h"
#include "str.h"
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

void    cli_check_time(time_t t, char *buf, size_t size)
{
    struct tm tm;

    if (t == 0 || gmtime_r(&t, &tm) == 0 || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
	(void) snprintf(buf, size, "unknown");
}

int     cli_check_txt_warning(const VERDICT *v, char *buf, size_t size)
{
    int     i;

    if (v->has_txt || v->txt_problem[0] == 0)
	return (0);
    /* The engine warns about an invalid v=STSv1 record itself. */
    for (i = 0; i < v->warn_count; i++)
	if (strstr(v->warn[i], v->txt_problem) != 0)
	    return (0);
    /* RFC 8461 §3.1: such records are discarded; senders assume no policy. */
    (void) snprintf(buf, size, "_mta-sts.%s TXT ignored: %s; senders assume no policy",
		    v->domain, v->txt_problem);
    return (1);
}

/* "in 3 h 20 min" or "3 h 20 min ago", relative to now. */

static void cli_check_rel(time_t t, time_t now, char *buf, size_t size)
{
    long    d = (long) (t > now ? t - now : now - t);

    if (d >= 86400)
	(void) snprintf(buf, size, "%s%ld d %ld h%s", t > now ? "in " : "", d / 86400, d % 86400 / 3600,
			t > now ? "" : " ago");
    else
	(void) snprintf(buf, size, "%s%ld h %ld min%s", t > now ? "in " : "", d / 3600, d % 3600 / 60,
			t > now ? "" : " ago");
}

/*
 * What the cluster applies now: the domain's record in the configured
 * shared cache, read without changing it (cache_peek()), and how it
 * differs from the fresh result in v. RFC 8461 §5.1: a cached policy
 * stays in force until its max_age ends, whatever the TXT record says
 * (trust on first use; §10.2 on removing MTA-STS).
 */
static void cli_check_cached(CACHE *shared, const CACHE_OPTS *copts, int up, const char *upstate,
			             const VERDICT *v, CLI_CACHED *c)
{
    CACHE_POLICY rec;
    POLICY *cached = 0;
    char    when[32], rel[48];
    time_t  now = time(0);
    int     i, st;

    memset(c, 0, sizeof(*c));
    memset(&rec, 0, sizeof(rec));
    c->mode = -1;
    (void) str_copy(c->backend, sizeof(c->backend), copts->backend == CACHE_BACKEND_LMDB ? "lmdb" :
		    copts->backend == CACHE_BACKEND_REDIS ? "redis" : "memory");
    (void) str_copy(c->where, sizeof(c->where), copts->backend == CACHE_BACKEND_LMDB ? copts->path :
		    copts->backend == CACHE_BACKEND_REDIS ? copts->redis_server : "");
    if (copts->backend == CACHE_BACKEND_REDIS && copts->redis_sentinel_count > 0)
	(void) snprintf(c->where, sizeof(c->where), "primary \"%s\" of redis_sentinels", copts->redis_master_name);
    if (copts->backend == CACHE_BACKEND_MEMORY) {
	c->state = CLI_CACHED_OFF;
	(void) str_copy(c->note, sizeof(c->note), "cache_backend = memory: every process keeps its own"
			" cache, which this command cannot see");
	goto done;
    }
    if (shared == 0 || !up) {
	c->state = CLI_CACHED_ERROR;
	(void) snprintf(c->note, sizeof(c->note), "cannot read the cache: %s", upstate);
	goto done;
    }
    st = cache_peek(shared, v->domain, &rec);
    if (st == STATUS_NOTFOUND) {
	c->state = CLI_CACHED_NONE;
	(void) str_copy(c->note, sizeof(c->note), v->has_policy ?
			"nothing cached: the next message fetches the policy" :
			"nothing cached: the next message looks the domain up");
	goto done;
    }
    if (st != STATUS_OK) {
	c->state = CLI_CACHED_ERROR;
	(void) str_copy(c->note, sizeof(c->note), st == STATUS_INVAL ?
			"the cached entry is corrupt; the filter ignores it and removes it" :
			"cannot read the cache");
	goto done;
    }
    c->fetched = rec.fetched;
    c->expires = rec.expires;
    c->fresh = now < rec.expires;
    cli_check_time(rec.expires, when, sizeof(when));
    cli_check_rel(rec.expires, now, rel, sizeof(rel));
    if (rec.kind == CACHE_KIND_NEGATIVE) {
	c->state = CLI_CACHED_NEGATIVE;
	if (c->fresh && (v->has_policy || v->has_txt || v->mx_secure)) {
	    c->differs = 1;
	    (void) snprintf(c->note, sizeof(c->note), "the cluster treats %s as publishing no MTA-STS"
			    " policy and no DANE until %s (%s; cache_negative_ttl), although it now"
			    " publishes %s", v->domain, when, rel, v->has_txt ? "an MTA-STS TXT record" :
			    v->has_policy ? "a policy" : "a DNSSEC-secure MX");
	} else {
	    (void) snprintf(c->note, sizeof(c->note), c->fresh ? "no policy, until %s (%s)" :
			    "expired %s (%s); no longer used", when, rel);
	}
	goto done;
    }
    c->state = CLI_CACHED_POLICY;
    (void) str_copy(c->txt_id, sizeof(c->txt_id), rec.txt_id);
    c->max_age = rec.max_age;
    c->checked = rec.checked;
    if (policy_parse(rec.body, rec.len, &cached, 0) == STATUS_OK) {
	c->mode = cached->mode;
	c->mx_count = cached->mx_count;
    }
    if (!c->fresh) {
	(void) snprintf(c->note, sizeof(c->note), "expired %s (%s); no longer used", when, rel);
	goto done;
    }
    c->differs = 1;
    if (v->has_txt && strcmp(v->txt_id, rec.txt_id) != 0) {
	(void) snprintf(c->note, sizeof(c->note), "the TXT id changed (cached %s, published %s): the"
			" cluster fetches the new policy at its next TXT recheck (txt_recheck_interval)"
			" and keeps applying the cached %s policy until then, or until %s (%s) if that"
			" fetch fails (RFC 8461 section 5.1)", rec.txt_id, v->txt_id,
			policy_mode_name(c->mode), when, rel);
    } else if (!v->has_txt && v->txt_count == 0 && v->reason == REASON_NONE) {
	(void) snprintf(c->note, sizeof(c->note), "the _mta-sts TXT record is gone, but the cluster"
			" keeps applying the cached %s policy (id %s) until %s (%s): trust on first use,"
			" RFC 8461 sections 5.1 and 10.2; publish \"mode: none\" under a new id to end it",
			policy_mode_name(c->mode), rec.txt_id, when, rel);
    } else if (!v->has_txt) {
	(void) snprintf(c->note, sizeof(c->note), "no valid TXT record now (%s), but the cluster"
			" keeps applying the cached %s policy (id %s) until %s (%s; RFC 8461 section 5.1)",
			v->txt_problem[0] ? v->txt_problem : verdict_reason_label(v->reason),
			policy_mode_name(c->mode), rec.txt_id, when, rel);
    } else if (!v->has_policy) {
	(void) snprintf(c->note, sizeof(c->note), "the policy cannot be fetched now, but the cluster"
			" keeps applying the cached %s policy (id %s) until %s (%s; RFC 8461 section 5.1)",
			policy_mode_name(c->mode), rec.txt_id, when, rel);
    } else if (cached && (cached->mode != v->policy_mode || cached->mx_count != v->policy_mx_count)) {
	(void) snprintf(c->note, sizeof(c->note), "the published policy (%s, %d mx) differs from the"
			" cached one (%s, %d mx) under the same id %s: senders keep the cached one until"
			" it expires (%s); publish a new id with every change (RFC 8461 section 3.1)",
			policy_mode_name(v->policy_mode), v->policy_mx_count, policy_mode_name(cached->mode),
			cached->mx_count, rec.txt_id, when);
    } else {
	for (i = 0; cached && i < cached->mx_count && i < v->policy_mx_count; i++)
	    if (strcmp(cached->mx[i], v->policy_mx[i]) != 0)
		break;
	if (cached && i < cached->mx_count) {
	    (void) snprintf(c->note, sizeof(c->note), "the published mx patterns differ from the cached"
			    " ones under the same id %s: senders keep the cached ones until it expires"
			    " (%s); publish a new id with every change (RFC 8461 section 3.1)",
			    rec.txt_id, when);
	} else {
	    c->differs = 0;
	    (void) snprintf(c->note, sizeof(c->note), "same policy (id %s) in force until %s (%s)",
			    rec.txt_id, when, rel);
	}
    }

done:
    policy_free(&cached);
    cache_policy_clear(&rec);
}

static void cli_check_text_cached(const CLI_CACHED *c, FILE *fp)
{
    char    fetched[32], checked[32], expires[32];

    fprintf(fp, "  cluster cache (%s%s%s): ", c->backend, c->where[0] ? " " : "", c->where);
    switch (c->state) {
    case CLI_CACHED_POLICY:
	cli_check_time(c->fetched, fetched, sizeof(fetched));
	cli_check_time(c->checked ? c->checked : c->fetched, checked, sizeof(checked));
	cli_check_time(c->expires, expires, sizeof(expires));
	fprintf(fp, "policy id=%s, mode %s, max_age %ld, %d mx; fetched %s, id last seen %s, expires %s%s\n",
		c->txt_id, c->mode >= 0 ? policy_mode_name(c->mode) : "unparsable", c->max_age,
		c->mx_count, fetched, checked, expires, c->fresh ? "" : " (expired)");
	break;
    case CLI_CACHED_NEGATIVE:
	cli_check_time(c->expires, expires, sizeof(expires));
	fprintf(fp, "no policy (negative entry), expires %s%s\n", expires, c->fresh ? "" : " (expired)");
	break;
    case CLI_CACHED_NONE:
	fprintf(fp, "no entry\n");
	break;
    default:
	fprintf(fp, "%s\n", c->state == CLI_CACHED_OFF ? "none shared" : "unavailable");
	break;
    }
    if (c->note[0])
	fprintf(fp, "    %s%s\n", c->differs ? "DIFFERS: " : "", c->note);
}

/* RFC 8461 §3.1: the TXT record; records that are not a valid one are shown with why. */

static void cli_check_text_txt(const VERDICT *v, FILE *fp)
{
    int     i;

    if (v->has_txt)
	fprintf(fp, "  MTA-STS TXT _mta-sts.%s: id=%s (TTL %d s)\n", v->domain, v->txt_id, v->txt_ttl);
    else if (v->txt_count > 0)
	fprintf(fp, "  MTA-STS TXT _mta-sts.%s: NOT VALID (%s); senders assume no policy\n", v->domain,
		v->txt_problem[0] ? v->txt_problem : "no valid record");
    else
	fprintf(fp, "  MTA-STS TXT _mta-sts.%s: none\n", v->domain);
    if (!v->has_txt)
	for (i = 0; i < v->txt_count && i < VERDICT_TXT_SHOWN; i++)
	    fprintf(fp, "    record: \"%s\"\n", v->txt_records[i]);
}

/* RFC 8461 §3.2: a policy strict parsers refuse, and what lenient ones do with it. */

static void cli_check_text_refused(const VERDICT *v, FILE *fp)
{
    if (v->policy_problem[0] == 0)
	return;
    if (v->policy_line > 0)
	fprintf(fp, "  MTA-STS policy refused by strict parsers: line %d: %s\n    line %d: \"%s\"\n",
		v->policy_line, v->policy_problem, v->policy_line, v->policy_line_text);
    else
	fprintf(fp, "  MTA-STS policy refused by strict parsers: %s\n", v->policy_problem);
    if (v->policy_lenient)
	fprintf(fp, "    strict parsers (RFC 8461 section 3.2; stsfilter) ignore this policy and deliver"
		" without MTA-STS; lenient parsers (postfix-mta-sts-resolver) enforce it (mode %s)."
		" Fix %s so that every sender reads the same policy\n",
		policy_mode_name(v->policy_lenient_mode), v->policy_line > 0 ? "that line" : "the policy");
    else
	fprintf(fp, "    no parser accepts it: every sender delivers as if there were no policy\n");
}

/* Named sender behaviours (sender.c). */

static void cli_check_text_senders(const VERDICT *v, FILE *fp)
{
    SENDER_VIEW view;
    int     b;

    fprintf(fp, "  senders:\n");
    for (b = 0; b < SENDER_COUNT; b++) {
	if (sender_view(b, v, &view) != STATUS_OK)
	    continue;
	if (b != SENDER_RFC && !view.differs) {
	    fprintf(fp, "    %s: same as rfc\n", sender_name(b));
	    continue;
	}
	fprintf(fp, "    %s: %s%s%s: %s\n", sender_name(b), verdict_name(view.verdict),
		view.reason != REASON_NONE ? " " : "", view.reason != REASON_NONE ?
		verdict_reason_label(view.reason) : "", view.explanation);
	if (view.fix[0])
	    fprintf(fp, "      fix: %s\n", view.fix);
    }
}

static int cli_check_text(const VERDICT *v, const CLI_CACHED *cached, FILE *fp)
{
    const VERDICT_HOST *h;
    char    when[32];
    char    buf[VERDICT_TEXT_MAX];
    int     i, j;

    fprintf(fp, "%s\n", v->domain);
    fprintf(fp, "  MX records (%s):%s\n", v->mx_secure ? "DNSSEC-secure" : "not DNSSEC-secure",
	    v->verdict == VERDICT_NULL_MX ? " null MX (RFC 7505)" :
	    v->implicit_mx ? " none; implicit MX (RFC 5321 section 5.1)" : "");
    for (i = 0; i < v->host_count; i++)
	fprintf(fp, "    %d %s%s%s\n", v->host[i].pref, v->host[i].name,
		v->host[i].cname[0] ? " -> CNAME " : "", v->host[i].cname);
    cli_check_text_txt(v, fp);
    if (v->has_policy) {
	fprintf(fp, "  MTA-STS policy (%s): mode %s, max_age %ld, mx:", v->policy_cached ? "cached" : "fetched",
		policy_mode_name(v->policy_mode), v->policy_max_age);
	for (i = 0; i < v->policy_mx_count; i++)
	    fprintf(fp, " %s", v->policy_mx[i]);
	fprintf(fp, "\n");
    } else if (v->policy_problem[0]) {
	cli_check_text_refused(v, fp);
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
    if (cached)
	cli_check_text_cached(cached, fp);
    cli_check_text_senders(v, fp);
    for (i = 0; i < v->warn_count; i++)
	fprintf(fp, "  warning: %s\n", v->warn[i]);
    if (cli_check_txt_warning(v, buf, sizeof(buf)))
	fprintf(fp, "  warning: %s\n", buf);
    fprintf(fp, "  time: dns %ld ms, fetch %ld ms, probe %ld ms, total %ld ms\n",
	    v->dns_ms, v->fetch_ms, v->probe_ms, v->total_ms);
    fprintf(fp, "  verdict: %s: %s\n", verdict_name(v->verdict), v->explanation);
    return (ferror(fp) ? -1 : 0);
}

int     cli_check_print(const VERDICT *v, int json, FILE *fp)
{
    json_t *results;

    if (!json)
	return (cli_check_text(v, 0, fp));
    if ((results = json_array()) == 0)
	return (-1);
    json_array_append_new(results, cli_json_domain(v, 0));
    return (cli_json_dump(cli_json_document(results), fp));
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
    CACHE_OPTS copts;
    CACHE  *shared = 0;
    CACHE_STATS cst;
    CLI_CACHED cached;
    VERDICT *v = 0;
    json_t *all = 0;
    WHY     why;
    int     shared_up = 0;
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
    copts = opts.cache;
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
    /*
     * What the cluster applies: the configured shared cache, opened
     * read-only (an LMDB file is never created) and only peeked at.
     */
    copts.read_only = 1;
    copts.memory_entries = 1;
    (void) str_copy(cst.state, sizeof(cst.state), "");
    if (copts.backend == CACHE_BACKEND_LMDB && (copts.path == 0 || access(copts.path, F_OK) != 0)) {
	(void) snprintf(cst.state, sizeof(cst.state), "no cache file %s", copts.path ? copts.path : "");
    } else if (copts.backend != CACHE_BACKEND_MEMORY && cache_open(&copts, &shared, &why) == STATUS_OK) {
	cache_stats(shared, &cst);
	shared_up = strcmp(cst.backend, "memory") != 0;
    }
    if (json && (all = json_array()) == 0) {
	ret = CLI_EX_SOFTWARE;
	goto out;
    }
    ret = CLI_EX_OK;
    for (i = optind; i < argc; i++) {
	if (route_check(route, argv[i], route_conf_budget_ms(conf), ROUTE_TLSRPT, &v, &why) != STATUS_OK) {
	    cli_error("check: %s: %s", argv[i], why_text(&why));
	    ret = CLI_EX_DATAERR;
	    /* JSON: an entry with the error, never dropped. */
	    if (all)
		json_array_append_new(all, cli_json_error(argv[i], why_text(&why)));
	    continue;
	}
	if (cli_check_exit(v->verdict) > worst)
	    worst = cli_check_exit(v->verdict);
	cli_check_cached(shared, &copts, shared_up, cst.state, v, &cached);
	if (cached.state == CLI_CACHED_ERROR && copts.backend == CACHE_BACKEND_LMDB
	    && strncmp(cst.state, "no cache file", 13) == 0) {
	    cached.state = CLI_CACHED_NONE;	/* nothing was ever cached here */
	    (void) snprintf(cached.note, sizeof(cached.note), "%s: nothing cached on this host", cst.state);
	}
	if (all)
	    json_array_append_new(all, cli_json_domain(v, &cached));
	else if (cli_check_text(v, &cached, stdout) != 0)
	    ret = CLI_EX_IOERR;
	verdict_free(&v);
    }
    if (all && cli_json_dump(cli_json_document(all), stdout) != 0)
	ret = CLI_EX_IOERR;
    all = 0;
    if (ret == CLI_EX_OK)
	ret = worst;

out:
    json_decref(all);
    cache_free(&shared);
    route_free(&route);
    conf_unref(&conf);
    return (ret);
}
