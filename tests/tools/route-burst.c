/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route-burst 1
 * SUMMARY
 *	test driver: N concurrent route_check() calls of one domain
 * SYNOPSIS
 *	route-burst CONFIG N DOMAIN
 * DESCRIPTION
 *	Builds one engine from CONFIG, starts N threads (at most 256) that
 *	wait on one barrier and then each check DOMAIN once, and prints
 *	one line per verdict name with its count: "VERDICT COUNT", then
 *	"errors=E". Tests count the policy fetches in the world's access
 *	log to see single flight (issue 4). Exit 0, or 1 on setup errors.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "conf.h"
#include "route.h"
#include "route_conf.h"
#include "status.h"
#include "verdict.h"

#define BURST_MAX 256

static ROUTE *route;
static CONF *conf;
static const char *domain;
static pthread_barrier_t barrier;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int counts[VERDICT_COUNT];
static int errors;

static void *burst_one(void *arg)
{
    VERDICT *v = 0;
    WHY     why;

    (void) arg;
    (void) pthread_barrier_wait(&barrier);
    if (route_check(route, domain, route_conf_budget_ms(conf), 0, &v, &why) != STATUS_OK) {
	(void) pthread_mutex_lock(&lock);
	errors++;
	(void) pthread_mutex_unlock(&lock);
	return (0);
    }
    (void) pthread_mutex_lock(&lock);
    counts[v->verdict]++;
    (void) pthread_mutex_unlock(&lock);
    verdict_free(&v);
    return (0);
}

int     main(int argc, char **argv)
{
    ROUTE_OPTS opts;
    pthread_t tid[BURST_MAX];
    WHY     why;
    long    n;
    int     i;

    if (argc != 4 || (n = strtol(argv[2], 0, 10)) < 1 || n > BURST_MAX) {
	fprintf(stderr, "usage: route-burst CONFIG N(1-%d) DOMAIN\n", BURST_MAX);
	return (64);
    }
    domain = argv[3];
    if (conf_load(argv[1], &conf, &why) != STATUS_OK) {
	fprintf(stderr, "%s\n", why.text);
	return (1);
    }
    route_conf_opts(conf, &opts);
    if (route_create(&opts, &route, &why) != STATUS_OK) {
	fprintf(stderr, "route_create: %s\n", why.text);
	return (1);
    }
    (void) pthread_barrier_init(&barrier, 0, (unsigned) n);
    for (i = 0; i < n; i++)
	if (pthread_create(&tid[i], 0, burst_one, 0) != 0)
	    return (1);
    for (i = 0; i < n; i++)
	(void) pthread_join(tid[i], 0);
    for (i = 0; i < VERDICT_COUNT; i++)
	if (counts[i])
	    printf("%s %d\n", verdict_name(i), counts[i]);
    printf("errors=%d\n", errors);
    route_free(&route);
    conf_unref(&conf);
    return (0);
}
