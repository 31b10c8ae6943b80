/* SPDX-License-Identifier: ISC */
#ifndef DNS_QUERY_H_INCLUDED
#define DNS_QUERY_H_INCLUDED

/*
 * NAME
 *	dns_query 3h
 * SUMMARY
 *	asynchronous libunbound queries with deadlines (private to dns*.c)
 * SYNOPSIS
 *	#include "dns_query.h"
 *
 *	long long dns_query_deadline(int timeout_ms)
 *	DNS_QUERY *dns_query_start(DNS *dns, const char *name, int type)
 *	void	dns_query_finish(DNS *dns, DNS_QUERY **q, long long deadline,
 *			DNS_ANSWER *ans, WHY *why)
 *	void	dns_query_lookup(DNS *dns, const char *name, int type,
 *			long long deadline, DNS_ANSWER *ans, WHY *why)
 *	void	dns_query_rrset(const struct ub_result *res, DNS_RRSET *set)
 *	void   *dns_query_pump(void *dns)
 * DESCRIPTION
 *	The threading and cancellation half of dns.c (see its header for
 *	the design). dns_query_deadline() turns a timeout into an absolute
 *	clock_mono_ms() deadline (1 ms to 10 minutes). dns_query_start()
 *	hands one query to libunbound; dns_query_finish() waits for it
 *	until the deadline and fills ans: STATUS_OK with ans->res (the
 *	caller frees it with ub_resolve_free()), STATUS_NOTFOUND (NXDOMAIN
 *	or NODATA), or STATUS_RETRY (SERVFAIL, other rcodes, BOGUS, errors,
 *	timeout), with ans->info and a reason in why. dns_query_lookup()
 *	is both for one query, with the name before a failure's reason.
 *	dns_query_rrset() describes the records of a result for dns_rr.c.
 *	dns_query_pump() is the pump thread's body (dns_create()).
 */

#include <pthread.h>

#include <unbound.h>

#include "dns.h"
#include "dns_rr.h"
#include "why.h"

#define DNS_C_IN	1

struct DNS {
    struct ub_ctx *ctx;
    pthread_t pump;
    int     pump_started;
    int     wake[2];			/* self-pipe: write end wakes the pump */
};

 /*
  * One asynchronous query. See the header comment for the reference
  * counting between the waiting caller and the callback.
  */
typedef struct DNS_QUERY {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int     refs;
    int     done;			/* callback has run */
    int     abandoned;			/* caller gave up */
    int     err;			/* libunbound error code */
    struct ub_result *res;		/* owned by the query until taken */
    int     async_id;
    int     started;
    char    name[DNS_NAME_MAX + 1];
    int     type;
} DNS_QUERY;

 /*
  * The outcome of one query, ready for the type-specific parsers.
  */
typedef struct DNS_ANSWER {
    int     status;
    int     nxdomain;			/* NOTFOUND: NXDOMAIN, else NODATA */
    DNS_INFO info;
    struct ub_result *res;		/* set when status == STATUS_OK */
} DNS_ANSWER;

extern long long dns_query_deadline(int);
extern DNS_QUERY *dns_query_start(DNS *, const char *, int);
extern void dns_query_finish(DNS *, DNS_QUERY **, long long, DNS_ANSWER *, WHY *);
extern void dns_query_lookup(DNS *, const char *, int, long long, DNS_ANSWER *, WHY *);
extern void dns_query_rrset(const struct ub_result *, DNS_RRSET *);
extern void *dns_query_pump(void *);

#endif
