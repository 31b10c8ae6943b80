/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_cache_sentinel 1
 * SUMMARY
 *	unit tests for finding the Redis primary through Sentinel (issue 14)
 * DESCRIPTION
 *	Table-driven from cache-sentinel.txt: cache_sentinel_create()
 *	reads the redis_sentinels addresses (port 26379 by default) and
 *	refuses bad ones, too many, or no redis_master_name; and
 *	cache_sentinel_primary() with no sentinel reachable (unix sockets
 *	that do not exist: no network) returns STATUS_RETRY with each
 *	sentinel's reason. Asking real sentinels, and following a
 *	failover, is tests/integration/sentinel.t.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cache_sentinel.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

static int sentinel_row(void *ctx, int lineno, int nfield, char **field)
{
    const char *list[CACHE_SENTINEL_MAX + 2];
    char    buf[1024];
    char   *p;
    int     n = 0;
    CACHE_SENTINEL *s = 0;
    CACHE_REDIS_ADDR primary;
    WHY     why;
    int     want = strcmp(field[2], "OK") == 0 ? STATUS_OK : STATUS_INVAL;
    int     got;

    (void) ctx;
    if (nfield != 5)
	fail_msg("cache-sentinel.txt:%d: want 5 fields", lineno);
    assert_int_equal(str_copy(buf, sizeof(buf), field[0]), 0);
    for (p = buf; p && n < CACHE_SENTINEL_MAX + 2; n++) {
	list[n] = p;
	if ((p = strchr(p, ',')) != 0)
	    *p++ = 0;
    }
    why.text[0] = 0;
    got = cache_sentinel_create(list, n, field[1], 0, 0, 100, 100, &s, &why);
    if (got != want)
	fail_msg("cache-sentinel.txt:%d: status %d, want %s (%s)", lineno, got, field[2], why.text);
    if (strcmp(field[3], "-") != 0 && strstr(why.text, field[3]) == 0)
	fail_msg("cache-sentinel.txt:%d: reason \"%s\" lacks \"%s\"", lineno, why.text, field[3]);
    if (got == STATUS_OK && strcmp(field[4], "-") != 0) {
	why.text[0] = 0;
	got = cache_sentinel_primary(s, &primary, &why);
	if (got != STATUS_RETRY || strstr(why.text, field[4]) == 0)
	    fail_msg("cache-sentinel.txt:%d: primary: status %d, reason \"%s\", want RETRY and \"%s\"",
		     lineno, got, why.text, field[4]);
    }
    if (got == STATUS_OK)
	assert_non_null(s);
    cache_sentinel_free(&s);
    assert_null(s);
    return (0);
}

static void test_sentinel_table(void **state)
{
    (void) state;
    assert_true(testdata_rows("cache-sentinel.txt", '|', sentinel_row, 0) >= 10);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_sentinel_table),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
