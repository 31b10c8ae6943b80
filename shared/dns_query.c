/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	dns_query 3
 * SUMMARY
 *	asynchronous libunbound queries with deadlines
 * SYNOPSIS
 *	See dns_query.h.
 * DESCRIPTION
 *	Split from dns.c, whose header describes the threads, the
 *	reference counting between a waiting caller and the callback, and
 *	the mapping of results (RFC 4035 section 4.3 security states as
 *	libunbound reports them; RFC 7672 section 2.1.1: BOGUS is a
 *	temporary failure, never data). One of the two modules that
 *	include unbound.h (with dns.c).
 * SEE ALSO
 *	dns.c, libunbound(3).
 */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "clock.h"
#include "dns_query.h"
#include "log.h"
#include "status.h"
#include "str.h"
#include "text.h"

#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3

#define DNS_TIMEOUT_MAX	600000		/* sanity cap on timeout_ms */

/* dns_query_rcode_name - RCODE name for messages (RFC 1035 section 4.1.1) */

static const char *dns_query_rcode_name(int rcode)
{
    switch (rcode) {
    case 1:
	return ("FORMERR");
    case DNS_RCODE_SERVFAIL:
	return ("SERVFAIL");
    case DNS_RCODE_NXDOMAIN:
	return ("NXDOMAIN");
    case 4:
	return ("NOTIMP");
    case 5:
	return ("REFUSED");
    default:
	return ("error");
    }
}

/* dns_query_deadline_ts - a clock_mono_ms() deadline as a CLOCK_MONOTONIC time */

static void dns_query_deadline_ts(long long deadline, struct timespec *ts)
{
    ts->tv_sec = (time_t) (deadline / 1000);
    ts->tv_nsec = (long) ((deadline % 1000) * 1000000);
}

/* dns_query_deadline - absolute deadline for a lookup */

long long dns_query_deadline(int timeout_ms)
{
    if (timeout_ms < 1)
	timeout_ms = 1;
    if (timeout_ms > DNS_TIMEOUT_MAX)
	timeout_ms = DNS_TIMEOUT_MAX;
    return (clock_mono_ms() + timeout_ms);
}

/* dns_query_destroy - free a query nobody refers to */

static void dns_query_destroy(DNS_QUERY *q)
{
    if (q->res)
	ub_resolve_free(q->res);
    (void) pthread_cond_destroy(&q->cond);
    (void) pthread_mutex_destroy(&q->lock);
    free(q);
}

/* dns_query_release - drop n references */

static void dns_query_release(DNS_QUERY *q, int n)
{
    int     last;

    (void) pthread_mutex_lock(&q->lock);
    q->refs -= n;
    last = (q->refs <= 0);
    (void) pthread_mutex_unlock(&q->lock);
    if (last)
	dns_query_destroy(q);
}

/* dns_query_callback - libunbound result callback, runs in the pump thread */

static void dns_query_callback(void *arg, int err, struct ub_result *res)
{
    DNS_QUERY *q = arg;
    int     last;

    (void) pthread_mutex_lock(&q->lock);
    if (q->abandoned) {
	if (res)
	    ub_resolve_free(res);
    } else {
	q->err = err;
	q->res = res;
    }
    q->done = 1;
    (void) pthread_cond_signal(&q->cond);
    q->refs -= 1;
    last = (q->refs <= 0);
    (void) pthread_mutex_unlock(&q->lock);
    if (last)
	dns_query_destroy(q);
}

 /*
  * dns_query_start - allocate a query and hand it to libunbound. On
  * failure the query is still returned, marked done with err set, so
  * that callers treat every query alike.
  */
DNS_QUERY *dns_query_start(DNS *dns, const char *name, int type)
{
    pthread_condattr_t attr;
    DNS_QUERY *q;
    int     rc;

    if ((q = calloc(1, sizeof(*q))) == 0)
	return (0);
    (void) pthread_mutex_init(&q->lock, 0);
    (void) pthread_condattr_init(&attr);
    (void) pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    (void) pthread_cond_init(&q->cond, &attr);
    (void) pthread_condattr_destroy(&attr);
    (void) str_copy(q->name, sizeof(q->name), name);
    q->type = type;
    q->refs = 2;			/* the caller and the callback */
    rc = ub_resolve_async(dns->ctx, name, type, DNS_C_IN, q, dns_query_callback,
			  &q->async_id);
    if (rc != 0) {
	/* The callback will never run: drop its reference. */
	q->refs = 1;
	q->done = 1;
	q->err = rc;
    } else {
	q->started = 1;
    }
    return (q);
}

 /*
  * dns_query_finish - wait until the query is done or the deadline
  * passes, then give up the caller's reference. The answer goes to ans.
  */
