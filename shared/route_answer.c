/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route_answer 3
 * SUMMARY
 *	the warm path: a domain's compact answer, served from the cache
 *	until the first of its inputs expires, rebuilt in the background
 * DESCRIPTION
 *	See route.h (route_answer()). The answer of a domain is kept in the
 *	cache's L1 (cache_answer_put(), in-process only) as one body: a
 *	ROUTE_ANSWER_HEAD (the flags it was made with and the ANSWER) and,
 *	with ROUTE_SOCKETMAP, the socketmap reply after it (with the TLS-RPT
 *	attributes under ROUTE_SOCKETMAP_TLSRPT: another answer, which
 *	replaces the plain one of the domain). A hit copies
 *	both out under the cache's lock: no thread, no DNS, no parsing, no
 *	allocation.
 *
 *	Lifetime: the verdict's answer_until (route.c sets it to the
 *	earliest expiry of its inputs: the MX RRset TTL, the policy's
 *	recheck time and max_age, each host's probe result and TLSA TTL,
 *	the negative entry). Past it, the answer is served stale for at
 *	most ROUTE_STALE_S seconds while one background rebuild per domain
 *	runs on the refresh threads (RFC 8461 section 3.3 lets a sender
 *	use a cached policy while it is refreshed; RFC 8767 section 5 is
 *	the same idea for DNS data, bounded in time). Without refresh
 *	threads, or with a full queue, an expired answer is rebuilt in the
 *	lookup (the cold path). A temporary verdict is never kept.
 *
 *	A rebuild that keeps nothing (the check came back temporary, or
 *	failed) leaves the stale answer in place with a retry time
 *	ROUTE_REBUILD_RETRY_S ahead: until then lookups are served stale
 *	without queueing another rebuild, so that a domain whose DNS or
 *	policy host is failing is checked again every 30 s, not once per
 *	lookup, for the rest of the stale window.
 */

#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "cache.h"
#include "clock.h"
#include "domain.h"
#include "log.h"
#include "socketmap.h"
#include "status.h"
#include "str.h"
#include "verdict.h"
#include "route_impl.h"

typedef struct ROUTE_ANSWER_HEAD {
    int     flags;			/* ROUTE_* it was made with */
    time_t  retry_at;			/* stale: no rebuild before this */
    ANSWER  answer;
} ROUTE_ANSWER_HEAD;

/* The flags that make a different answer. */

#define ROUTE_ANSWER_FLAGS	(ROUTE_FIRST | ROUTE_CACHED | ROUTE_SOCKETMAP | ROUTE_SOCKETMAP_TLSRPT)

/*
 * Make the answer from v and keep it when it may be reused: 1 when kept.
 * With ROUTE_SOCKETMAP the reply is written into reply (the caller's) and
 * kept after the head.
 */
static int route_answer_make(ROUTE *r, const VERDICT *v, int flags, ANSWER *ans, char *reply,
			             size_t reply_size)
{
    ROUTE_ANSWER_HEAD *head = 0;
    const char *basis = "";
    size_t  len = 0;
    char   *body = 0;
    int     kept = 0;

    answer_from_verdict(v, ans);
    if ((flags & ROUTE_SOCKETMAP) && reply && reply_size > 0) {
	ans->socketmap_status = socketmap_reply_ext(v, (flags & ROUTE_SOCKETMAP_TLSRPT) ? SOCKETMAP_WANT_TLSRPT : 0,
						    reply, reply_size, &ans->socketmap_flags, &basis);
	(void) str_copy(ans->socketmap_basis, sizeof(ans->socketmap_basis), basis);
	ans->socketmap_len = len = strlen(reply);
    }
    if (ans->until <= ans->built || v->verdict == VERDICT_TEMPORARY)
	goto done;
    if (sizeof(*head) + len > CACHE_ANSWER_BODY_MAX || (body = malloc(sizeof(*head) + len)) == 0)
	goto done;
    head = (ROUTE_ANSWER_HEAD *) body;
    memset(head, 0, sizeof(*head));
    head->flags = flags & ROUTE_ANSWER_FLAGS;
    head->answer = *ans;
    if (len)
	memcpy(body + sizeof(*head), reply, len);
    if (cache_answer_put(r->cache, v->domain, body, sizeof(*head) + len, ans->until + ROUTE_STALE_S) == STATUS_OK)
	kept = 1;
    else
	log_warn("%s: cannot keep the answer in memory", v->domain);

done:
    free(body);
    return (kept);
}

/* The cold path: the engine's whole check, then the answer (*kept: 1 when kept). */

static int route_answer_cold(ROUTE *r, const char *domain, int budget_ms, int flags, ANSWER *ans,
			             char *reply, size_t reply_size, int *kept, WHY *why)
{
    VERDICT *v = 0;
    int     status;

    *kept = 0;
    status = route_check(r, domain, budget_ms, flags & ~(ROUTE_SOCKETMAP | ROUTE_SOCKETMAP_TLSRPT), &v, why);
    if (status == STATUS_OK && v)
	*kept = route_answer_make(r, v, flags, ans, reply, reply_size);
    verdict_free(&v);
    return (status);
}

