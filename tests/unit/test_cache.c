/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_cache 1
 * SUMMARY
 *	unit tests for cache.c (in-process backend)
 * DESCRIPTION
 *	max_age expiry with the injectable clock (clock_set_source()),
 *	table-driven from cache-expiry-vectors.txt; replacement; eviction
 *	when full; deletion. Answers (cache_answer_*()): head and tail
 *	copied apart, expiry, replacement and drop, table-driven from
 *	the rows in test_answer(), and never seen by a policy get.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cache.h"
#include "clock.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

static time_t fake_now;

static time_t fake_clock(void)
{
    return (fake_now);
}

static void put(CACHE *c, const char *domain, const char *id, long max_age, const char *body)
{
    CACHE_POLICY p;

    memset(&p, 0, sizeof(p));
    (void) str_copy(p.txt_id, sizeof(p.txt_id), id);
    p.fetched = fake_now;
    p.max_age = max_age;
    p.body = (char *) body;
    p.len = strlen(body);
    assert_int_equal(cache_policy_put(c, domain, &p), STATUS_OK);
}

static int expiry_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *failures = (int *) ctx;
    CACHE  *c = 0;
    CACHE_POLICY got;
    long    max_age, after, fresh;

    if (nfield != 3 || str_to_long(field[0], 0, 31557600, &max_age) != 0
	|| str_to_long(field[1], 0, 100000000, &after) != 0 || str_to_long(field[2], 0, 1, &fresh) != 0) {
	print_error("cache-expiry-vectors.txt:%d: bad row\n", lineno);
	(*failures)++;
	return (0);
    }
    assert_int_equal(cache_create(10, &c, NULL), STATUS_OK);
    fake_now = 1700000000;
    put(c, "example.com", "id1", max_age, "version: STSv1\n");
    fake_now += after;
    if ((cache_policy_get(c, "example.com", &got) == STATUS_OK) != fresh) {
	print_error("cache-expiry-vectors.txt:%d: max_age %ld after %ld: want fresh=%ld\n",
		    lineno, max_age, after, fresh);
	(*failures)++;
    }
    cache_policy_clear(&got);
    cache_free(&c);
    assert_null(c);
    return (0);
}

static void test_expiry(void **state)
{
    int     failures = 0;

    clock_set_source(fake_clock);
    assert_true(testdata_rows("cache-expiry-vectors.txt", '|', expiry_row, &failures) >= 9);
    clock_set_source(NULL);
    assert_int_equal(failures, 0);
}

static void test_replace_and_copy(void **state)
{
    CACHE  *c = 0;
    CACHE_POLICY got;

    clock_set_source(fake_clock);
    fake_now = 1000;
    assert_int_equal(cache_create(10, &c, NULL), STATUS_OK);
    put(c, "a.example", "one", 100, "first");
    put(c, "a.example", "two", 100, "second body");
    assert_int_equal(cache_policy_get(c, "a.example", &got), STATUS_OK);
    assert_string_equal(got.txt_id, "two");
    assert_int_equal(got.len, 11);
    assert_memory_equal(got.body, "second body", 11);
    cache_policy_clear(&got);
    assert_null(got.body);
    assert_int_equal(cache_policy_get(c, "b.example", &got), STATUS_NOTFOUND);
    assert_int_equal(cache_policy_delete(c, "a.example"), STATUS_OK);
    assert_int_equal(cache_policy_get(c, "a.example", &got), STATUS_NOTFOUND);
    assert_int_equal(cache_policy_delete(c, "a.example"), STATUS_NOTFOUND);
    cache_free(&c);
    clock_set_source(NULL);
}

static void test_eviction(void **state)
{
    CACHE  *c = 0;
    CACHE_POLICY got;
    char    name[64];
    int     i;

    clock_set_source(fake_clock);
    assert_int_equal(cache_create(3, &c, NULL), STATUS_OK);
    for (i = 0; i < 4; i++) {
	fake_now = 1000 + i;
	(void) snprintf(name, sizeof(name), "d%d.example", i);
	put(c, name, "x", 86400, "body");
    }
    /* The oldest (d0) made room for d3. */
    assert_int_equal(cache_policy_get(c, "d0.example", &got), STATUS_NOTFOUND);
    for (i = 1; i < 4; i++) {
	(void) snprintf(name, sizeof(name), "d%d.example", i);
	assert_int_equal(cache_policy_get(c, name, &got), STATUS_OK);
	cache_policy_clear(&got);
    }
    cache_free(&c);
    clock_set_source(NULL);
}

