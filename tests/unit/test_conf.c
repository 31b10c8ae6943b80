/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_conf 1
 * SUMMARY
 *	unit tests for conf.c (stsfilter.conf)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_conf
 * DESCRIPTION
 *	Table-driven from tests/unit/data:
 *
 *	conf-values.txt: one "name = value" line per row, parsed with
 *	conf_parse(); the typed value or the exact error text is checked
 *	(units, ranges at both boundaries, list separators, syntax checks).
 *
 *	conf-files.txt: whole files (conf-good-*.conf, conf-bad-*.conf)
 *	loaded with conf_load(); values, or status and "file:line: ..."
 *	error.
 *
 *	Also: the table itself (names, ranges, defaults), defaults,
 *	conf_print() (postconf -n style, and a full print that parses back
 *	to the same values), name lookup, and reference counting from
 *	several threads.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "status.h"
#include "str.h"
#include "testdata.h"
#include "why.h"

 /*
  * check_value - compare a parameter with the notation of the data files:
  * a number for typed values, <a><b> or (empty) for lists, else a string.
  */
static void check_value(const CONF *conf, int id, const char *want,
			        const char *file, int lineno)
{
    const CONF_KEY *key = conf_key(id);
    char    got[CONF_VALUE_MAX * 2 + 64];
    const char *const *list;
    long    num = 0;
    long    expect;
    int     count;
    int     i;

    assert_non_null(key);
    switch (key->type) {
    case CONF_T_LIST:
    case CONF_T_OPTLIST:
	list = conf_list(conf, id, &count);
	got[0] = 0;
	for (i = 0; i < count; i++)
	    (void) str_appendf(got, sizeof(got), "<%s>", list[i]);
	if (count == 0)
	    (void) str_copy(got, sizeof(got), "(empty)");
	if (list[count] != 0)
	    fail_msg("%s:%d: %s: list not null-terminated", file, lineno, key->name);
	if (strcmp(got, want) != 0)
	    fail_msg("%s:%d: %s: got %s, want %s", file, lineno, key->name, got, want);
	return;
    case CONF_T_STRING:
	if (strcmp(conf_str(conf, id), want) != 0)
	    fail_msg("%s:%d: %s: got \"%s\", want \"%s\"", file, lineno, key->name,
		     conf_str(conf, id), want);
	return;
    case CONF_T_INT:
	num = conf_int(conf, id);
	break;
    case CONF_T_BOOL:
	num = conf_bool(conf, id);
	break;
    case CONF_T_TIME:
	num = conf_time(conf, id);
	break;
    case CONF_T_SIZE:
	num = conf_size(conf, id);
	break;
    case CONF_T_ENUM:
	num = conf_enum(conf, id);
	break;
    default:
	fail_msg("%s: unknown type %d", key->name, key->type);
    }
    if (str_to_long(want, LONG_MIN, LONG_MAX, &expect) < 0)
	fail_msg("%s:%d: bad expected number \"%s\"", file, lineno, want);
    if (num != expect)
	fail_msg("%s:%d: %s: got %ld, want %ld", file, lineno, key->name, num, expect);
}

/* test_conf_table - the table is well-formed */

static void test_conf_table(void **state)
{
    const CONF_KEY *key;
    const char *p;
    int     i;
    int     j;

    assert_true(CONF_KEY_COUNT > 40);
    for (i = 0; i < CONF_KEY_COUNT; i++) {
	key = conf_key(i);
	assert_non_null(key);
	assert_int_equal(key->id, i);
	assert_true(*key->name != 0);
	for (p = key->name; *p; p++)
	    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
		fail_msg("%s: name is not lowercase_with_underscores", key->name);
	for (j = 0; j < i; j++)
	    if (strcmp(conf_key(j)->name, key->name) == 0)
		fail_msg("%s: name used twice", key->name);
	if (strlen(key->desc) < 10)
	    fail_msg("%s: no description", key->name);
	if (strchr(key->def, '"') != 0)
	    fail_msg("%s: default contains a quote", key->name);
	switch (key->type) {
	case CONF_T_INT:
	    if (key->max > INT_MAX || key->min < INT_MIN)
		fail_msg("%s: range does not fit in int", key->name);
	    /* FALLTHROUGH */
	case CONF_T_TIME:
	case CONF_T_SIZE:
	case CONF_T_BOOL:
	    if (key->min > key->max)
		fail_msg("%s: min > max", key->name);
	    if (key->type == CONF_T_TIME && (strlen(key->aux) != 1
					 || strchr("smhdw", key->aux[0]) == 0))
		fail_msg("%s: bad default unit \"%s\"", key->name, key->aux);
	    break;
	case CONF_T_ENUM:
	    if (*key->aux == 0)
		fail_msg("%s: enum without words", key->name);
	    break;
	case CONF_T_STRING:
	case CONF_T_LIST:
	case CONF_T_OPTLIST:
	    break;
	default:
	    fail_msg("%s: unknown type %d", key->name, key->type);
	}
	assert_int_equal(conf_lookup_name(key->name), i);
    }
    assert_null(conf_key(-1));
    assert_null(conf_key(CONF_KEY_COUNT));
    assert_int_equal(conf_lookup_name("no_such_parameter"), -1);
    assert_int_equal(conf_lookup_name(""), -1);
    assert_int_equal(conf_lookup_name("DNS_TIMEOUT"), -1);
    assert_int_equal(conf_lookup_name("dns_timeout"), CONF_DNS_TIMEOUT);
}

