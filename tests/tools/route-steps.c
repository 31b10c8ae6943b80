/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route-steps 1
 * SUMMARY
 *	test driver: several route_check() calls on one engine
 * SYNOPSIS
 *	route-steps CONFIG STEP...
 * DESCRIPTION
 *	Builds one engine from CONFIG (as the daemons do) and runs each
 *	STEP in order: "!COMMAND" runs COMMAND with system(3) (to change the
 *	world between checks); "+DOMAIN" checks with ROUTE_FIRST (as the
 *	front ends do); "=DOMAIN" asks route_answer() with ROUTE_FIRST (the
 *	warm path of the front ends), "=DOMAIN*N" N times; anything else
 *	is a domain to check. Each check prints one line:
 *	DOMAIN VERDICT cached=0|1 has_policy=0|1 reason=LABEL total_ms=N warnings=W1|W2
 *	and each answer step one line:
 *	=DOMAIN VERDICT kept=0|1 stale=0|1 reasons=R life=S same=N
 *	(life: seconds the answer may be kept, from when it was made; same:
 *	how many of the N answers had the first one's verdict and reasons;
 *	the flags are the last answer's). "?rebuilds" prints
 *	"rebuilds=N": the background answer rebuilds run so far (the
 *	engine's stsfilter_refreshes_total{kind="rebuild"}).
 *	so that tests can watch the policy cache (RFC 8461 section 5.1)
 *	across changes of the world. With ROUTE_STEPS_HOSTS=1 in the
 *	environment, each check line is followed by one line per MX host:
 *	"  host NAME passed=0|1 dane=0|1 reason=LABEL valid=N|none", N being
 *	the host result's valid_until minus clock_now() in seconds (none: 0,
 *	no limit). Exit 0, or 1 on setup errors.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conf.h"
#include "metrics.h"
#include "route.h"
#include "route_conf.h"
#include "status.h"
#include "verdict.h"

/* "=DOMAIN[*N]": route_answer() N times, one line. */

static void answer_step(ROUTE *route, CONF *conf, const char *arg)
{
    char    domain[300];
    const char *star = strchr(arg, '*');
    ANSWER  first, a;
    WHY     why;
    long    n = star ? atol(star + 1) : 1;
    long    same = 0;
    long    k;

    (void) snprintf(domain, sizeof(domain), "%.*s", star ? (int) (star - arg) : (int) strlen(arg), arg);
    for (k = 0; k < n; k++) {
	if (route_answer(route, domain, route_conf_budget_ms(conf), ROUTE_FIRST, &a, 0, 0, &why) != STATUS_OK) {
	    printf("=%s error %s\n", domain, why.text);
	    return;
	}
	if (k == 0)
	    first = a;
	if (a.verdict == first.verdict && strcmp(a.reasons, first.reasons) == 0)
	    same++;
    }
    printf("=%s %s kept=%d stale=%d reasons=%s life=%ld same=%ld\n", domain, verdict_name(a.verdict), a.kept,
	   a.stale, a.reasons, a.until > a.built ? (long) (a.until - a.built) : 0L, same);
}

/* "?rebuilds": the rebuild counter, from the engine's own metrics. */

static void rebuilds_step(void)
{
    static char buf[65536];
    const char *name = "stsfilter_refreshes_total{kind=\"rebuild\"} ";
    size_t  len = 0;
    char   *p;

    if (metrics_render(buf, sizeof(buf), &len) != STATUS_OK || (p = strstr(buf, name)) == 0) {
	printf("rebuilds=unknown\n");
	return;
    }
    printf("rebuilds=%ld\n", atol(p + strlen(name)));
}

int     main(int argc, char **argv)
{
    CONF   *conf = 0;
    ROUTE  *route = 0;
    ROUTE_OPTS opts;
    VERDICT *v = 0;
    WHY     why;
    int     i, j;

    if (argc < 3) {
	fprintf(stderr, "usage: route-steps CONFIG STEP...\n");
	return (64);
    }
    if (conf_load(argv[1], &conf, &why) != STATUS_OK) {
	fprintf(stderr, "%s\n", why.text);
	return (1);
    }
    route_conf_opts(conf, &opts);
    if (route_create(&opts, &route, &why) != STATUS_OK) {
	fprintf(stderr, "route_create: %s\n", why.text);
	return (1);
    }
    for (i = 2; i < argc; i++) {
	if (argv[i][0] == '!') {
	    fflush(stdout);
	    if (system(argv[i] + 1) != 0)
		printf("step failed: %s\n", argv[i] + 1);
	    continue;
	}
	if (argv[i][0] == '=') {
	    answer_step(route, conf, argv[i] + 1);
	    continue;
	}
	if (strcmp(argv[i], "?rebuilds") == 0) {
	    rebuilds_step();
	    continue;
	}
	int     flags = argv[i][0] == '+' ? ROUTE_FIRST : 0;
	const char *domain = argv[i] + (flags ? 1 : 0);

	if (route_check(route, domain, route_conf_budget_ms(conf), flags, &v, &why) != STATUS_OK) {
	    printf("%s error %s\n", argv[i], why.text);
	    continue;
	}
	printf("%s %s cached=%d has_policy=%d reason=%s total_ms=%ld warnings=", v->domain,
	       verdict_name(v->verdict), v->policy_cached, v->has_policy, verdict_reason_label(v->reason),
	       v->total_ms);
	for (j = 0; j < v->warn_count; j++)
	    printf("%s%s", j ? "|" : "", v->warn[j]);
	printf("\n");
	if (getenv("ROUTE_STEPS_HOSTS") && strcmp(getenv("ROUTE_STEPS_HOSTS"), "1") == 0)
	    for (j = 0; j < v->host_count; j++) {
		const VERDICT_HOST *h = &v->host[j];

		printf("  host %s passed=%d dane=%d reason=%s valid=", h->name, h->passed, h->dane,
		       verdict_reason_label(h->reason));
		if (h->valid_until)
		    printf("%lld\n", (long long) (h->valid_until - clock_now()));
		else
		    printf("none\n");
	    }
	verdict_free(&v);
    }
    route_free(&route);
    conf_unref(&conf);
    return (0);
}
