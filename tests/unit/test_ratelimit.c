/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_ratelimit 1
 * SUMMARY
 *	unit tests for ratelimit.c (the new-domain token bucket)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_ratelimit
 * DESCRIPTION
 *	Table-driven from tests/unit/data/ratelimit-steps.txt (its header
 *	gives the format): scenarios run step by step with the clock
 *	injected through clock_set_source() (clock.h), so refill, burst,
 *	expiry of known keys and the bound on known keys are tested
 *	without sleeping. Also: bad parameters are refused, and a long
 *	key is never remembered.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "ratelimit.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

static time_t test_now;

static time_t test_clock(void)
{
    return (test_now);
}

typedef struct CTX {
    RATELIMIT *rl;
    int     failures;
    int     steps;
} CTX;

static int row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = (CTX *) ctx;
    long    a = 0, b = 0, m = 0, t = 0, want = 0;
    int     got;

    if (nfield != 5 && nfield != 4)
	fail_msg("ratelimit-steps.txt:%d: want 4 or 5 fields, got %d", lineno, nfield);
    if (strcmp(field[0], "new") == 0) {
	ratelimit_free(&c->rl);
	test_now = 1000000;
	if (nfield != 5 || str_to_long(field[1], 0, 1000000, &a) || str_to_long(field[2], 1, 1000000, &b)
	    || str_to_long(field[3], 1, 1000000, &m) || str_to_long(field[4], 1, 1000000, &t))
	    fail_msg("ratelimit-steps.txt:%d: bad new", lineno);
	assert_int_equal(ratelimit_create(a, b, (int) m, t, &c->rl), STATUS_OK);
	return (0);
    }
    if (c->rl == 0 || str_to_long(field[0], 0, 2000000000L, &t) != 0)
	fail_msg("ratelimit-steps.txt:%d: bad step", lineno);
    test_now = (time_t) t;
    c->steps++;
    if (strcmp(field[1], "admit") == 0) {
	if (str_to_long(field[3], 0, 1, &want) != 0)
	    fail_msg("ratelimit-steps.txt:%d: bad expectation", lineno);
	if ((got = ratelimit_admit(c->rl, field[2])) != want) {
	    print_error("ratelimit-steps.txt:%d: admit %s at %ld: want %ld, got %d\n", lineno, field[2], t,
			want, got);
	    c->failures++;
	}
    } else if (strcmp(field[1], "know") == 0) {
	ratelimit_know(c->rl, field[2]);
    } else if (strcmp(field[1], "known") == 0) {
	if (str_to_long(field[3], 0, 1, &want) != 0)
	    fail_msg("ratelimit-steps.txt:%d: bad expectation", lineno);
	if ((got = ratelimit_known(c->rl, field[2])) != want) {
	    print_error("ratelimit-steps.txt:%d: known %s at %ld: want %ld, got %d\n", lineno, field[2], t,
			want, got);
	    c->failures++;
	}
    } else if (strcmp(field[1], "refused") == 0) {
	if (str_to_long(field[3], 0, 1000000, &want) != 0)
	    fail_msg("ratelimit-steps.txt:%d: bad expectation", lineno);
	if (ratelimit_refused(c->rl) != want) {
	    print_error("ratelimit-steps.txt:%d: refused: want %ld, got %ld\n", lineno, want,
			ratelimit_refused(c->rl));
	    c->failures++;
	}
    } else {
	fail_msg("ratelimit-steps.txt:%d: bad op %s", lineno, field[1]);
    }
    return (0);
}

static void test_steps(void **state)
{
    CTX     c = {0, 0, 0};

    (void) state;
    clock_set_source(test_clock);
    (void) testdata_rows("ratelimit-steps.txt", '|', row, &c);
    ratelimit_free(&c.rl);
    clock_set_source(0);
    assert_true(c.steps >= 47);
    assert_int_equal(c.failures, 0);
}

static void test_bad_params(void **state)
{
    RATELIMIT *rl = (RATELIMIT *) 1;

    (void) state;
    assert_int_equal(ratelimit_create(-1, 1, 1, 1, &rl), STATUS_INVAL);
    assert_null(rl);
    assert_int_equal(ratelimit_create(1, 0, 1, 1, &rl), STATUS_INVAL);
    assert_int_equal(ratelimit_create(1, 1, 0, 1, &rl), STATUS_INVAL);
    assert_int_equal(ratelimit_create(1, 1, 1, 0, &rl), STATUS_INVAL);
    assert_null(rl);
    ratelimit_free(&rl);
    assert_int_equal(ratelimit_admit(0, "x"), 1);
    ratelimit_know(0, "x");
    assert_int_equal(ratelimit_refused(0), 0);
    assert_int_equal(ratelimit_known(0, "x"), 1);
}

/* A key over RATELIMIT_KEY_MAX takes a token every time: never remembered. */

static void test_long_key(void **state)
{
    char    key[RATELIMIT_KEY_MAX + 2];
    RATELIMIT *rl = 0;

    (void) state;
    test_now = 5000;
    clock_set_source(test_clock);
    memset(key, 'a', sizeof(key) - 1);
    key[sizeof(key) - 1] = 0;
    assert_int_equal(ratelimit_create(60, 2, 10, 100, &rl), STATUS_OK);
    assert_int_equal(ratelimit_admit(rl, key), 1);
    assert_int_equal(ratelimit_admit(rl, key), 1);
    assert_int_equal(ratelimit_admit(rl, key), 0);
    ratelimit_free(&rl);
    assert_null(rl);
    clock_set_source(0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_steps),
	cmocka_unit_test(test_bad_params),
	cmocka_unit_test(test_long_key),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
