/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_route_pool 1
 * SUMMARY
 *	unit tests for route_pool.c (the probe pool: single flight per
 *	host job, the bound, shutdown)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_route_pool
 * DESCRIPTION
 *	The seam is route_host(), the job the pool runs: this file defines
 *	a fake that counts its calls and blocks until the test opens a
 *	gate, so that jobs stay queued or running as long as a test needs.
 *	- route-pool-keys.txt (its header gives the format): which pairs
 *	  of keys share one job;
 *	- two requests for one host make one route_host() call, and
 *	  route_pool_wait() returns when it is done;
 *	- ROUTE_PROBE_JOBS_MAX jobs fit, one more is refused with "probe
 *	  queue full" (an existing one can still be joined);
 *	- route_pool_stop() completes a queued job as REASON_NOT_PROBED
 *	  without running it.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "str.h"
#include "verdict.h"
#include "route_impl.h"
#include "testdata.h"

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open;				/* 1: route_host() returns */
static int calls;				/* route_host() calls */

/* The fake job: count, wait for the gate, pass. */

void    route_host(ROUTE *r, ROUTE_PROBE *job)
{
    (void) r;
    (void) pthread_mutex_lock(&gate_lock);
    calls++;
    (void) pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
	(void) pthread_cond_wait(&gate_cond, &gate_lock);
    (void) pthread_mutex_unlock(&gate_lock);
    job->host.passed = 1;
    job->host.reason = REASON_NONE;
    job->candidate = 1;
    job->temp = 0;
}

static void gate(int open)
{
    (void) pthread_mutex_lock(&gate_lock);
    gate_open = open;
    (void) pthread_cond_broadcast(&gate_cond);
    (void) pthread_mutex_unlock(&gate_lock);
}

/* Wait until route_host() has been called n times. */

static void wait_calls(int n)
{
    (void) pthread_mutex_lock(&gate_lock);
    while (calls < n)
	(void) pthread_cond_wait(&gate_cond, &gate_lock);
    (void) pthread_mutex_unlock(&gate_lock);
}

static ROUTE *pool_new(void)
{
    ROUTE  *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    r->opts.probe_threads = 1;
    r->opts.probe_port = 25;
    assert_int_equal(route_pool_init(r), STATUS_OK);
    calls = 0;
    gate(0);
    return (r);
}

/*
 * Stop the pool with the stop flag raised before the gate opens, so that
 * the worker runs no queued job after the one it is in.
 */
static void pool_stop(ROUTE *r)
{
    (void) pthread_mutex_lock(&r->pool_lock);
    r->pool_stop = 1;
    (void) pthread_mutex_unlock(&r->pool_lock);
    gate(1);
    route_pool_stop(r);
}

static void pool_free(ROUTE *r)
{
    pool_stop(r);
    free(r);
}

static int key_row(void *ctx, int lineno, int nfield, char **field)
{
    ROUTE  *r = (ROUTE *) ctx;
    ROUTE_PROBE *a, *b;
    const char *why = "";
    long    f[7];
    int     i;

    if (nfield != 9)
	fail_msg("route-pool-keys.txt:%d: want 9 fields, got %d", lineno, nfield);
    for (i = 0; i < 7; i++)
	if (str_to_long(field[i < 3 ? i + 1 : i < 6 ? i + 2 : 8], 0, 1, &f[i]) != 0)
	    fail_msg("route-pool-keys.txt:%d: bad flag", lineno);
    (void) pthread_mutex_lock(&r->pool_lock);
    a = route_pool_join(r, field[0], (int) f[0], (int) f[1], (int) f[2], clock_mono_ms() + 60000, &why);
    b = route_pool_join(r, field[4], (int) f[3], (int) f[4], (int) f[5], clock_mono_ms() + 60000, &why);
    assert_non_null(a);
    assert_non_null(b);
    if ((a == b) != (f[6] == 1))
	fail_msg("route-pool-keys.txt:%d: want %s, got %s", lineno, f[6] ? "one job" : "two jobs",
		 a == b ? "one job" : "two jobs");
    route_pool_release(r, &a);
    route_pool_release(r, &b);
    (void) pthread_mutex_unlock(&r->pool_lock);
    return (0);
}

static void test_keys(void **state)
{
    ROUTE  *r = pool_new();

    (void) state;
    assert_true(testdata_rows("route-pool-keys.txt", '|', key_row, r) >= 6);
    pool_free(r);
}

