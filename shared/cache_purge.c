/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache_purge 3
 * SUMMARY
 *	purge notices: `stsfilter cache purge` reaches the running daemons
 * DESCRIPTION
 *	See cache.h (cache_purge_notice(), cache_purge_poll()). A daemon
 *	keeps records and answers in its own L1, so deleting a domain's
 *	record from LMDB or Redis alone would not change what the daemons
 *	answer until their copies expire (a policy's copy lives for its
 *	max_age). The command therefore also adds a numbered notice to the
 *	backend record "purges" (the last CACHE_PURGE_KEEP notices, newest
 *	first), and every engine reads that record once a second and drops
 *	what was purged since it last looked. On one host (LMDB) and across
 *	a cluster (Redis) alike, a purge takes effect within about a
 *	second.
 *
 *	The record's body is text, one notice a line: "SEQ DOMAIN", SEQ a
 *	decimal number that grows by one with each purge, DOMAIN a domain
 *	or "*" (everything). It is untrusted backend data: a body that
 *	does not parse is logged once (when it changes) and ignored.
 *
 *	Two purges at the same moment may both take the same number; the
 *	later write wins and the other notice is lost. A daemon that sees
 *	the numbering go back, or skip past what the record still lists,
 *	empties its whole L1 instead: a purge is never missed, at worst
 *	it costs a few more cold lookups.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_impl.h"
#include "clock.h"
#include "domain.h"
#include "log.h"
#include "status.h"
#include "str.h"

#define CACHE_PURGE_KEY		"purges"

typedef struct CACHE_PURGE_NOTE {
    unsigned long seq;
    char    domain[DOMAIN_MAX + 1];	/* or "*" */
} CACHE_PURGE_NOTE;

/* cache_purge_domain_ok - "*", or a domain as domain_normalize() leaves it */

static int cache_purge_domain_ok(const char *s, size_t len)
{
    char    in[DOMAIN_MAX + 1];
    char    norm[DOMAIN_MAX + 1];

    if (len == 1 && s[0] == '*')
	return (1);
    if (len == 0 || len > DOMAIN_MAX)
	return (0);
    memcpy(in, s, len);
    in[len] = 0;
    return (domain_normalize(in, norm, sizeof(norm), 0) == STATUS_OK && strcmp(norm, in) == 0);
}

/*
 * cache_purge_parse - the notices of a body, newest first: how many, or
 * -1 when the body does not parse (numbers must fall, names be names).
 */
static int cache_purge_parse(const char *body, size_t len, CACHE_PURGE_NOTE *notes, int max)
{
    const char *p = body;
    const char *end = body + len;
    const char *nl;
    const char *sp;
    char    num[24];
    long    seq;
    int     n = 0;
    int     result = -1;

    while (p < end) {
	if ((nl = memchr(p, '\n', (size_t) (end - p))) == 0 || n >= max)
	    goto done;
	if ((sp = memchr(p, ' ', (size_t) (nl - p))) == 0 || sp == p || (size_t) (sp - p) >= sizeof(num))
	    goto done;
	memcpy(num, p, (size_t) (sp - p));
	num[sp - p] = 0;
	if (str_to_long(num, 1, LONG_MAX, &seq) != 0 || (n > 0 && (unsigned long) seq >= notes[n - 1].seq))
	    goto done;
	if (!cache_purge_domain_ok(sp + 1, (size_t) (nl - sp - 1)))
	    goto done;
	notes[n].seq = (unsigned long) seq;
	memcpy(notes[n].domain, sp + 1, (size_t) (nl - sp - 1));
	notes[n].domain[nl - sp - 1] = 0;
	n++;
	p = nl + 1;
    }
    result = n;

done:
    return (result);
}

