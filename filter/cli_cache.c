/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cli_cache 3
 * SUMMARY
 *	`stsfilter cache show|purge|stats`: look at and clear the policy
 *	cache
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int	cli_cache(int argc, char **argv, const char *path, int given)
 * DESCRIPTION
 *	Glue only: opens the cache the configuration names (cache.h, the
 *	same backend and keys the filter uses) and runs one command
 *	(argv[0] is "cache"):
 *
 *	cache show DOMAIN	the domain's record: a policy (TXT id,
 *				when fetched, when the id was last seen,
 *				max_age, expiry, the policy text) or a
 *				negative entry (MX hosts, expiry); exit 1
 *				when there is none.
 *	cache purge DOMAIN	delete the domain's record (exit 1: none).
 *	cache purge --all	delete every record (Redis: keys under
 *				redis_key_prefix only).
 *				Both leave a purge notice in the backend
 *				(cache_purge_notice()), by which the
 *				running daemons drop their own copies
 *				within a second; exit CLI_EX_UNAVAILABLE
 *				when it cannot be written.
 *	cache stats		entries in the backend and in this
 *				process, this process's hit counters, and
 *				the backend's state.
 *
 *	When the backend cannot be opened, the commands work on an empty
 *	in-process cache and stats says so; exit CLI_EX_UNAVAILABLE for
 *	show and purge then, since they would say nothing true.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "cli.h"
#include "conf.h"
#include "domain.h"
#include "route.h"
#include "route_conf.h"
#include "status.h"
#include "text.h"

static const char cli_cache_usage[] =
"usage: stsfilter [-c FILE] cache show DOMAIN\n"
"       stsfilter [-c FILE] cache purge DOMAIN|--all\n"
"       stsfilter [-c FILE] cache stats\n";

/* Print a time as UTC ISO 8601, or "-" for zero. */

