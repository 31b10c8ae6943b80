/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	metrics 3
 * SUMMARY
 *	Prometheus counters and latency histograms (fixed labels, lock-free)
 * DESCRIPTION
 *	See metrics.h. Every value is a C11 atomic in a static array,
 *	updated with relaxed adds: a counter needs no ordering with other
 *	memory, and a scrape that sees one bucket a moment before another
 *	is still a valid sample. A histogram keeps one count per bucket
 *	(not cumulative) and the sum in microseconds; the render adds the
 *	buckets up, so that _count is always the +Inf bucket.
 *
 *	The text exposition format is Prometheus's version 0.0.4: "# HELP"
 *	and "# TYPE" once per family, then one "name{labels} value" line
 *	per series. Label values here are constants without '"' or '\\',
 *	so nothing needs escaping.
 */

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"
#include "probe.h"
#include "status.h"
#include "verdict.h"

/* Families of the plain counters. */
enum {
    METRICS_FAM_CACHE,
    METRICS_FAM_CACHE_ERRORS,
    METRICS_FAM_FETCH,
    METRICS_FAM_PROBE,
    METRICS_FAM_FLIGHT,
    METRICS_FAM_REFRESH,
};

static const struct {
    const char *name;
    const char *help;
} metrics_families[] = {
    {"stsfilter_cache_lookups_total",
     "Cache lookups by layer (answer: a domain's kept answer; l1: the in-process cache; lmdb, redis: the backend) and result."},
    {"stsfilter_cache_errors_total",
     "Cache backend operations that failed (each is a miss; decisions go on without the backend)."},
    {"stsfilter_policy_fetches_total",
     "MTA-STS policy fetches by result (shared: a cluster peer fetched it; temporary: DNS or time budget)."},
    {"stsfilter_probes_total",
     "STARTTLS probes of MX hosts by result."},
    {"stsfilter_singleflight_waits_total",
     "Checks that waited for the same domain's check in progress (process: another thread; cluster: another host)."},
    {"stsfilter_refreshes_total",
     "Background refresh jobs run, by kind (recheck: TXT id; refetch: before max_age ends; rebuild: a kept answer)."},
};

#define METRICS_ROW(id, fam, labels) {METRICS_FAM_##fam, labels},
static const struct {
    int     family;
    const char *labels;
} metrics_rows[METRICS_COUNTERS] = {
    METRICS_TABLE(METRICS_ROW)
};

#undef METRICS_ROW

static atomic_ulong metrics_counter[METRICS_COUNTERS];

/* Decisions: fixed verdict and action label sets; the last is "other". */
static const char *metrics_verdicts[] = {
    "no-policy", "none", "ok", "testing-fail", "enforce-fail", "temporary", "null-mx",
    "internal-error", "skipped", "invalid", "other",
};

#define METRICS_VERDICTS (sizeof(metrics_verdicts) / sizeof(metrics_verdicts[0]))

static const char *metrics_actions[] = {
    "accept", "tag", "defer", "reject",		/* milter, smtpd (action.h) */
    "secure", "dane-only", "dane", "notfound", "temp", "perm",	/* socketmap replies */
    "other",
};

#define METRICS_ACTIONS (sizeof(metrics_actions) / sizeof(metrics_actions[0]))

static const char *metrics_frontends[METRICS_FRONTENDS] = {"milter", "smtpd", "policyd"};

static atomic_ulong metrics_decisions[METRICS_FRONTENDS][METRICS_VERDICTS][METRICS_ACTIONS];

/* Latency buckets: upper bounds in microseconds, and as "le" labels. */
static const unsigned long metrics_bound_us[] = {
    10, 100, 500, 1000, 5000, 10000, 50000, 100000, 500000, 1000000, 2500000, 5000000, 10000000,
};
static const char *metrics_bound_le[] = {
    "1e-05", "0.0001", "0.0005", "0.001", "0.005", "0.01", "0.05", "0.1", "0.5", "1", "2.5", "5", "10",
};

#define METRICS_BOUNDS (sizeof(metrics_bound_us) / sizeof(metrics_bound_us[0]))

static atomic_ulong metrics_bucket[METRICS_FRONTENDS][METRICS_BOUNDS + 1];	/* last: +Inf */
static atomic_ulong metrics_sum_us[METRICS_FRONTENDS];
static atomic_int metrics_owner = -1;

void    metrics_inc(int id)
{
    if (id >= 0 && id < METRICS_COUNTERS)
	atomic_fetch_add_explicit(&metrics_counter[id], 1, memory_order_relaxed);
}