int     cache_purge_notice(CACHE *c, const char *domain)
{
    CACHE_PURGE_NOTE notes[CACHE_PURGE_KEEP];
    CACHE_POLICY old;
    CACHE_POLICY rec;
    unsigned char *val = 0;
    unsigned char *buf = 0;
    char   *body = 0;
    size_t  len = 0;
    size_t  blen = 0;
    size_t  used = 0;
    unsigned long seq = 1;
    int     n = 0;
    int     i;
    int     st;
    int     status = STATUS_OK;

    memset(&old, 0, sizeof(old));
    if (domain && !cache_purge_domain_ok(domain, strlen(domain))) {
	status = STATUS_INVAL;
	goto done;
    }
    if (c->store.put == 0)
	goto done;				/* memory only: no one else to tell */
    status = STATUS_RETRY;
    st = (c->store.get_primary ? c->store.get_primary : c->store.get) (c->store.ctx, CACHE_PURGE_KEY, &val, &len);
    if (st == STATUS_RETRY)
	goto done;
    if (st == STATUS_OK && cache_decode(val, len, &old) == STATUS_OK && old.kind == CACHE_KIND_PURGES
	&& (n = cache_purge_parse(old.body, old.len, notes, CACHE_PURGE_KEEP)) > 0)
	seq = notes[0].seq + 1;
    if (n < 0)
	n = 0;					/* unreadable: start again (daemons flush) */
    if (n > CACHE_PURGE_KEEP - 1)
	n = CACHE_PURGE_KEEP - 1;
    blen = CACHE_PURGE_KEEP * (size_t) (DOMAIN_MAX + 24);
    if ((body = malloc(blen)) == 0 || (buf = malloc(CACHE_VALUE_MAX)) == 0)
	goto done;
    used = (size_t) snprintf(body, blen, "%lu %s\n", seq, domain ? domain : "*");
    for (i = 0; i < n && used < blen; i++)
	used += (size_t) snprintf(body + used, blen - used, "%lu %s\n", notes[i].seq, notes[i].domain);
    if (used >= blen)
	goto done;
    memset(&rec, 0, sizeof(rec));
    rec.kind = CACHE_KIND_PURGES;
    rec.fetched = clock_now();
    rec.checked = rec.fetched;
    rec.expires = rec.fetched + CACHE_PURGE_TTL;
    rec.body = body;
    rec.len = used;
    if (cache_encode(&rec, buf, CACHE_VALUE_MAX, &len) != STATUS_OK)
	goto done;
    status = c->store.put(c->store.ctx, CACHE_PURGE_KEY, buf, len, CACHE_PURGE_TTL);

done:
    cache_policy_clear(&old);
    free(val);
    free(body);
    free(buf);
    return (status);
}

int     cache_purge_poll(CACHE *c)
{
    CACHE_PURGE_NOTE notes[CACHE_PURGE_KEEP];
    CACHE_POLICY rec;
    unsigned char *val = 0;
    size_t  len = 0;
    int     n;
    int     i;
    int     st;
    int     result = 0;

    memset(&rec, 0, sizeof(rec));
    if (c->store.get == 0)
	goto done;
    if ((st = c->store.get(c->store.ctx, CACHE_PURGE_KEY, &val, &len)) != STATUS_OK) {
	if (st == STATUS_NOTFOUND)
	    c->purge_polled = 1;		/* no purge yet: numbering from 0 */
	goto done;
    }
    if (c->purge_last && len == c->purge_last_len && memcmp(val, c->purge_last, len) == 0)
	goto done;				/* nothing new */
    free(c->purge_last);
    c->purge_last = val;
    c->purge_last_len = len;
    val = 0;
    if (cache_decode(c->purge_last, len, &rec) != STATUS_OK || rec.kind != CACHE_KIND_PURGES
	|| (n = cache_purge_parse(rec.body, rec.len, notes, CACHE_PURGE_KEEP)) < 0) {
	log_warn("cache: %s: the purge notices (key \"%s\") do not parse; ignored", c->store.name,
		 CACHE_PURGE_KEY);
	goto done;
    }
    if (n == 0)
	goto done;
    if (!c->purge_polled) {
	c->purge_polled = 1;			/* at start: nothing in L1 is older */
	c->purge_seq = notes[0].seq;
	goto done;
    }
    if (notes[0].seq == c->purge_seq)
	goto done;
    if (notes[0].seq < c->purge_seq || notes[n - 1].seq > c->purge_seq + 1) {
	cache_l1_flush(c);
	log_info("cache: purge notices renumbered or missed (now %lu, last applied %lu): in-process cache emptied",
		 notes[0].seq, c->purge_seq);
	result = -1;
    } else {
	for (i = 0; i < n && notes[i].seq > c->purge_seq; i++) {
	    if (strcmp(notes[i].domain, "*") == 0) {
		cache_l1_flush(c);
		log_info("cache: everything purged (stsfilter cache purge --all): in-process cache emptied");
		result = -1;
		break;
	    }
	    cache_l1_drop(c, notes[i].domain);
	    log_info("%s: purged from the cache (stsfilter cache purge): dropped from this process", notes[i].domain);
	    result++;
	}
    }
    c->purge_seq = notes[0].seq;

done:
    cache_policy_clear(&rec);
    free(val);
    return (result);
}