/* The domain's kept answer made with flags: head, and the reply after it. */

static int route_answer_find(ROUTE *r, const char *domain, int flags, ROUTE_ANSWER_HEAD *head, char *reply,
			             size_t reply_size)
{
    size_t  len = 0;

    return (cache_answer_get(r->cache, domain, head, sizeof(*head), (flags & ROUTE_SOCKETMAP) ? reply : 0,
			     reply_size, &len) == STATUS_OK && head->flags == flags);
}

/*
 * After a rebuild that kept nothing: the stale answer of the domain, if it
 * is still the one in the cache, waits ROUTE_REBUILD_RETRY_S before the
 * next rebuild. Its lifetime in the cache (until + ROUTE_STALE_S) stays.
 */
static void route_answer_pause(ROUTE *r, const char *domain, int flags, char *tail, size_t tail_size)
{
    ROUTE_ANSWER_HEAD head;
    time_t  now = clock_now();
    size_t  len = 0;
    char   *body = 0;

    if (cache_answer_get(r->cache, domain, &head, sizeof(head), tail, tail_size, &len) != STATUS_OK
	|| head.flags != flags || now < head.answer.until || now >= head.answer.until + ROUTE_STALE_S)
	goto done;
    head.retry_at = now + ROUTE_REBUILD_RETRY_S;
    head.answer.kept = head.answer.stale = 0;
    if ((body = malloc(sizeof(head) + len)) == 0)
	goto done;
    memcpy(body, &head, sizeof(head));
    if (len)
	memcpy(body + sizeof(head), tail, len);
    if (cache_answer_put(r->cache, domain, body, sizeof(head) + len, head.answer.until + ROUTE_STALE_S) == STATUS_OK)
	log_info("%s: background rebuild kept no answer; the expired one serves, next try in %d s",
		 domain, ROUTE_REBUILD_RETRY_S);

done:
    free(body);
}

/* Background rebuild (route_refresh.c): the whole check, with its own budget. */

void    route_answer_rebuild(ROUTE *r, const char *domain, int flags)
{
    char   *reply = 0;
    ANSWER  ans;
    WHY     why;
    int     budget = r->opts.dns_timeout_ms * 3 + r->opts.fetch_timeout_ms
    + r->opts.probe_connect_timeout_ms + r->opts.probe_read_timeout_ms * 4;
    int     kept = 0;

    why.text[0] = 0;
    memset(&ans, 0, sizeof(ans));
    if ((flags & ROUTE_SOCKETMAP) && (reply = malloc(SOCKETMAP_REPLY_MAX + 1)) == 0)
	goto done;
    (void) route_answer_cold(r, domain, budget, flags | ROUTE_REBUILD, &ans, reply,
			     reply ? SOCKETMAP_REPLY_MAX + 1 : 0, &kept, &why);
    if (!kept)
	route_answer_pause(r, domain, flags & ROUTE_ANSWER_FLAGS, reply, reply ? SOCKETMAP_REPLY_MAX + 1 : 0);

done:
    free(reply);
}

int     route_answer(ROUTE *r, const char *in, int budget_ms, int flags, ANSWER *ans, char *reply,
		             size_t reply_size, WHY *why)
{
    char    domain[DOMAIN_MAX + 1];
    const char *name = domain;
    ROUTE_ANSWER_HEAD head;
    time_t  now;
    int     status = STATUS_OK;
    int     hit;
    int     kept;

    memset(ans, 0, sizeof(*ans));
    if (reply && reply_size)
	reply[0] = 0;
    flags &= ROUTE_ANSWER_FLAGS;

    /*
     * Answers are kept under the normalized domain only, and the key is
     * "a:" and the name, so a hit under the name as given means it is
     * already normalized (the front ends pass rcpt_domain() or
     * socketmap_key() output): the warm path does not normalize again.
     * A miss normalizes, and looks again when that changed the name
     * (then the answer metrics count both looks).
     */
    if ((hit = (in != 0 && strnlen(in, DOMAIN_MAX + 1) <= DOMAIN_MAX
		&& route_answer_find(r, in, flags, &head, reply, reply_size))) != 0)
	name = in;
    else if ((status = domain_normalize(in, domain, sizeof(domain), why)) != STATUS_OK)
	goto done;
    else if (strcmp(domain, in) != 0)
	hit = route_answer_find(r, domain, flags, &head, reply, reply_size);
    if (hit) {
	now = clock_now();
	*ans = head.answer;
	ans->kept = 1;
	if (now < ans->until)
	    goto done;
	/* Stale: one background rebuild, this lookup answers now. */
	if (now < ans->until + ROUTE_STALE_S
	    && (now < head.retry_at || route_refresh_enqueue(r, name, ROUTE_POLICY_REBUILD, flags) == 0)) {
	    ans->stale = 1;
	    goto done;
	}
	memset(ans, 0, sizeof(*ans));
	if (reply && reply_size)
	    reply[0] = 0;
    }
    status = route_answer_cold(r, name, budget_ms, flags, ans, reply, reply_size, &kept, why);

done:
    return (status);
}
