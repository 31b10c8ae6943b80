/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache-bench 1
 * SUMMARY
 *	benchmark driver: warm-cache costs of the policy cache
 * SYNOPSIS
 *	cache-bench CONFIG N DOMAIN...
 * DESCRIPTION
 *	Builds one engine from CONFIG (cache_backend as configured), checks
 *	each DOMAIN once to warm the cache, then times N more route_check()
 *	calls per domain and prints per domain the median, 10th and 90th
 *	percentile in microseconds, with the verdict. It also times N
 *	lookups on the cache alone: from the in-process layer
 *	(cache_policy_get()/cache_negative_get()) and from the backend
 *	(cache_policy_get_shared(), policies only), so that the backend's
 *	cost shows apart from DNS and probes. Output lines:
 *	BACKEND route DOMAIN VERDICT median=US p10=US p90=US
 *	BACKEND l1|backend DOMAIN median=US ...
 *	Used by bench/cache-warm; not part of the test suite.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "clock.h"
#include "conf.h"
#include "route.h"
#include "route_conf.h"
#include "status.h"
#include "verdict.h"

static double now_us(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ts.tv_sec * 1e6 + ts.tv_nsec / 1e3);
}

static int cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x < y ? -1 : x > y);
}

static void report(const char *backend, const char *what, const char *domain, const char *extra,
		           double *t, int n)
{
    qsort(t, (size_t) n, sizeof(*t), cmp);
    printf("%s %s %s %s median=%.1f p10=%.1f p90=%.1f\n", backend, what, domain, extra,
	   t[n / 2], t[n / 10], t[n * 9 / 10]);
}

int     main(int argc, char **argv)
{
    CONF   *conf = 0;
    ROUTE  *route = 0;
    CACHE  *cache = 0;
    ROUTE_OPTS opts;
    CACHE_POLICY got;
    VERDICT *v = 0;
    WHY     why;
    double *t, t0;
    long    n;
    int     i, d, k;
    const char *backend;

    if (argc < 4 || (n = strtol(argv[2], 0, 10)) < 10 || n > 1000000) {
	fprintf(stderr, "usage: cache-bench CONFIG N(>=10) DOMAIN...\n");
	return (64);
    }
    if (conf_load(argv[1], &conf, &why) != STATUS_OK) {
	fprintf(stderr, "%s\n", why.text);
	return (1);
    }
    route_conf_opts(conf, &opts);
    backend = conf_str(conf, CONF_CACHE_BACKEND);
    if (route_create(&opts, &route, &why) != STATUS_OK || cache_open(&opts.cache, &cache, &why) != STATUS_OK) {
	fprintf(stderr, "setup: %s\n", why.text);
	return (1);
    }
    if ((t = calloc((size_t) n, sizeof(*t))) == 0)
	return (1);
    for (d = 3; d < argc; d++) {
	if (route_check(route, argv[d], route_conf_budget_ms(conf), 0, &v, &why) != STATUS_OK)
	    return (1);
	verdict_free(&v);
	for (i = 0; i < n; i++) {
	    t0 = now_us();
	    if (route_check(route, argv[d], route_conf_budget_ms(conf), 0, &v, &why) != STATUS_OK)
		return (1);
	    t[i] = now_us() - t0;
	    k = v->verdict;
	    verdict_free(&v);
	}
	report(backend, "route", argv[d], verdict_name(k), t, (int) n);
	for (k = 0; k < 2; k++) {
	    for (i = 0; i < n; i++) {
		int     st;

		t0 = now_us();
		if (k == 0 && (st = cache_policy_get(cache, argv[d], &got)) != STATUS_OK)
		    st = cache_negative_get(cache, argv[d], &got);
		else if (k == 1)
		    st = cache_policy_get_shared(cache, argv[d], &got);
		t[i] = now_us() - t0;
		if (st == STATUS_OK)
		    cache_policy_clear(&got);
		else if (i == 0 && k == 1)
		    break;
	    }
	    if (i == n)
		report(backend, k == 0 ? "l1" : "backend", argv[d], "-", t, (int) n);
	}
    }
    free(t);
    cache_free(&cache);
    route_free(&route);
    conf_unref(&conf);
    return (0);
}
