/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_cache_purge 1
 * SUMMARY
 *	unit tests for cache_purge.c: purge notices reach L1
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_cache_purge
 * DESCRIPTION
 *	Table-driven from tests/unit/data/cache-purge.txt: a script of
 *	puts, notices and polls on one LMDB cache, with what each must
 *	give and where a lookup is answered from (L1, LMDB, neither): a
 *	notice drops the domain's L1 copy at the next poll and nothing
 *	else; a notice for everything, and more notices than the record
 *	keeps, empty L1; a domain that is not a domain is refused; a poll
 *	without news changes nothing. And without a backend, a notice is
 *	OK and a poll does nothing. Files live in a mkdtemp(3) directory
 *	removed at the end.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cache.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

static char dir[64];
static char path[128];

static const char body[] = "version: STSv1\nmode: enforce\nmx: mx.example\nmax_age: 86400\n";

static int purge_row(void *ctx, int lineno, int nfield, char **field)
{
    CACHE  *c = ctx;
    CACHE_POLICY p;
    CACHE_STATS before, after;
    char    got[64];
    char    domain[64];
    long    i, n;
    int     st = STATUS_OK;

    if (nfield != 3)
	fail_msg("cache-purge.txt:%d: %d fields, want 3", lineno, nfield);
    if (strcmp(field[0], "put") == 0) {
	memset(&p, 0, sizeof(p));
	(void) str_copy(p.txt_id, sizeof(p.txt_id), "1");
	p.fetched = time(0);
	p.checked = p.fetched;
	p.max_age = 86400;
	p.body = (char *) body;
	p.len = strlen(body);
	(void) snprintf(got, sizeof(got), "%s", status_name(cache_policy_put(c, field[1], &p)));
    } else if (strcmp(field[0], "notice") == 0) {
	st = cache_purge_notice(c, strcmp(field[1], "*") == 0 ? 0 : field[1]);
	(void) snprintf(got, sizeof(got), "%s", status_name(st));
    } else if (strcmp(field[0], "flood") == 0) {
	n = strtol(field[1], 0, 10);
	for (i = 1; i <= n; i++) {
	    (void) snprintf(domain, sizeof(domain), "n%ld.example", i);
	    st = cache_purge_notice(c, domain);
	}
	(void) snprintf(got, sizeof(got), "%s", status_name(st));
    } else if (strcmp(field[0], "poll") == 0) {
	(void) snprintf(got, sizeof(got), "%d", cache_purge_poll(c));
    } else if (strcmp(field[0], "l1") == 0) {
	cache_stats(c, &before);
	st = cache_policy_get(c, field[1], &p);
	cache_stats(c, &after);
	if (st == STATUS_OK)
	    cache_policy_clear(&p);
	(void) snprintf(got, sizeof(got), "%s", st != STATUS_OK ? "miss" :
			after.l1_hits == before.l1_hits + 1 ? "yes" :
			after.backend_hits == before.backend_hits + 1 ? "no" : "?");
    } else if (strcmp(field[0], "entries") == 0) {
	cache_stats(c, &after);
	(void) snprintf(got, sizeof(got), "%ld", (long) after.l1_entries);
    } else {
	fail_msg("cache-purge.txt:%d: unknown op \"%s\"", lineno, field[0]);
    }
    if (strcmp(got, field[2]) != 0)
	fail_msg("cache-purge.txt:%d: %s %s: got \"%s\", want \"%s\"", lineno, field[0], field[1], got, field[2]);
    return (0);
}

static void test_script(void **state)
{
    CACHE_OPTS o;
    CACHE  *c = 0;
    char    lock[160];

    (void) state;
    (void) str_copy(dir, sizeof(dir), "/tmp/test_cache_purge.XXXXXX");
    assert_non_null(mkdtemp(dir));
    (void) snprintf(path, sizeof(path), "%s/cache.lmdb", dir);
    memset(&o, 0, sizeof(o));
    o.backend = CACHE_BACKEND_LMDB;
    o.memory_entries = 100;
    o.path = path;
    assert_int_equal(cache_open(&o, &c, 0), STATUS_OK);
    assert_true(testdata_rows("cache-purge.txt", '|', purge_row, c) > 25);
    cache_free(&c);
    (void) snprintf(lock, sizeof(lock), "%s-lock", path);
    (void) unlink(path);
    (void) unlink(lock);
    (void) rmdir(dir);
}

static void test_memory_only(void **state)
{
    CACHE  *c = 0;

    (void) state;
    assert_int_equal(cache_create(10, &c, 0), STATUS_OK);
    assert_int_equal(cache_purge_notice(c, "a.example"), STATUS_OK);
    assert_int_equal(cache_purge_notice(c, 0), STATUS_OK);
    assert_int_equal(cache_purge_poll(c), 0);
    cache_free(&c);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_script),
	cmocka_unit_test(test_memory_only),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
