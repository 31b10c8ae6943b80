/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_metrics 1
 * SUMMARY
 *	unit tests for metrics (counters and the Prometheus exposition)
 * DESCRIPTION
 *	Table-driven from tests/unit/data/metrics-vectors.txt (operations
 *	and the lines the render must, or must not, contain) and
 *	metrics-reply.txt (socketmap reply kinds). Every render is also
 *	checked for the shape of the text format 0.0.4: each sample's
 *	family has "# HELP" and "# TYPE" lines before it, no series
 *	appears twice, histogram buckets never decrease and the +Inf
 *	bucket equals _count. Further tests: a buffer too small fails
 *	cleanly, and increments from several threads are all counted.
 */

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "metrics.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

#define OUT_MAX		METRICS_RENDER_MAX
#define LINES_MAX	2048

#define TEST_NAME(id, fam, labels) {#id, METRICS_##id},
static const struct {
    const char *name;
    int     id;
} test_ids[] = {
    METRICS_TABLE(TEST_NAME)
};

#undef TEST_NAME

static int test_frontend(const char *s, int lineno)
{
    if (strcmp(s, "milter") == 0)
	return (METRICS_MILTER);
    if (strcmp(s, "smtpd") == 0)
	return (METRICS_SMTPD);
    if (strcmp(s, "policyd") == 0)
	return (METRICS_POLICYD);
    fail_msg("metrics-vectors.txt:%d: unknown front end %s", lineno, s);
    return (-1);
}

/* test_op - run one operation of a vector */

static void test_op(char *op, int lineno)
{
    char    verb[32], a[64], b[64], c[64];
    long    n[4];
    struct timespec t0 = {100, 999999000}, t1;
    size_t  i;
    int     got;

    got = sscanf(op, " %31s %63s %63s %63s %ld", verb, a, b, c, &n[0]);
    if (got < 1)
	return;					/* empty */
    if (strcmp(verb, "inc") == 0 && got == 2) {
	for (i = 0; i < sizeof(test_ids) / sizeof(test_ids[0]); i++)
	    if (strcmp(test_ids[i].name, a) == 0) {
		metrics_inc(test_ids[i].id);
		return;
	    }
	fail_msg("metrics-vectors.txt:%d: unknown counter %s", lineno, a);
    } else if (strcmp(verb, "probe") == 0 && got == 2) {
	metrics_probe((int) strtol(a, 0, 10));
    } else if (strcmp(verb, "fetch") == 0
	       && sscanf(op, " fetch %ld %ld %ld %ld", &n[0], &n[1], &n[2], &n[3]) == 4) {
	metrics_fetch((int) n[0], (int) n[1], (int) n[2], (int) n[3]);
    } else if (strcmp(verb, "decision") == 0 && got == 5) {
	/* t0 just before a second boundary: the difference crosses it. */
	t1.tv_sec = t0.tv_sec + (t0.tv_nsec + n[0] * 1000L) / 1000000000L;
	t1.tv_nsec = (t0.tv_nsec + n[0] * 1000L) % 1000000000L;
	metrics_decision(test_frontend(a, lineno), b, c, &t0, &t1);
    } else if (strcmp(verb, "own") == 0 && got == 2) {
	metrics_own(test_frontend(a, lineno));
    } else {
	fail_msg("metrics-vectors.txt:%d: bad operation \"%s\"", lineno, op);
    }
}

/* test_has_line - is want a whole line of out (or, prefix: the start of one)? */

static int test_has_line(const char *out, const char *want, int prefix)
{
    size_t  len = strlen(want);
    const char *p = out;

    while (*p) {
	if (strncmp(p, want, len) == 0 && (prefix || p[len] == '\n'))
	    return (1);
	if ((p = strchr(p, '\n')) == 0)
	    break;
	p++;
    }
    return (0);
}

/* test_family - the family of a sample name (histogram suffixes cut) */

