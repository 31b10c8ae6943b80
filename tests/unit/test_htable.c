/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_htable 1
 * SUMMARY
 *	unit tests for htable.c (the one hash table)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_htable
 * DESCRIPTION
 *	Table-driven from tests/unit/data:
 *
 *	htable-ops.txt	a script of enter, find, delete, walk and used on
 *			one table, with the status or value each must give.
 *	htable-hash.txt	htable_hash() against FNV-1a's reference vectors.
 *
 *	And one sweep: 20000 keys entered into a table made for 1 (it
 *	doubles many times), each found with its own value, every other
 *	one deleted, the rest found and the deleted ones not, and
 *	htable_free() handing every remaining value to the free function
 *	exactly once.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "htable.h"
#include "status.h"
#include "testdata.h"

/* Values are small integers carried in the pointer: 0 is never used. */

static void *num_value(const char *s)
{
    return ((void *) (uintptr_t) strtoul(s, 0, 10));
}

static void value_text(void *value, char *buf, size_t size)
{
    if (value == 0)
	(void) snprintf(buf, size, "-");
    else
	(void) snprintf(buf, size, "%lu", (unsigned long) (uintptr_t) value);
}

typedef struct WALK {
    const char *prefix;
    int     seen;
} WALK;

static int walk_drop(const char *key, void *value, void *ctx)
{
    WALK   *w = ctx;

    (void) value;
    w->seen++;
    return (strncmp(key, w->prefix, strlen(w->prefix)) == 0);
}

static int ops_row(void *ctx, int lineno, int nfield, char **field)
{
    HTABLE *t = ctx;
    char    got[64];
    void   *value = 0;
    int     st;

    if (nfield != 4)
	fail_msg("htable-ops.txt:%d: %d fields, want 4", lineno, nfield);
    if (strcmp(field[0], "enter") == 0) {
	(void) snprintf(got, sizeof(got), "%s", status_name(htable_enter(t, field[1], num_value(field[2]))));
    } else if (strcmp(field[0], "find") == 0) {
	value_text(htable_find(t, field[1]), got, sizeof(got));
    } else if (strcmp(field[0], "delete") == 0) {
	st = htable_delete(t, field[1], &value);
	(void) snprintf(got, sizeof(got), "%s ", status_name(st));
	value_text(value, got + strlen(got), sizeof(got) - strlen(got));
    } else if (strcmp(field[0], "used") == 0) {
	(void) snprintf(got, sizeof(got), "%lu", (unsigned long) htable_used(t));
    } else if (strcmp(field[0], "walk") == 0) {
	WALK    w = {field[1], 0};

	htable_walk(t, walk_drop, &w);
	(void) snprintf(got, sizeof(got), "%d", w.seen);
    } else {
	fail_msg("htable-ops.txt:%d: unknown op \"%s\"", lineno, field[0]);
    }
    if (strcmp(got, field[3]) != 0)
	fail_msg("htable-ops.txt:%d: %s \"%s\": got \"%s\", want \"%s\"", lineno, field[0], field[1], got,
		 field[3]);
    return (0);
}

static void test_ops(void **state)
{
    HTABLE *t = 0;

    (void) state;
    assert_int_equal(htable_create(1, &t), STATUS_OK);
    assert_true(testdata_rows("htable-ops.txt", '|', ops_row, t) > 20);
    htable_free(&t, 0);
    assert_null(t);
    htable_free(&t, 0);				/* null is fine */
}

static int hash_row(void *ctx, int lineno, int nfield, char **field)
{
    unsigned want;

    (void) ctx;
    if (nfield != 2)
	fail_msg("htable-hash.txt:%d: %d fields, want 2", lineno, nfield);
    want = (unsigned) strtoul(field[1], 0, 16);
    if (htable_hash(field[0], testdata_len[0]) != want)
	fail_msg("htable-hash.txt:%d: \"%s\": got %08x, want %08x", lineno, field[0],
		 htable_hash(field[0], testdata_len[0]), want);
    return (0);
}

static void test_hash(void **state)
{
    (void) state;
    assert_int_equal(testdata_rows("htable-hash.txt", '|', hash_row, 0), 4);
}

#define SWEEP	20000

static int sweep_freed[SWEEP + 1];

static void sweep_free(void *value)
{
    sweep_freed[(uintptr_t) value]++;
}

static void test_sweep(void **state)
{
    HTABLE *t = 0;
    char    key[32];
    uintptr_t i;

    (void) state;
    memset(sweep_freed, 0, sizeof(sweep_freed));
    assert_int_equal(htable_create(1, &t), STATUS_OK);
    for (i = 1; i <= SWEEP; i++) {
	(void) snprintf(key, sizeof(key), "d%lu.example", (unsigned long) i);
	assert_int_equal(htable_enter(t, key, (void *) i), STATUS_OK);
    }
    assert_int_equal(htable_used(t), SWEEP);
    for (i = 1; i <= SWEEP; i++) {
	(void) snprintf(key, sizeof(key), "d%lu.example", (unsigned long) i);
	assert_ptr_equal(htable_find(t, key), (void *) i);
    }
    for (i = 2; i <= SWEEP; i += 2) {
	void   *value = 0;

	(void) snprintf(key, sizeof(key), "d%lu.example", (unsigned long) i);
	assert_int_equal(htable_delete(t, key, &value), STATUS_OK);
	assert_ptr_equal(value, (void *) i);
    }
    assert_int_equal(htable_used(t), SWEEP / 2);
    for (i = 1; i <= SWEEP; i++) {
	(void) snprintf(key, sizeof(key), "d%lu.example", (unsigned long) i);
	if (i % 2)
	    assert_ptr_equal(htable_find(t, key), (void *) i);
	else
	    assert_null(htable_find(t, key));
    }
    htable_free(&t, sweep_free);
    for (i = 1; i <= SWEEP; i++)
	assert_int_equal(sweep_freed[i], i % 2 ? 1 : 0);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_ops),
	cmocka_unit_test(test_hash),
	cmocka_unit_test(test_sweep),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
