/* SPDX-License-Identifier: ISC */
#ifndef METRICS_H_INCLUDED
#define METRICS_H_INCLUDED

/*
 * NAME
 *	metrics 3h
 * SUMMARY
 *	Prometheus counters and latency histograms of the engine and the
 *	front ends
 * SYNOPSIS
 *	#include "metrics.h"
 *
 *	void	metrics_inc(int counter)
 *
 *	void	metrics_probe(int probe_reason)
 *
 *	void	metrics_fetch(int fetched, int shared, int reason, int transient)
 *
 *	void	metrics_decision(int frontend, const char *verdict,
 *			const char *action, const struct timespec *t0,
 *			const struct timespec *t1)
 *
 *	const char *metrics_reply_action(const char *socketmap_reply)
 *
 *	void	metrics_own(int frontend)
 *
 *	int	metrics_render(char *buf, size_t size, size_t *len)
 *
 *	void	metrics_reset(void)
 * DESCRIPTION
 *	One process-wide table of counters with fixed label sets (never
 *	a domain name, a host name or any other remote text as a label).
 *	Every update is one relaxed C11 atomic add on a static array: no
 *	lock, no allocation, safe from any thread, cheap on the RCPT path.
 *	Counters only grow; they start at zero with the process.
 *
 *	metrics_inc() adds one to a counter of METRICS_TABLE (below).
 *
 *	metrics_probe() counts one MX probe by its PROBE_* result (probe.h);
 *	an unknown value counts as "other".
 *
 *	metrics_fetch() counts one policy fetch by its outcome: fetched
 *	(a policy was fetched and parsed: "ok"), shared (a cluster peer's
 *	fetch was used: "shared"), else transient ("temporary") or the
 *	REASON_* of the failure (verdict.h).
 *
 *	metrics_decision() counts one RCPT decision (or socketmap lookup)
 *	of front end frontend (METRICS_MILTER, METRICS_SMTPD,
 *	METRICS_POLICYD) by verdict name (verdict_name(), or
 *	"internal-error", "skipped", "invalid") and action name
 *	(action_name(), or metrics_reply_action() of a socketmap reply),
 *	and observes t1 - t0 in the front end's latency histogram. A name
 *	outside the fixed sets counts as "other".
 *
 *	metrics_reply_action() names the kind of a socketmap reply:
 *	"secure", "dane-only", "dane", "notfound", "temp", "perm", else
 *	"other". The result is a static string.
 *
 *	metrics_own() names the front end of this process: its histogram
 *	is rendered even before its first observation.
 *
 *	metrics_render() writes every counter in the Prometheus text
 *	exposition format 0.0.4 into buf (# HELP and # TYPE lines, then
 *	the samples; histograms as cumulative _bucket{le=...}, _sum and
 *	_count). A decisions series appears once it is not zero. STATUS_OK
 *	with *len, or STATUS_FAIL when buf is too small (METRICS_RENDER_MAX
 *	always suffices).
 *
 *	metrics_reset() sets everything to zero (unit tests).
 */

#include <stddef.h>
#include <time.h>

/* Front ends (label frontend). */
#define METRICS_MILTER		0
#define METRICS_SMTPD		1
#define METRICS_POLICYD		2
#define METRICS_FRONTENDS	3

#define METRICS_RENDER_MAX	(256 * 1024)

/*
 * The plain counters: id, family (METRICS_FAM_*), labels. Rows of one
 * family are adjacent; the render keeps this order.
 */
/* *INDENT-OFF* */
#define METRICS_TABLE(X) \
    X(CACHE_ANSWER_HIT, CACHE, "layer=\"answer\",result=\"hit\"") \
    X(CACHE_ANSWER_MISS, CACHE, "layer=\"answer\",result=\"miss\"") \
    X(CACHE_L1_HIT, CACHE, "layer=\"l1\",result=\"hit\"") \
    X(CACHE_L1_MISS, CACHE, "layer=\"l1\",result=\"miss\"") \
    X(CACHE_LMDB_HIT, CACHE, "layer=\"lmdb\",result=\"hit\"") \
    X(CACHE_LMDB_MISS, CACHE, "layer=\"lmdb\",result=\"miss\"") \
    X(CACHE_REDIS_HIT, CACHE, "layer=\"redis\",result=\"hit\"") \
    X(CACHE_REDIS_MISS, CACHE, "layer=\"redis\",result=\"miss\"") \
    X(LMDB_ERROR, CACHE_ERRORS, "backend=\"lmdb\"") \
    X(REDIS_ERROR, CACHE_ERRORS, "backend=\"redis\"") \
    X(FETCH_OK, FETCH, "result=\"ok\"") \
    X(FETCH_SHARED, FETCH, "result=\"shared\"") \
    X(FETCH_TEMPORARY, FETCH, "result=\"temporary\"") \
    X(FETCH_ERROR, FETCH, "result=\"sts-policy-fetch-error\"") \
    X(FETCH_INVALID, FETCH, "result=\"sts-policy-invalid\"") \
    X(FETCH_WEBPKI, FETCH, "result=\"sts-webpki-invalid\"") \
    X(PROBE_OK, PROBE, "result=\"ok\"") \
    X(PROBE_STARTTLS, PROBE, "result=\"starttls-not-supported\"") \
    X(PROBE_HOST_MISMATCH, PROBE, "result=\"certificate-host-mismatch\"") \
    X(PROBE_EXPIRED, PROBE, "result=\"certificate-expired\"") \
    X(PROBE_NOT_TRUSTED, PROBE, "result=\"certificate-not-trusted\"") \
    X(PROBE_VALIDATION, PROBE, "result=\"validation-failure\"") \
    X(PROBE_TLSA_INVALID, PROBE, "result=\"tlsa-invalid\"") \
    X(PROBE_UNREACHABLE, PROBE, "result=\"unreachable\"") \
    X(PROBE_TIMEOUT, PROBE, "result=\"timeout\"") \
    X(PROBE_PROTOCOL, PROBE, "result=\"protocol\"") \
    X(PROBE_OTHER, PROBE, "result=\"other\"") \
    X(FLIGHT_PROCESS, FLIGHT, "scope=\"process\"") \
    X(FLIGHT_CLUSTER, FLIGHT, "scope=\"cluster\"") \
    X(REFRESH_RECHECK, REFRESH, "kind=\"recheck\"") \
    X(REFRESH_REFETCH, REFRESH, "kind=\"refetch\"") \
    X(REFRESH_REBUILD, REFRESH, "kind=\"rebuild\"")
/* *INDENT-ON* */

#define METRICS_ENUM_ID(id, fam, labels) METRICS_##id,
enum {
    METRICS_TABLE(METRICS_ENUM_ID)
    METRICS_COUNTERS
};

#undef METRICS_ENUM_ID

extern void metrics_inc(int);
extern void metrics_probe(int);
extern void metrics_fetch(int, int, int, int);
extern void metrics_decision(int, const char *, const char *, const struct timespec *,
			             const struct timespec *);
extern const char *metrics_reply_action(const char *);
extern void metrics_own(int);
extern int metrics_render(char *, size_t, size_t *);
extern void metrics_reset(void);

#endif