static void test_family(const char *name, char *fam, size_t size, const char *out)
{
    static const char *suffix[] = {"_bucket", "_sum", "_count"};
    char    look[300];
    size_t  len = strlen(name);
    size_t  i, sl;

    (void) str_copy(fam, size, name);
    for (i = 0; i < 3; i++) {
	sl = strlen(suffix[i]);
	if (len > sl && strcmp(name + len - sl, suffix[i]) == 0) {
	    (void) snprintf(look, sizeof(look), "# TYPE %.*s histogram", (int) (len - sl), name);
	    if (test_has_line(out, look, 0)) {
		fam[len - sl] = 0;
		return;
	    }
	}
    }
}

/* test_shape - the text format 0.0.4 rules every render must follow */

static void test_shape(const char *name, char *out)
{
    char   *lines[LINES_MAX];
    char    help[300], type[300], fam[256], series[512];
    char   *p, *sp, *brace;
    int     count = 0;
    int     i, j;
    unsigned long v, prev = 0;
    int     in_hist = 0;

    assert_true(out[0] != 0 && out[strlen(out) - 1] == '\n');
    for (p = out; *p && count < LINES_MAX; p = strchr(p, '\n') + 1)
	lines[count++] = p;
    for (i = 0; i < count; i++) {
	if (*lines[i] == '#')
	    continue;
	(void) snprintf(series, sizeof(series), "%.*s", (int) strcspn(lines[i], " "), lines[i]);
	if ((brace = strchr(series, '{')) == 0)
	    fail_msg("%s: sample without labels: %s", name, series);
	(void) snprintf(fam, sizeof(fam), "%.*s", (int) (brace - series), series);
	test_family(fam, fam, sizeof(fam), out);
	(void) snprintf(help, sizeof(help), "# HELP %s ", fam);
	(void) snprintf(type, sizeof(type), "# TYPE %s ", fam);
	if (!test_has_line(out, help, 1) || !test_has_line(out, type, 1))
	    fail_msg("%s: %s has no # HELP or # TYPE line", name, fam);
	/* No series twice. */
	for (j = i + 1; j < count; j++)
	    if (strncmp(lines[j], series, strlen(series)) == 0 && lines[j][strlen(series)] == ' ')
		fail_msg("%s: %s appears twice", name, series);
	sp = lines[i] + strlen(series) + 1;
	v = strtoul(sp, 0, 10);
	/* Histograms: cumulative buckets; +Inf equals _count. */
	if (strstr(series, "_bucket{") != 0) {
	    if (in_hist && v < prev)
		fail_msg("%s: %s decreases", name, series);
	    in_hist = 1;
	    prev = v;
	} else if (strstr(series, "_count{") != 0) {
	    if (!in_hist || v != prev)
		fail_msg("%s: %s is %lu, the +Inf bucket %lu", name, series, v, prev);
	    in_hist = 0;
	}
    }
}

typedef struct CASE_CTX {
    int     cases;
} CASE_CTX;

static int test_vector(void *ctx, int lineno, int nfield, char **field)
{
    CASE_CTX *cc = (CASE_CTX *) ctx;
    char   *out;
    char   *item, *next;
    size_t  len;

    if (nfield != 3)
	fail_msg("metrics-vectors.txt:%d: expected 3 fields, got %d", lineno, nfield);
    metrics_reset();
    for (item = field[1]; item; item = next) {
	if ((next = strchr(item, ';')) != 0)
	    *next++ = 0;
	test_op(item, lineno);
    }
    out = malloc(OUT_MAX);
    assert_non_null(out);
    assert_int_equal(metrics_render(out, OUT_MAX, &len), STATUS_OK);
    assert_int_equal(len, strlen(out));
    test_shape(field[0], out);
    for (item = field[2]; item; item = next) {
	if ((next = strchr(item, ';')) != 0)
	    *next++ = 0;
	item = str_trim(item);
	if (*item == 0)
	    continue;
	if (*item == '!' ? test_has_line(out, item + 1, 1) : !test_has_line(out, item, 0)) {
	    print_message("%s\n", out);
	    fail_msg("metrics-vectors.txt:%d (%s): %s \"%s\"", lineno, field[0],
		     *item == '!' ? "unexpected line" : "missing line", *item == '!' ? item + 1 : item);
	}
    }
    free(out);
    cc->cases++;
    return (0);
}

