/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache-scale 1
 * SUMMARY
 *	bench driver: the cache at scale (memory and file size)
 * SYNOPSIS
 *	cache-scale fill lmdb PATH N
 *	cache-scale distinct redis HOST:PORT CHUNK CHUNKS
 * DESCRIPTION
 *	Drives the cache API (cache.h) the way a daemon does, with the
 *	daemon's defaults for the in-process layer (cache_memory_entries
 *	100000, cache_memory_bytes 64m) and the backend's defaults
 *	(lmdb_map_size), and prints one JSON line per measurement.
 *
 *	fill: N policies (a realistic 110-byte enforce policy) and N
 *	negative entries (one MX host) for distinct domains, then one
 *	lookup of each of the last 100000 of each kind; prints the
 *	process's anonymous memory (RssAnon), the LMDB file's size, the
 *	records in the backend, and how many puts failed (never expected).
 *
 *	distinct: CHUNKS chunks of CHUNK lookups of distinct domains, each
 *	a miss followed by the negative put that the engine makes after a
 *	check (so that Redis holds every key); prints RssAnon after each
 *	chunk.
 *
 *	Used by bench/run; not part of the test suite.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache.h"
#include "clock.h"
#include "status.h"
#include "str.h"
#include "why.h"

static long rss_anon_kib(void)
{
    FILE   *fp = fopen("/proc/self/status", "r");
    char    line[256];
    long    kib = -1;

    if (fp == 0)
	return (-1);
    while (fgets(line, sizeof(line), fp))
	if (strncmp(line, "RssAnon:", 8) == 0)
	    kib = strtol(line + 8, 0, 10);
    (void) fclose(fp);
    return (kib);
}

static double now_s(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static const char policy_body[] =
    "version: STSv1\nmode: enforce\nmx: mx1.example-domain.test\nmx: *.example-domain.test\nmax_age: 604800\n";

int     main(int argc, char **argv)
{
    CACHE_OPTS o;
    CACHE  *c = 0;
    CACHE_POLICY p, got;
    CACHE_STATS st;
    WHY     why;
    char    dom[128];
    char    hosts[160];
    struct stat sb;
    long    n, i, k, chunk, chunks;
    long    failed = 0, found = 0;
    double  t0;

    if (argc != 5 && argc != 6) {
	fprintf(stderr, "usage: cache-scale fill lmdb PATH N | distinct redis HOST:PORT CHUNK CHUNKS\n");
	return (64);
    }
    memset(&o, 0, sizeof(o));
    o.memory_entries = 100000;
    o.memory_bytes = 64L * 1024 * 1024;
    o.redis_key_prefix = "stsbench:";
    o.redis_connect_timeout_ms = 1000;
    o.redis_command_timeout_ms = 1000;
    if (strcmp(argv[2], "lmdb") == 0) {
	o.backend = CACHE_BACKEND_LMDB;
	o.path = argv[3];
    } else {
	o.backend = CACHE_BACKEND_REDIS;
	o.redis_server = argv[3];
    }
    if (cache_open(&o, &c, &why) != STATUS_OK) {
	fprintf(stderr, "cache-scale: %s\n", why_text(&why));
	return (1);
    }
    t0 = now_s();
    if (strcmp(argv[1], "fill") == 0 && argc == 5) {
	n = strtol(argv[4], 0, 10);
	for (i = 0; i < n; i++) {
	    memset(&p, 0, sizeof(p));
	    (void) snprintf(dom, sizeof(dom), "pol%07ld.scale.test", i);
	    (void) str_copy(p.txt_id, sizeof(p.txt_id), "20261101T000000");
	    p.fetched = clock_now();
	    p.max_age = 604800;
	    p.body = (char *) policy_body;
	    p.len = sizeof(policy_body) - 1;
	    if (cache_policy_put(c, dom, &p) != STATUS_OK)
		failed++;
	    (void) snprintf(dom, sizeof(dom), "neg%07ld.scale.test", i);
	    (void) snprintf(hosts, sizeof(hosts), "10 mx.%s\n", dom);
	    if (cache_negative_put(c, dom, hosts, 3600) != STATUS_OK)
		failed++;
	}
	for (i = n > 100000 ? n - 100000 : 0; i < n; i++) {
	    (void) snprintf(dom, sizeof(dom), "pol%07ld.scale.test", i);
	    if (cache_policy_get(c, dom, &got) == STATUS_OK)
		found++;
	    cache_policy_clear(&got);
	    (void) snprintf(dom, sizeof(dom), "neg%07ld.scale.test", i);
	    if (cache_negative_get(c, dom, &got) == STATUS_OK)
		found++;
	    cache_policy_clear(&got);
	}
	cache_stats(c, &st);
	printf("{\"mode\": \"fill\", \"policies\": %ld, \"negatives\": %ld, \"failed_puts\": %ld, \"found\": %ld, "
	       "\"backend_entries\": %ld, \"rss_anon_kib\": %ld, \"file_bytes\": %lld, \"seconds\": %.1f}\n",
	       n, n, failed, found, st.backend_entries, rss_anon_kib(),
	       stat(argv[3], &sb) == 0 ? (long long) sb.st_size : -1LL, now_s() - t0);
    } else if (strcmp(argv[1], "distinct") == 0 && argc == 6) {
	chunk = strtol(argv[4], 0, 10);
	chunks = strtol(argv[5], 0, 10);
	for (k = 0; k < chunks; k++) {
	    for (i = 0; i < chunk; i++) {
		(void) snprintf(dom, sizeof(dom), "d%ld-%ld.distinct.test", k, i);
		if (cache_negative_get(c, dom, &got) == STATUS_OK)
		    found++;
		cache_policy_clear(&got);
		(void) snprintf(hosts, sizeof(hosts), "10 mx.%s\n", dom);
		if (cache_negative_put(c, dom, hosts, 600) != STATUS_OK)
		    failed++;
	    }
	    printf("{\"mode\": \"distinct\", \"chunk\": %ld, \"lookups\": %ld, \"rss_anon_kib\": %ld, "
		   "\"failed_puts\": %ld, \"seconds\": %.1f}\n", k + 1, (k + 1) * chunk, rss_anon_kib(), failed,
		   now_s() - t0);
	    (void) fflush(stdout);
	}
	(void) cache_purge_all(c);
    } else {
	fprintf(stderr, "cache-scale: bad arguments\n");
	cache_free(&c);
	return (64);
    }
    cache_free(&c);
    return (0);
}