/* test_conf_defaults - every parameter starts at its table default */

static void test_conf_defaults(void **state)
{
    CONF   *conf = 0;
    int     i;

    assert_int_equal(conf_defaults(&conf), STATUS_OK);
    assert_non_null(conf);
    assert_string_equal(conf_source(conf), "");
    for (i = 0; i < CONF_KEY_COUNT; i++) {
	assert_string_equal(conf_str(conf, i), conf_key(i)->def);
	assert_false(conf_is_set(conf, i));
    }
    assert_int_equal(conf_time(conf, CONF_DNS_TIMEOUT), 5);
    assert_int_equal(conf_int(conf, CONF_PROBE_PORT), 25);
    assert_false(conf_bool(conf, CONF_ALLOW_PRIVATE_ADDRESSES));
    assert_false(conf_bool(conf, CONF_MONITOR_MODE));
    assert_string_equal(conf_str(conf, CONF_CACHE_BACKEND), "lmdb");
    assert_string_equal(conf_str(conf, CONF_ACTION_ENFORCE_FAIL), "defer");
    assert_int_equal(conf_enum(conf, CONF_ACTION_ENFORCE_FAIL), 2);
    assert_int_equal(conf_size(conf, CONF_CACHE_MEMORY_BYTES), 64L * 1024 * 1024);
    conf_unref(&conf);
    assert_null(conf);
}

/* test_conf_values - conf-values.txt */

static int values_row(void *ctx, int lineno, int nfield, char **field)
{
    CONF   *conf = 0;
    WHY     why;
    char    text[CONF_VALUE_MAX * 2];
    int     status;
    int     id;

    if (nfield != 3)
	fail_msg("conf-values.txt:%d: want 3 fields, got %d", lineno, nfield);
    if ((id = conf_lookup_name(field[0])) < 0)
	fail_msg("conf-values.txt:%d: unknown parameter %s", lineno, field[0]);
    (void) snprintf(text, sizeof(text), "# row %d\n%s = %s\n", lineno, field[0], field[1]);
    why.text[0] = 0;
    status = conf_parse("values", text, strlen(text), &conf, &why);
    if (field[2][0] == '!') {
	if (status != STATUS_INVAL)
	    fail_msg("conf-values.txt:%d: %s = %s: status %s, want inval",
		     lineno, field[0], field[1], status_name(status));
	assert_null(conf);
	if (strncmp(why.text, "values:2: ", 10) != 0 || strstr(why.text, field[2] + 1) == 0)
	    fail_msg("conf-values.txt:%d: error \"%s\" does not contain \"values:2: ...%s\"",
		     lineno, why.text, field[2] + 1);
    } else {
	if (status != STATUS_OK)
	    fail_msg("conf-values.txt:%d: %s = %s: %s", lineno, field[0], field[1], why.text);
	assert_true(conf_is_set(conf, id));
	check_value(conf, id, field[2], "conf-values.txt", lineno);
	conf_unref(&conf);
    }
    (*(int *) ctx)++;
    return (0);
}

static void test_conf_values(void **state)
{
    int     n = 0;
    int     rows;

    rows = testdata_rows("conf-values.txt", '|', values_row, &n);
    assert_int_equal(rows, n);
    assert_true(n > 100);
}

/* test_conf_files - conf-files.txt */