void    metrics_probe(int reason)
{
    static const int map[][2] = {
	{PROBE_OK, METRICS_PROBE_OK},
	{PROBE_STARTTLS_NOT_SUPPORTED, METRICS_PROBE_STARTTLS},
	{PROBE_CERT_HOST_MISMATCH, METRICS_PROBE_HOST_MISMATCH},
	{PROBE_CERT_EXPIRED, METRICS_PROBE_EXPIRED},
	{PROBE_CERT_NOT_TRUSTED, METRICS_PROBE_NOT_TRUSTED},
	{PROBE_VALIDATION_FAILURE, METRICS_PROBE_VALIDATION},
	{PROBE_TLSA_INVALID, METRICS_PROBE_TLSA_INVALID},
	{PROBE_UNREACHABLE, METRICS_PROBE_UNREACHABLE},
	{PROBE_TIMEOUT, METRICS_PROBE_TIMEOUT},
	{PROBE_PROTOCOL, METRICS_PROBE_PROTOCOL},
    };
    size_t  i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
	if (map[i][0] == reason) {
	    metrics_inc(map[i][1]);
	    return;
	}
    metrics_inc(METRICS_PROBE_OTHER);
}

void    metrics_fetch(int fetched, int shared, int reason, int transient)
{
    if (fetched)
	metrics_inc(shared ? METRICS_FETCH_SHARED : METRICS_FETCH_OK);
    else if (transient)
	metrics_inc(METRICS_FETCH_TEMPORARY);
    else if (reason == REASON_STS_POLICY_INVALID)
	metrics_inc(METRICS_FETCH_INVALID);
    else if (reason == REASON_STS_WEBPKI_INVALID)
	metrics_inc(METRICS_FETCH_WEBPKI);
    else
	metrics_inc(METRICS_FETCH_ERROR);
}

/* metrics_index - position of name in a label set; the last ("other") if absent */

static size_t metrics_index(const char **set, size_t n, const char *name)
{
    size_t  i;

    for (i = 0; name && i < n - 1; i++)
	if (strcmp(set[i], name) == 0)
	    return (i);
    return (n - 1);
}

const char *metrics_reply_action(const char *reply)
{
    if (reply == 0)
	return ("other");
    if (strncmp(reply, "OK secure", 9) == 0)
	return ("secure");
    if (strncmp(reply, "OK dane-only", 12) == 0)
	return ("dane-only");
    if (strncmp(reply, "OK dane", 7) == 0)
	return ("dane");
    if (strncmp(reply, "NOTFOUND", 8) == 0)
	return ("notfound");
    if (strncmp(reply, "TEMP", 4) == 0)
	return ("temp");
    if (strncmp(reply, "PERM", 4) == 0)
	return ("perm");
    return ("other");
}