/* Two requests for one host: one route_host() call; waiting ends when done. */

static void test_single_flight(void **state)
{
    ROUTE  *r = pool_new();
    ROUTE_PROBE *a, *b;
    const char *why = "";
    long long until = clock_mono_ms() + 30000;

    (void) state;
    (void) pthread_mutex_lock(&r->pool_lock);
    a = route_pool_join(r, "mx.example.test", 0, 1, 1, clock_mono_ms() + 60000, &why);
    b = route_pool_join(r, "mx.example.test", 0, 1, 1, clock_mono_ms() + 60000, &why);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    assert_int_equal(a->refs, 3);		/* two waiters and the pool */
    (void) pthread_mutex_unlock(&r->pool_lock);
    wait_calls(1);
    gate(1);
    (void) pthread_mutex_lock(&r->pool_lock);
    while (a->state != ROUTE_PROBE_DONE && clock_mono_ms() < until)
	(void) route_pool_wait(r, until);
    assert_int_equal(a->state, ROUTE_PROBE_DONE);
    assert_int_equal(a->host.passed, 1);
    assert_int_equal(a->refs, 2);		/* the pool let go */
    assert_int_equal(r->pool_jobs, 0);		/* out of the table */
    route_pool_release(r, &a);
    route_pool_release(r, &b);
    (void) pthread_mutex_unlock(&r->pool_lock);
    assert_int_equal(calls, 1);
    pool_free(r);
}

/* The bound: ROUTE_PROBE_JOBS_MAX jobs, then "probe queue full". */

static void test_bound(void **state)
{
    ROUTE  *r = pool_new();
    ROUTE_PROBE *job;
    const char *why = "";
    char    name[64];
    int     i;

    (void) state;
    (void) pthread_mutex_lock(&r->pool_lock);
    for (i = 0; i < ROUTE_PROBE_JOBS_MAX; i++) {
	(void) snprintf(name, sizeof(name), "mx%d.example.test", i);
	job = route_pool_join(r, name, 0, 1, 1, clock_mono_ms() + 60000, &why);
	assert_non_null(job);
	route_pool_release(r, &job);
    }
    job = route_pool_join(r, "one-more.example.test", 0, 1, 1, clock_mono_ms() + 60000, &why);
    assert_null(job);
    assert_string_equal(why, "probe queue full");
    /* A job that exists is still joined. */
    job = route_pool_join(r, "mx7.example.test", 0, 1, 1, clock_mono_ms() + 60000, &why);
    assert_non_null(job);
    route_pool_release(r, &job);
    (void) pthread_mutex_unlock(&r->pool_lock);
    wait_calls(1);				/* the one worker is inside the first job */
    pool_free(r);
    assert_int_equal(calls, 1);		/* the rest was never started */
}

/* Stop: a queued job is completed as not probed, never run. */

static void test_stop(void **state)
{
    ROUTE  *r = pool_new();
    ROUTE_PROBE *running, *queued;
    const char *why = "";

    (void) state;
    (void) pthread_mutex_lock(&r->pool_lock);
    running = route_pool_join(r, "running.example.test", 0, 1, 1, clock_mono_ms() + 60000, &why);
    queued = route_pool_join(r, "queued.example.test", 0, 1, 1, clock_mono_ms() + 60000, &why);
    assert_non_null(running);
    assert_non_null(queued);
    (void) pthread_mutex_unlock(&r->pool_lock);
    wait_calls(1);				/* the one worker is inside the first job */
    pool_stop(r);
    assert_int_equal(calls, 1);
    assert_int_equal(running->state, ROUTE_PROBE_DONE);
    assert_int_equal(running->host.passed, 1);
    assert_int_equal(queued->state, ROUTE_PROBE_DONE);
    assert_int_equal(queued->host.reason, REASON_NOT_PROBED);
    assert_int_equal(queued->temp, 1);
    assert_string_equal(queued->host.detail, "probe pool stopped");
    assert_int_equal(queued->refs, 1);		/* only this test's */
    route_pool_release(r, &running);
    route_pool_release(r, &queued);
    free(r);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_keys),
	cmocka_unit_test(test_single_flight),
	cmocka_unit_test(test_bound),
	cmocka_unit_test(test_stop),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