static int files_row(void *ctx, int lineno, int nfield, char **field)
{
    const char *dir = getenv("STS_TESTDATA");
    char    path[4096];
    CONF   *conf = 0;
    WHY     why;
    int     want_status = -1;
    int     status;
    int     id;
    const char *name = field[1];

    if (nfield != 3)
	fail_msg("conf-files.txt:%d: want 3 fields, got %d", lineno, nfield);
    (void) snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/unit/data", field[0]);
    if (strcmp(name, "INVAL") == 0)
	want_status = STATUS_INVAL;
    else if (strcmp(name, "NOTFOUND") == 0)
	want_status = STATUS_NOTFOUND;
    else if (strcmp(name, "FAIL") == 0)
	want_status = STATUS_FAIL;
    why.text[0] = 0;
    conf = (CONF *) &why;			/* must be reset to null */
    status = conf_load(path, &conf, &why);
    if (want_status >= 0) {
	if (status != want_status)
	    fail_msg("conf-files.txt:%d: %s: status %s, want %s (%s)", lineno, field[0],
		     status_name(status), status_name(want_status), why.text);
	assert_null(conf);
	if (strstr(why.text, field[2]) == 0)
	    fail_msg("conf-files.txt:%d: error \"%s\" does not contain \"%s\"",
		     lineno, why.text, field[2]);
    } else {
	if (status != STATUS_OK)
	    fail_msg("conf-files.txt:%d: %s: %s", lineno, field[0], why.text);
	assert_string_equal(conf_source(conf), path);
	if ((id = conf_lookup_name(name + (*name == '-'))) < 0)
	    fail_msg("conf-files.txt:%d: unknown parameter %s", lineno, name);
	if (conf_is_set(conf, id) != (*name != '-'))
	    fail_msg("conf-files.txt:%d: %s: is_set is %d", lineno, name, conf_is_set(conf, id));
	check_value(conf, id, field[2], "conf-files.txt", lineno);
	conf_unref(&conf);
    }
    (*(int *) ctx)++;
    return (0);
}

static void test_conf_files(void **state)
{
    int     n = 0;
    int     rows;

    rows = testdata_rows("conf-files.txt", '|', files_row, &n);
    assert_int_equal(rows, n);
    assert_true(n > 40);
}

/* print_to_string - conf_print() into memory */

static char *print_to_string(const CONF *conf, int only_set)
{
    char   *buf = 0;
    size_t  len = 0;
    FILE   *fp;

    assert_non_null(fp = open_memstream(&buf, &len));
    assert_int_equal(conf_print(conf, fp, only_set), 0);
    assert_int_equal(fclose(fp), 0);
    return (buf);
}

/* test_conf_print - postconf -n output, and a full print parses back */

static void test_conf_print(void **state)
{
    const char *dir = getenv("STS_TESTDATA");
    char    path[4096];
    CONF   *conf = 0;
    CONF   *again = 0;
    WHY     why;
    char   *want;
    char   *got;
    int     i;

    (void) snprintf(path, sizeof(path), "%s/conf-good-basic.conf", dir ? dir : "tests/unit/data");
    if (conf_load(path, &conf, &why) != STATUS_OK)
	fail_msg("%s", why.text);
    got = print_to_string(conf, 1);
    want = testdata_read("conf-good-basic.expect-n", 0);
    assert_string_equal(got, want);
    free(got);
    free(want);

    /* Everything, in table order; parses back to the same values. */
    got = print_to_string(conf, 0);
    if (conf_parse("printed", got, strlen(got), &again, &why) != STATUS_OK)
	fail_msg("full print does not parse: %s", why.text);
    for (i = 0; i < CONF_KEY_COUNT; i++) {
	assert_string_equal(conf_str(again, i), conf_str(conf, i));
	assert_true(conf_is_set(again, i));
    }
    assert_int_equal(conf_time(again, CONF_DNS_TIMEOUT), 30);
    free(got);
    conf_unref(&again);
    conf_unref(&conf);

    /* Defaults with -n print nothing. */
    assert_int_equal(conf_defaults(&conf), STATUS_OK);
    got = print_to_string(conf, 1);
    assert_string_equal(got, "");
    free(got);
    conf_unref(&conf);
}

/* test_conf_parse_edges - conf_parse on text without a trailing newline */

