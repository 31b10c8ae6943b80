/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route-refresh 1
 * SUMMARY
 *	test driver: the engine's background refresh under a movable clock
 * SYNOPSIS
 *	route-refresh CONFIG DOMAIN STEP...
 * DESCRIPTION
 *	Builds one engine from CONFIG with a proactive refresh scan every
 *	50 ms and clock_now() = the real time plus an offset, then runs
 *	the steps in order:
 *	c	check DOMAIN; prints "DOMAIN VERDICT cached=N"
 *	+N	move the clock N seconds forward (1 to 10^7)
 *	wN	sleep N milliseconds (1 to 60000)
 *	!CMD	run CMD with system(3)
 *	The engine logs to stderr; tests read its refresh lines (issue 4).
 *	Exit 0, 1 on setup errors, 64 on usage errors.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "conf.h"
#include "route.h"
#include "route_conf.h"
#include "status.h"
#include "str.h"
#include "verdict.h"

static pthread_mutex_t offset_lock = PTHREAD_MUTEX_INITIALIZER;
static long offset;

static time_t moved_clock(void)
{
    long    o;

    (void) pthread_mutex_lock(&offset_lock);
    o = offset;
    (void) pthread_mutex_unlock(&offset_lock);
    return (time(0) + o);
}

int     main(int argc, char **argv)
{
    ROUTE_OPTS opts;
    ROUTE  *route = 0;
    CONF   *conf = 0;
    VERDICT *v = 0;
    WHY     why;
    long    n;
    int     status = 1;
    int     i;

    if (argc < 4) {
	fprintf(stderr, "usage: route-refresh CONFIG DOMAIN STEP...\n");
	return (64);
    }
    if (conf_load(argv[1], &conf, &why) != STATUS_OK) {
	fprintf(stderr, "%s\n", why.text);
	goto done;
    }
    clock_set_source(moved_clock);
    route_conf_opts(conf, &opts);
    opts.refresh_tick_ms = 50;
    if (route_create(&opts, &route, &why) != STATUS_OK) {
	fprintf(stderr, "route_create: %s\n", why.text);
	goto done;
    }
    for (i = 3; i < argc; i++) {
	(void) fflush(stdout);
	if (argv[i][0] == 'c' && argv[i][1] == 0) {
	    if (route_check(route, argv[2], route_conf_budget_ms(conf), 0, &v, &why) != STATUS_OK) {
		printf("%s error %s\n", argv[2], why.text);
		continue;
	    }
	    printf("%s %s cached=%d\n", v->domain, verdict_name(v->verdict), v->policy_cached);
	    verdict_free(&v);
	} else if (argv[i][0] == '+' && str_to_long(argv[i] + 1, 1, 10000000L, &n) == 0) {
	    (void) pthread_mutex_lock(&offset_lock);
	    offset += n;
	    (void) pthread_mutex_unlock(&offset_lock);
	} else if (argv[i][0] == 'w' && str_to_long(argv[i] + 1, 1, 60000L, &n) == 0) {
	    (void) usleep((useconds_t) (n * 1000));
	} else if (argv[i][0] == '!') {
	    if (system(argv[i] + 1) != 0)
		printf("step failed: %s\n", argv[i] + 1);
	} else {
	    fprintf(stderr, "route-refresh: bad step: %s\n", argv[i]);
	    status = 64;
	    goto done;
	}
    }
    status = 0;

done:
    (void) fflush(stdout);
    route_free(&route);
    conf_unref(&conf);
    clock_set_source(0);
    return (status);
}