/*
 * Answers: one row per case. put_len bytes are stored (head_size of
 * them the head) until now + life; after "after" seconds a get with a
 * tail buffer of tail_size wants status and tail length.
 */
typedef struct ANSWER_ROW {
    const char *what;
    size_t  put_len;
    size_t  head_size;
    long    life;
    long    after;
    size_t  tail_size;
    int     want;
    size_t  want_tail;
} ANSWER_ROW;

static const ANSWER_ROW answer_rows[] = {
    {"head and tail", 40, 16, 60, 0, 64, STATUS_OK, 24},
    {"head only, no tail buffer", 16, 16, 60, 10, 0, STATUS_OK, 0},
    {"tail needs room for its NUL", 40, 16, 60, 0, 24, STATUS_NOTFOUND, 0},
    {"tail fits with its NUL", 40, 16, 60, 0, 25, STATUS_OK, 24},
    {"shorter than the head", 8, 16, 60, 0, 64, STATUS_NOTFOUND, 0},
    {"expired at its end", 40, 16, 60, 60, 64, STATUS_NOTFOUND, 0},
    {"fresh a second before", 40, 16, 60, 59, 64, STATUS_OK, 24},
};

static void test_answer(void **state)
{
    CACHE  *c = 0;
    CACHE_POLICY got;
    unsigned char body[128];
    unsigned char head[64];
    char    tail[128];
    size_t  tail_len;
    size_t  i;
    int     st;

    (void) state;
    clock_set_source(fake_clock);
    for (i = 0; i < sizeof(body); i++)
	body[i] = (unsigned char) ('a' + i % 26);
    for (i = 0; i < sizeof(answer_rows) / sizeof(answer_rows[0]); i++) {
	const ANSWER_ROW *row = &answer_rows[i];

	assert_int_equal(cache_create(10, &c, NULL), STATUS_OK);
	fake_now = 1700000000;
	assert_int_equal(cache_answer_put(c, "example.com", body, row->put_len, fake_now + row->life), STATUS_OK);
	fake_now += row->after;
	memset(head, 0, sizeof(head));
	st = cache_answer_get(c, "example.com", head, row->head_size, row->tail_size ? tail : 0,
			      row->tail_size, &tail_len);
	if (st != row->want)
	    fail_msg("%s: status %d, want %d", row->what, st, row->want);
	if (st == STATUS_OK) {
	    assert_memory_equal(head, body, row->head_size);
	    assert_int_equal(tail_len, row->want_tail);
	    if (row->tail_size) {
		assert_memory_equal(tail, body + row->head_size, tail_len);
		assert_int_equal(tail[tail_len], 0);
	    }
	}
	/* An answer is not a policy record, and a policy get never sees it. */
	assert_int_equal(cache_policy_get(c, "example.com", &got), STATUS_NOTFOUND);
	cache_free(&c);
    }

    /* Replaced by a later put, gone after a drop; too long: refused. */
    assert_int_equal(cache_create(10, &c, NULL), STATUS_OK);
    fake_now = 1700000000;
    assert_int_equal(cache_answer_put(c, "example.com", "first", 5, fake_now + 60), STATUS_OK);
    assert_int_equal(cache_answer_put(c, "example.com", "second", 6, fake_now + 60), STATUS_OK);
    assert_int_equal(cache_answer_get(c, "example.com", head, 6, 0, 0, &tail_len), STATUS_OK);
    assert_memory_equal(head, "second", 6);
    put(c, "example.com", "id1", 86400, "version: STSv1\n");
    assert_int_equal(cache_answer_get(c, "example.com", head, 6, 0, 0, &tail_len), STATUS_OK);
    cache_answer_drop(c, "example.com");
    assert_int_equal(cache_answer_get(c, "example.com", head, 6, 0, 0, &tail_len), STATUS_NOTFOUND);
    assert_int_equal(cache_policy_get(c, "example.com", &got), STATUS_OK);
    cache_policy_clear(&got);
    assert_int_equal(cache_answer_put(c, "example.com", body, CACHE_ANSWER_BODY_MAX + 1, fake_now + 60),
		     STATUS_INVAL);
    cache_free(&c);
    clock_set_source(NULL);
}

static void test_create_invalid(void **state)
{
    CACHE  *c = (CACHE *) 1;
    WHY     why;

    assert_int_equal(cache_create(0, &c, &why), STATUS_INVAL);
    assert_null(c);
    assert_non_null(strstr(why.text, "at least 1"));
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_expiry),
	cmocka_unit_test(test_replace_and_copy),
	cmocka_unit_test(test_eviction),
	cmocka_unit_test(test_answer),
	cmocka_unit_test(test_create_invalid),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