static void test_vectors(void **state)
{
    CASE_CTX cc = {0};

    (void) state;
    assert_true(testdata_rows("metrics-vectors.txt", '|', test_vector, &cc) > 0);
    assert_true(cc.cases >= 9);
}

static int test_reply_row(void *ctx, int lineno, int nfield, char **field)
{
    (void) ctx;
    if (nfield != 2)
	fail_msg("metrics-reply.txt:%d: expected 2 fields", lineno);
    if (strcmp(metrics_reply_action(field[0]), field[1]) != 0)
	fail_msg("metrics-reply.txt:%d: \"%s\" is %s, expected %s", lineno, field[0],
		 metrics_reply_action(field[0]), field[1]);
    return (0);
}

static void test_reply(void **state)
{
    (void) state;
    assert_true(testdata_rows("metrics-reply.txt", '|', test_reply_row, 0) >= 8);
    assert_string_equal(metrics_reply_action(0), "other");
}

/* A buffer too small fails, NUL-terminated, and never overruns. */

static void test_small(void **state)
{
    char    buf[300];
    size_t  len = 99;

    (void) state;
    metrics_reset();
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(metrics_render(buf, 200, &len), STATUS_FAIL);
    assert_int_equal(len, 0);
    assert_true(strlen(buf) < 200);
    assert_int_equal(buf[250], 'x');
    assert_int_equal(metrics_render(buf, 0, &len), STATUS_FAIL);
}

/* Relaxed atomics lose no increment under contention. */

#define THREADS	4
#define ROUNDS	100000

static void *test_worker(void *arg)
{
    struct timespec t = {0, 0};
    int     i;

    (void) arg;
    for (i = 0; i < ROUNDS; i++) {
	metrics_inc(METRICS_CACHE_ANSWER_HIT);
	metrics_decision(METRICS_MILTER, "ok", "accept", &t, &t);
    }
    return (0);
}

static void test_threads(void **state)
{
    pthread_t tid[THREADS];
    char   *out;
    char    want[200];
    size_t  len;
    int     i;

    (void) state;
    metrics_reset();
    for (i = 0; i < THREADS; i++)
	assert_int_equal(pthread_create(&tid[i], 0, test_worker, 0), 0);
    for (i = 0; i < THREADS; i++)
	(void) pthread_join(tid[i], 0);
    out = malloc(OUT_MAX);
    assert_non_null(out);
    assert_int_equal(metrics_render(out, OUT_MAX, &len), STATUS_OK);
    (void) snprintf(want, sizeof(want), "stsfilter_cache_lookups_total{layer=\"answer\",result=\"hit\"} %d",
		    THREADS * ROUNDS);
    assert_true(test_has_line(out, want, 0));
    (void) snprintf(want, sizeof(want),
		    "stsfilter_decisions_total{frontend=\"milter\",verdict=\"ok\",action=\"accept\"} %d",
		    THREADS * ROUNDS);
    assert_true(test_has_line(out, want, 0));
    (void) snprintf(want, sizeof(want), "stsfilter_decision_duration_seconds_count{frontend=\"milter\"} %d",
		    THREADS * ROUNDS);
    assert_true(test_has_line(out, want, 0));
    free(out);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_vectors),
	cmocka_unit_test(test_reply),
	cmocka_unit_test(test_small),
	cmocka_unit_test(test_threads),
    };

    return (cmocka_run_group_tests_name("metrics", tests, 0, 0));
}