void    metrics_decision(int fe, const char *verdict, const char *action, const struct timespec *t0,
			         const struct timespec *t1)
{
    long long us;
    size_t  b;

    if (fe < 0 || fe >= METRICS_FRONTENDS)
	return;
    atomic_fetch_add_explicit(&metrics_decisions[fe][metrics_index(metrics_verdicts, METRICS_VERDICTS, verdict)]
			      [metrics_index(metrics_actions, METRICS_ACTIONS, action)], 1, memory_order_relaxed);
    us = (long long) (t1->tv_sec - t0->tv_sec) * 1000000LL + (t1->tv_nsec - t0->tv_nsec) / 1000;
    if (us < 0)
	us = 0;
    for (b = 0; b < METRICS_BOUNDS && (unsigned long long) us > metrics_bound_us[b]; b++)
	 /* void */ ;
    atomic_fetch_add_explicit(&metrics_bucket[fe][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&metrics_sum_us[fe], (unsigned long) us, memory_order_relaxed);
}

void    metrics_own(int fe)
{
    atomic_store_explicit(&metrics_owner, fe, memory_order_relaxed);
}

void    metrics_reset(void)
{
    size_t  i, j, k;

    for (i = 0; i < METRICS_COUNTERS; i++)
	atomic_store_explicit(&metrics_counter[i], 0, memory_order_relaxed);
    for (i = 0; i < METRICS_FRONTENDS; i++) {
	for (j = 0; j < METRICS_VERDICTS; j++)
	    for (k = 0; k < METRICS_ACTIONS; k++)
		atomic_store_explicit(&metrics_decisions[i][j][k], 0, memory_order_relaxed);
	for (j = 0; j <= METRICS_BOUNDS; j++)
	    atomic_store_explicit(&metrics_bucket[i][j], 0, memory_order_relaxed);
	atomic_store_explicit(&metrics_sum_us[i], 0, memory_order_relaxed);
    }
    atomic_store_explicit(&metrics_owner, -1, memory_order_relaxed);
}

/* The render's output buffer: appends until it is full, then only fails. */

typedef struct METRICS_OUT {
    char   *buf;
    size_t  size;
    size_t  len;
    int     full;
} METRICS_OUT;

static void metrics_put(METRICS_OUT *o, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void metrics_put(METRICS_OUT *o, const char *fmt,...)
{
    va_list ap;
    int     n;

    if (o->full)
	return;
    va_start(ap, fmt);
    n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= o->size - o->len) {
	o->full = 1;
	o->buf[o->len] = 0;
	return;
    }
    o->len += (size_t) n;
}

static unsigned long metrics_get(atomic_ulong *a)
{
    return (atomic_load_explicit(a, memory_order_relaxed));
}

static void metrics_render_counters(METRICS_OUT *o)
{
    int     fam = -1;
    int     i;

    for (i = 0; i < METRICS_COUNTERS; i++) {
	if (metrics_rows[i].family != fam) {
	    fam = metrics_rows[i].family;
	    metrics_put(o, "# HELP %s %s\n# TYPE %s counter\n", metrics_families[fam].name,
			metrics_families[fam].help, metrics_families[fam].name);
	}
	metrics_put(o, "%s{%s} %lu\n", metrics_families[fam].name, metrics_rows[i].labels,
		    metrics_get(&metrics_counter[i]));
    }
}

static void metrics_render_decisions(METRICS_OUT *o)
{
    size_t  i, j, k;
    unsigned long n;

    metrics_put(o, "# HELP stsfilter_decisions_total Recipient decisions (milter, smtpd) and socketmap lookups"
		" (policyd) by verdict and action (policyd: the kind of reply).\n"
		"# TYPE stsfilter_decisions_total counter\n");
    for (i = 0; i < METRICS_FRONTENDS; i++)
	for (j = 0; j < METRICS_VERDICTS; j++)
	    for (k = 0; k < METRICS_ACTIONS; k++)
		if ((n = metrics_get(&metrics_decisions[i][j][k])) != 0)
		    metrics_put(o, "stsfilter_decisions_total{frontend=\"%s\",verdict=\"%s\",action=\"%s\"} %lu\n",
				metrics_frontends[i], metrics_verdicts[j], metrics_actions[k], n);
}

static void metrics_render_latency(METRICS_OUT *o)
{
    const char *name = "stsfilter_decision_duration_seconds";
    int     owner = atomic_load_explicit(&metrics_owner, memory_order_relaxed);
    unsigned long count;
    unsigned long sum;
    size_t  b;
    int     i;

    metrics_put(o, "# HELP %s Time from the request to the decision, by front end.\n# TYPE %s histogram\n",
		name, name);
    for (i = 0; i < METRICS_FRONTENDS; i++) {
	for (count = 0, b = 0; b <= METRICS_BOUNDS; b++)
	    count += metrics_get(&metrics_bucket[i][b]);
	if (count == 0 && i != owner)
	    continue;
	for (count = 0, b = 0; b <= METRICS_BOUNDS; b++) {
	    count += metrics_get(&metrics_bucket[i][b]);
	    metrics_put(o, "%s_bucket{frontend=\"%s\",le=\"%s\"} %lu\n", name, metrics_frontends[i],
			b < METRICS_BOUNDS ? metrics_bound_le[b] : "+Inf", count);
	}
	sum = metrics_get(&metrics_sum_us[i]);
	metrics_put(o, "%s_sum{frontend=\"%s\"} %lu.%06lu\n", name, metrics_frontends[i], sum / 1000000UL,
		    sum % 1000000UL);
	metrics_put(o, "%s_count{frontend=\"%s\"} %lu\n", name, metrics_frontends[i], count);
    }
}

int     metrics_render(char *buf, size_t size, size_t *len)
{
    METRICS_OUT out;

    *len = 0;
    if (size == 0)
	return (STATUS_FAIL);
    out.buf = buf;
    out.size = size;
    out.len = 0;
    out.full = 0;
    buf[0] = 0;
    metrics_render_decisions(&out);
    metrics_render_latency(&out);
    metrics_render_counters(&out);
    if (out.full)
	return (STATUS_FAIL);
    *len = out.len;
    return (STATUS_OK);
}