static void test_conf_parse_edges(void **state)
{
    CONF   *conf = 0;
    WHY     why;

    assert_int_equal(conf_parse("t", "probe_port = 26", 15, &conf, &why), STATUS_OK);
    assert_int_equal(conf_int(conf, CONF_PROBE_PORT), 26);
    conf_unref(&conf);

    /* Only the counted bytes are parsed. */
    assert_int_equal(conf_parse("t", "probe_port = 2699", 15, &conf, &why), STATUS_OK);
    assert_int_equal(conf_int(conf, CONF_PROBE_PORT), 26);
    conf_unref(&conf);

    assert_int_equal(conf_parse("t", "", 0, &conf, &why), STATUS_OK);
    assert_false(conf_is_set(conf, CONF_PROBE_PORT));
    conf_unref(&conf);

    /* A null WHY is accepted. */
    assert_int_equal(conf_parse("t", "x = 1\n", 6, &conf, 0), STATUS_INVAL);
    assert_null(conf);

    /* The value of the last line of a file may be continued, too. */
    assert_int_equal(conf_parse("t", "act_on =\n all\n", 14, &conf, &why), STATUS_OK);
    assert_string_equal(conf_str(conf, CONF_ACT_ON), "all");
    conf_unref(&conf);
}

/* test_conf_file_too_large - conf_load() refuses more than CONF_FILE_MAX */

static void test_conf_file_too_large(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char    path[4096];
    CONF   *conf = 0;
    WHY     why;
    FILE   *fp;
    int     fd;
    long    n;

    (void) snprintf(path, sizeof(path), "%s/test_conf.XXXXXX", tmp ? tmp : "/tmp");
    assert_true((fd = mkstemp(path)) >= 0);
    assert_non_null(fp = fdopen(fd, "w"));
    /* Exactly CONF_FILE_MAX bytes of comments and one parameter: fine. */
    for (n = 0; n < CONF_FILE_MAX - 16; n += 16)
	assert_int_equal(fputs("# 3456789012345\n", fp) >= 0, 1);
    assert_int_equal(fputs("probe_port = 99\n", fp) >= 0, 1);
    assert_int_equal(fflush(fp), 0);
    assert_int_equal(ftell(fp), CONF_FILE_MAX);
    assert_int_equal(conf_load(path, &conf, &why), STATUS_OK);
    assert_int_equal(conf_int(conf, CONF_PROBE_PORT), 99);
    conf_unref(&conf);
    /* One byte more is refused, not truncated. */
    assert_int_equal(fputc('\n', fp), '\n');
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(conf_load(path, &conf, &why), STATUS_INVAL);
    assert_null(conf);
    assert_non_null(strstr(why.text, "file too large (more than 1048576 bytes)"));
    assert_int_equal(unlink(path), 0);
}

/* test_conf_refcount - conf_ref/conf_unref, also from several threads */

#define REF_THREADS	4
#define REF_ROUNDS	20000

static void *ref_worker(void *arg)
{
    CONF   *conf = arg;
    CONF   *mine;
    int     i;

    for (i = 0; i < REF_ROUNDS; i++) {
	mine = conf_ref(conf);
	if (mine != conf || conf_int(mine, CONF_PROBE_PORT) != 25)
	    return (arg);
	conf_unref(&mine);
	if (mine != 0)
	    return (arg);
    }
    return (0);
}

static void test_conf_refcount(void **state)
{
    pthread_t tid[REF_THREADS];
    CONF   *conf = 0;
    CONF   *second;
    CONF   *null_conf = 0;
    void   *ret;
    int     i;

    assert_int_equal(conf_defaults(&conf), STATUS_OK);
    second = conf_ref(conf);
    assert_ptr_equal(second, conf);
    conf_unref(&conf);
    assert_null(conf);
    /* Still alive through the second reference. */
    assert_int_equal(conf_time(second, CONF_DNS_TIMEOUT), 5);

    for (i = 0; i < REF_THREADS; i++)
	assert_int_equal(pthread_create(tid + i, 0, ref_worker, second), 0);
    for (i = 0; i < REF_THREADS; i++) {
	assert_int_equal(pthread_join(tid[i], &ret), 0);
	assert_null(ret);
    }
    assert_int_equal(conf_int(second, CONF_PROBE_PORT), 25);
    conf_unref(&second);			/* frees; ASan/valgrind see leaks */
    assert_null(second);

    assert_null(conf_ref(0));
    conf_unref(&null_conf);
    assert_null(null_conf);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_conf_table),
	cmocka_unit_test(test_conf_defaults),
	cmocka_unit_test(test_conf_values),
	cmocka_unit_test(test_conf_files),
	cmocka_unit_test(test_conf_print),
	cmocka_unit_test(test_conf_parse_edges),
	cmocka_unit_test(test_conf_file_too_large),
	cmocka_unit_test(test_conf_refcount),
    };

    return (cmocka_run_group_tests(tests, 0, 0));
}