static void cli_cache_time(const char *label, time_t t)
{
    struct tm tm;
    char    buf[64];

    if (t == 0 || gmtime_r(&t, &tm) == 0 || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
	(void) printf("%-10s -\n", label);
    else
	(void) printf("%-10s %s\n", label, buf);
}

static int cli_cache_show(CACHE *cache, const char *domain)
{
    CACHE_POLICY rec;
    char    line[1024];
    char   *p, *next;
    time_t  now = time(0);

    if (cache_policy_get(cache, domain, &rec) == STATUS_OK) {
	(void) printf("domain     %s\nkind       policy\ntxt_id     %s\n", domain, rec.txt_id);
	cli_cache_time("fetched", rec.fetched);
	cli_cache_time("checked", rec.checked ? rec.checked : rec.fetched);
	(void) printf("max_age    %ld\n", rec.max_age);
	cli_cache_time("expires", rec.fetched + rec.max_age);
	(void) printf("remaining  %ld s\npolicy:\n", (long) (rec.fetched + rec.max_age - now));
    } else if (cache_negative_get(cache, domain, &rec) == STATUS_OK) {
	(void) printf("domain     %s\nkind       negative (no MTA-STS, no DNSSEC-secure MX)\n", domain);
	cli_cache_time("stored", rec.fetched);
	cli_cache_time("expires", rec.expires);
	(void) printf("remaining  %ld s\nmx:\n", (long) (rec.expires - now));
    } else {
	(void) printf("%s: no cache entry\n", domain);
	return (CLI_EX_INVALID);
    }
    /* Cached text came from the network or a backend: sanitize each line. */
    for (p = rec.body; p && *p; p = next) {
	if ((next = strchr(p, '\n')) != 0)
	    *next++ = 0;
	(void) text_sanitize(line, sizeof(line), p);
	(void) printf("  %s\n", line);
    }
    cache_policy_clear(&rec);
    return (CLI_EX_OK);
}

/* cli_cache_notice - tell the running daemons (domain null: everything) */

static int cli_cache_notice(CACHE *cache, const char *domain)
{
    int     ret = CLI_EX_OK;

    if (cache_purge_notice(cache, domain) != STATUS_OK) {
	cli_error("cache: the purge notice could not be written: running daemons keep their copy of %s"
		  " until it expires or they restart", domain ? domain : "every entry");
	ret = CLI_EX_UNAVAILABLE;
    }
    return (ret);
}

static int cli_cache_stats(CACHE *cache)
{
    CACHE_STATS s;

    cache_stats(cache, &s);
    (void) printf("backend          %s\nstate            %s\n", s.backend, s.state);
    if (s.backend_entries >= 0)
	(void) printf("backend entries  %ld\n", s.backend_entries);
    else
	(void) printf("backend entries  unknown\n");
    (void) printf("process entries  %ld (%ld bytes)\n", s.l1_entries, s.l1_bytes);
    (void) printf("process lookups  %ld (memory hits %ld, backend hits %ld, misses %ld, "
		  "backend errors %ld, corrupt %ld)\n", s.lookups, s.l1_hits, s.backend_hits,
		  s.misses, s.backend_errors, s.corrupt);
    return (CLI_EX_OK);
}

int     cli_cache(int argc, char **argv, const char *path, int given)
{
    CONF   *conf = 0;
    CACHE  *cache = 0;
    ROUTE_OPTS opts;
    CACHE_STATS st;
    WHY     why;
    char    domain[DOMAIN_MAX + 1];
    const char *cmd = argc > 1 ? argv[1] : "";
    int     ret = CLI_EX_USAGE;

    if (!((strcmp(cmd, "show") == 0 && argc == 3) || (strcmp(cmd, "purge") == 0 && argc == 3)
	  || (strcmp(cmd, "stats") == 0 && argc == 2))) {
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
	    (void) fputs(cli_cache_usage, stdout);
	    ret = CLI_EX_OK;
	} else {
	    cli_error("cache: expected show DOMAIN, purge DOMAIN|--all or stats");
	    (void) fputs(cli_cache_usage, stderr);
	}
	goto out;
    }
    if (argc == 3 && strcmp(argv[2], "--all") != 0
	&& domain_normalize(argv[2], domain, sizeof(domain), &why) != STATUS_OK) {
	cli_error("cache: %s", why_text(&why));
	ret = CLI_EX_DATAERR;
	goto out;
    }
    if ((ret = cli_load_conf(path, given, &conf)) != CLI_EX_OK)
	goto out;
    route_conf_opts(conf, &opts);
    if (cache_open(&opts.cache, &cache, &why) != STATUS_OK) {
	cli_error("cache: %s", why_text(&why));
	ret = CLI_EX_UNAVAILABLE;
	goto out;
    }
    if (strcmp(cmd, "stats") == 0) {
	ret = cli_cache_stats(cache);
	goto out;
    }
    cache_stats(cache, &st);
    if (opts.cache.backend != CACHE_BACKEND_MEMORY && strcmp(st.backend, "memory") == 0) {
	cli_error("cache: the %s backend is unavailable", opts.cache.backend == CACHE_BACKEND_LMDB ? "lmdb" : "redis");
	ret = CLI_EX_UNAVAILABLE;
	goto out;
    }
    if (strcmp(cmd, "show") == 0) {
	ret = cli_cache_show(cache, domain);
    } else if (strcmp(argv[2], "--all") == 0) {
	if (cache_purge_all(cache) != STATUS_OK) {
	    cli_error("cache: purge failed (%s)", st.state);
	    ret = CLI_EX_UNAVAILABLE;
	} else {
	    (void) printf("purged all entries\n");
	    ret = cli_cache_notice(cache, 0);
	}
    } else {
	/* Notice even without an entry here: a daemon may still hold a copy. */
	if (cache_policy_delete(cache, domain) == STATUS_OK) {
	    (void) printf("%s: purged\n", domain);
	    ret = CLI_EX_OK;
	} else {
	    (void) printf("%s: no cache entry\n", domain);
	    ret = CLI_EX_INVALID;
	}
	if (cli_cache_notice(cache, domain) != CLI_EX_OK)
	    ret = CLI_EX_UNAVAILABLE;
    }

out:
    if (fflush(stdout) != 0 && ret == CLI_EX_OK)
	ret = CLI_EX_IOERR;
    cache_free(&cache);
    conf_unref(&conf);
    return (ret);
}