void    dns_query_finish(DNS *dns, DNS_QUERY **qp, long long deadline,
			         DNS_ANSWER *ans, WHY *why)
{
    DNS_QUERY *q = *qp;
    struct timespec ts;
    struct ub_result *res = 0;
    const char *tname;
    char    safe[WHY_MAX];
    int     timed_out = 0;
    int     err = 0;
    int     drop = 1;

    memset(ans, 0, sizeof(*ans));
    ans->status = STATUS_RETRY;
    ans->info.security = DNS_INSECURE;
    if (q == 0) {
	why_set(why, "out of memory");
	return;
    }
    tname = dns_rr_type_name(q->type);
    dns_query_deadline_ts(deadline, &ts);
    (void) pthread_mutex_lock(&q->lock);
    while (!q->done) {
	if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) == ETIMEDOUT
	    && !q->done) {
	    timed_out = 1;
	    q->abandoned = 1;
	    break;
	}
    }
    if (!timed_out) {
	res = q->res;
	q->res = 0;
	err = q->err;
    }
    (void) pthread_mutex_unlock(&q->lock);

    if (timed_out && q->started) {
	/* Success means libunbound will never call dns_query_callback(). */
	if (ub_cancel(dns->ctx, q->async_id) == 0)
	    drop = 2;
    }
    dns_query_release(q, drop);
    *qp = 0;

    if (timed_out) {
	why_set(why, "%s lookup timed out", tname);
	goto timeout;
    }
    if (err != 0) {
	why_set(why, "%s lookup failed: %s", tname, ub_strerror(err));
	goto out;
    }
    if (res == 0) {
	why_set(why, "%s lookup failed: no result", tname);
	goto out;
    }
    ans->info.ttl = res->ttl;
    ans->info.security = res->bogus ? DNS_BOGUS :
	res->secure ? DNS_SECURE : DNS_INSECURE;
    if (res->canonname && res->qname && !dns_rr_same_name(res->canonname, res->qname)
	&& dns_rr_name_norm(res->canonname, ans->info.cname,
			 sizeof(ans->info.cname), 0) != STATUS_OK) {
	(void) text_sanitize(safe, sizeof(safe), res->canonname);
	log_warn("%s: ignoring invalid canonical name \"%s\"",
		 res->qname, safe);
	ans->info.cname[0] = 0;
    }
    if (res->bogus) {
	/* RFC 7672 section 2.1.1: BOGUS is a temporary failure. */
	(void) text_sanitize(safe, sizeof(safe),
			     res->why_bogus ? res->why_bogus : "no reason given");
	why_set(why, "%s lookup: DNSSEC validation failed (BOGUS): %s", tname, safe);
	goto out;
    }
    if (res->nxdomain || res->rcode == DNS_RCODE_NXDOMAIN) {
	ans->status = STATUS_NOTFOUND;
	ans->nxdomain = 1;
	why_set(why, "NXDOMAIN");
	goto out;
    }
    if (res->rcode != 0) {
	why_set(why, "%s lookup: %s", tname, dns_query_rcode_name(res->rcode));
	goto out;
    }
    if (!res->havedata) {
	ans->status = STATUS_NOTFOUND;
	why_set(why, "no %s record", tname);
	goto out;
    }
    ans->status = STATUS_OK;
    ans->res = res;
    res = 0;
out:
    if (res)
	ub_resolve_free(res);
timeout:
    return;
}

/* dns_query_lookup - one query, start to finish; the name before a reason */

void    dns_query_lookup(DNS *dns, const char *name, int type, long long deadline,
			         DNS_ANSWER *ans, WHY *why)
{
    DNS_QUERY *q = dns_query_start(dns, name, type);

    dns_query_finish(dns, &q, deadline, ans, why);
    if (ans->status != STATUS_OK)
	why_prefix(why, "%s", name);
}

/* dns_query_rrset - the records of a result, as libunbound lists them */

void    dns_query_rrset(const struct ub_result *res, DNS_RRSET *set)
{
    int     n = 0;

    set->data = res->data;
    set->len = res->len;
    if (res->data != 0 && res->len != 0)
	while (res->data[n] != 0 && n < 100000)
	    n++;
    set->count = n;
}

/* dns_query_pump - the pump thread: run libunbound callbacks as answers arrive */

void   *dns_query_pump(void *arg)
{
    DNS    *dns = arg;
    struct pollfd pfd[2];
    int     rc;

    for (;;) {
	pfd[0].fd = ub_fd(dns->ctx);
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	pfd[1].fd = dns->wake[0];
	pfd[1].events = POLLIN;
	pfd[1].revents = 0;
	if (poll(pfd, 2, -1) < 0) {
	    if (errno == EINTR)
		continue;
	    log_error("DNS pump: poll: %s; lookups will time out", strerror(errno));
	    break;
	}
	if (pfd[1].revents != 0)
	    break;				/* dns_free() */
	if (pfd[0].revents != 0 && (rc = ub_process(dns->ctx)) != 0) {
	    log_error("DNS pump: %s; lookups will time out", ub_strerror(rc));
	    break;
	}
    }
    return (0);
}
