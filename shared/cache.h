/* SPDX-License-Identifier: ISC */
#ifndef CACHE_H_INCLUDED
#define CACHE_H_INCLUDED

/*
 * NAME
 *	cache 3h
 * SUMMARY
 *	policy and route cache (RFC 8461 sections 3.3 and 5.1): an
 *	in-process table in front of an optional shared backend (LMDB on
 *	one host, Redis across a cluster)
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	int	cache_create(int max_entries, CACHE **cache, WHY *why)
 *	int	cache_open(const CACHE_OPTS *opts, CACHE **cache, WHY *why)
 *	void	cache_free(CACHE **cache)
 *
 *	int	cache_policy_get(CACHE *cache, const char *domain,
 *			CACHE_POLICY *out)
 *	int	cache_policy_put(CACHE *cache, const char *domain,
 *			const CACHE_POLICY *in)
 *	int	cache_policy_delete(CACHE *cache, const char *domain)
 *	void	cache_policy_clear(CACHE_POLICY *policy)
 *
 *	int	cache_policy_get_shared(CACHE *cache, const char *domain,
 *			CACHE_POLICY *out)
 *	int	cache_negative_get(CACHE *cache, const char *domain,
 *			CACHE_POLICY *out)
 *	int	cache_peek(CACHE *cache, const char *domain,
 *			CACHE_POLICY *out)
 *	int	cache_negative_put(CACHE *cache, const char *domain,
 *			const char *hosts, long ttl)
 *
 *	int	cache_probe_get(CACHE *cache, const char *host, int port,
 *			int dane, int shared, CACHE_POLICY *out)
 *	int	cache_probe_put(CACHE *cache, const char *host, int port,
 *			int dane, const char *body, long ttl)
 *	int	cache_probe_key(char *key, size_t size, const char *host,
 *			int port, int dane)
 *	void	cache_probe_prefetch(CACHE *cache, const char *const *hosts,
 *			int count, int port, int secure)
 *
 *	int	cache_answer_get(CACHE *cache, const char *domain,
 *			void *head, size_t head_size, char *tail,
 *			size_t tail_size, size_t *tail_len)
 *	int	cache_answer_put(CACHE *cache, const char *domain,
 *			const void *body, size_t len, time_t expires)
 *	void	cache_answer_drop(CACHE *cache, const char *domain)
 *
 *	int	cache_purge_all(CACHE *cache)
 *	void	cache_l1_drop(CACHE *cache, const char *domain)
 *	void	cache_l1_flush(CACHE *cache)
 *	int	cache_purge_notice(CACHE *cache, const char *domain)
 *	int	cache_purge_poll(CACHE *cache)
 *	void	cache_stats(CACHE *cache, CACHE_STATS *stats)
 *	int	cache_lock(CACHE *cache, const char *domain, int ttl_ms)
 *	void	cache_unlock(CACHE *cache, const char *domain)
 *
 *	int	cache_encode(const CACHE_POLICY *rec, unsigned char *buf,
 *			size_t size, size_t *len)
 *	int	cache_decode(const unsigned char *buf, size_t len,
 *			CACHE_POLICY *out)
 * DESCRIPTION
 *	The engine's interface to cached MTA-STS state. Every call is
 *	thread-safe. Domains are normalized by the caller.
 *
 *	cache_create() makes an in-process cache only (max_entries, no
 *	byte bound beyond the default). cache_open() makes the in-process
 *	cache (L1: opts->memory_entries entries and opts->memory_bytes
 *	bytes, least recently used first out) in front of the backend
 *	named by opts->backend. When the backend cannot be opened the
 *	cache logs one error and works from memory alone: a backend
 *	failure never fails a lookup (it is a miss), and never fails
 *	cache_open() either (never lose mail).
 *
 *	A policy record is the raw policy body as fetched (parsed again on
 *	use, so backends store plain bytes), the TXT id it was fetched
 *	under, when it was fetched and when the TXT id was last seen
 *	unchanged (checked). It is fresh while clock_now() < fetched +
 *	max_age (RFC 8461 section 3.2: max_age is the policy's lifetime in
 *	the cache; section 5.1: a fresh cached policy stays in force when
 *	a later TXT lookup or fetch fails).
 *
 *	A negative record says "no MTA-STS policy and no DNSSEC-secure MX"
 *	until expires; its body is the MX host list ("PREF NAME\n" lines,
 *	an empty body for the implicit MX) so that a verdict can be given
 *	without any network access.
 *
 *	cache_policy_get() and cache_negative_get() copy a fresh record of
 *	their kind into out (out->body is allocated; release it with
 *	cache_policy_clear()) and return STATUS_OK, or STATUS_NOTFOUND
 *	(expired records are dropped). cache_policy_put() stores a copy
 *	under the domain's key, replacing any record there (a negative one
 *	included); cache_negative_put() does the same with a negative
 *	record that lives ttl seconds. Puts write through to the backend.
 *	A put replaces the L1 entry even when the backend write fails.
 *
 *	cache_policy_get_shared() is cache_policy_get() that skips L1 and
 *	reads the backend's authoritative copy (Redis: the primary, never
 *	a replica, which may lag behind), and refreshes L1 from it;
 *	STATUS_NOTFOUND when there is no backend. It is how a process
 *	waiting on another one's cluster lock sees what that one just
 *	stored. Other gets may be answered by a Redis replica.
 *
 *	cache_peek() is a read-only look for a diagnosis (`stsfilter
 *	check`): it copies the domain's record of either kind (policy or
 *	negative; out->kind says which, out->expires when it stops being
 *	used) as the backend holds it, expired or not, from the
 *	authoritative copy (the Redis primary; L1 when there is no
 *	backend), and changes nothing: no L1 fill, no delete of an expired
 *	or corrupt record, no counters. STATUS_OK, STATUS_NOTFOUND,
 *	STATUS_RETRY (backend trouble) or STATUS_INVAL (a corrupt record).
 *	With opts->read_only, cache_open() opens an LMDB file read-only
 *	and never creates it (nothing may then be stored).
 *
 *	A probe record is the outcome of one MX host's STARTTLS probe
 *	(RFC 8461 section 4: results are per host, not per domain), keyed
 *	by host name, port and whether DANE (RFC 7672) decided it, with a
 *	lifetime chosen by the caller (route.c: cache_success_ttl after a
 *	pass, cache_failure_ttl after a failure). Its body is owned by
 *	route.c (see PROBE BODY below); cache.c only stores it.
 *	cache_probe_get() copies a fresh one into out (shared: skip L1 and
 *	read the backend's authoritative copy, as cache_policy_get_shared()
 *	does; STATUS_NOTFOUND without one); cache_probe_put()
 *	stores body for ttl seconds (1 to CACHE_PROBE_TTL_MAX). A DANE=0
 *	body with a "secure=1" line (no TLSA record applied to a host of a
 *	DNSSEC-secure MX RRset) also writes the host's DANE=1 key with the
 *	marker CACHE_PROBE_NO_DANE for the same lifetime, which
 *	cache_probe_get() answers as STATUS_NOTFOUND: every key the engine
 *	reads is also written, and the marker is served from L1.
 *	cache_probe_prefetch() reads, in one round trip (Redis MGET), the
 *	probe records of count MX hosts (at most CACHE_MGET_MAX / 2) that
 *	the next cache_probe_get() calls of a decision will ask for: the
 *	DANE=0 key of each, and with secure (a DNSSEC-secure MX RRset)
 *	also the DANE=1 key, leaving out those fresh in L1; what it finds
 *	fills L1. Without a backend that can (LMDB: reads are local) it
 *	does nothing. It changes no answer, only the number of round trips.
 *	cache_probe_key() writes the record's key, which is also the name
 *	to give cache_lock() for the cluster-wide probe lock; -1 when it
 *	does not fit.
 *
 *	An answer record (route.c: the compact answer of a warm decision,
 *	answer.h) lives in L1 only, under "a:" DOMAIN, and is never
 *	written to a backend: it is this process's summary of records the
 *	backend holds. Its body is opaque, at most CACHE_ANSWER_BODY_MAX
 *	bytes. cache_answer_put() stores a copy until expires (then it is
 *	dropped when read), replacing the domain's answer; STATUS_INVAL
 *	when the domain or body is too long, STATUS_RETRY out of memory.
 *	cache_answer_get() copies the body's first head_size bytes into
 *	head and the rest into tail, NUL-terminated, with its length in
 *	*tail_len (nothing is allocated; tail may be null when the rest
 *	is to be dropped): STATUS_OK, or STATUS_NOTFOUND when there is
 *	none, it expired, or it is shorter than head_size, or its rest
 *	does not fit tail_size with a NUL.
 *	cache_answer_drop() removes it. Answers count against
 *	memory_entries and memory_bytes with the other L1 records.
 *
 *	cache_purge_all() empties L1 and the backend (only keys under the
 *	key prefix, for Redis). cache_l1_drop() removes a domain's record
 *	and answer from this process's L1 only; cache_l1_flush() empties
 *	L1 only.
 *
 *	Purge notices (cache_purge.c) carry `stsfilter cache purge` to the
 *	running daemons, which keep records and answers in their own L1.
 *	cache_purge_notice() adds "domain was purged" (null: everything
 *	was) to the backend's record of the last CACHE_PURGE_KEEP purges,
 *	under key "purges", numbered; STATUS_OK (also without a backend:
 *	there is no one to tell), or STATUS_RETRY when the backend failed.
 *	cache_purge_poll() reads that record and drops from L1 what was
 *	purged since this process last looked (all of L1 when it missed
 *	notices, or for a purge of everything); the first call only learns
 *	where the numbering stands. It returns how many domains it
 *	dropped, -1 when it flushed L1. The engine calls it once a second
 *	from its scheduler thread (route_refresh.c). The record is
 *	untrusted backend data: a record that does not parse is logged
 *	once and ignored.
 cache_stats() fills counters: lookups,
 *	L1 hits, backend hits, misses, backend errors, L1 entries and
 *	bytes, backend entries (-1: unknown) and the backend's state.
 *
 *	cache_lock() takes the cluster-wide lock "lock:DOMAIN" for ttl_ms
 *	(Redis SET NX PX); it returns STATUS_OK when taken or when there is
 *	no shared backend, STATUS_RETRY when another process holds it.
 *	cache_unlock() releases a lock this process holds.
 *
 * KEY LAYOUT
 *	Both backends use the same keys (Redis prepends redis_key_prefix):
 *	"d:" DOMAIN for the domain's record (policy or negative);
 *	"p:" HOST ":" PORT ":" DANE (DANE is 0 or 1) for an MX host's
 *	probe record; "lock:" NAME for a cluster lock, where NAME is a
 *	domain (policy fetch) or a probe key (probe); "purges" for the
 *	purge notices (kind 5, body "SEQ DOMAIN" lines, newest first, "*"
 *	for everything; CACHE_PURGE_TTL). Redis
 *	keys carry a TTL: a policy until fetched + max_age, a negative
 *	or probe record for its lifetime, so that Redis cannot grow without bound.
 *	A probe record lives its own lifetime (expires). `stsfilter cache
 *	purge DOMAIN` does not remove probe records (they belong to hosts);
 *	--all does.
 *	LMDB records are dropped when read expired, and expired records
 *	are swept when the map is full.
 *
 * VALUE FORMAT (version 1)
 *	All integers are unsigned big-endian unless said otherwise.
 *	offset size
 *	0      1    magic 0x53 ('S')
 *	1      1    format version, 1
 *	2      1    kind: 1 policy, 2 negative, 3 probe, 5 purge notices
 *	            (4, the kept answer, lives in L1 only: never encoded)
 *	3      1    flags, 0
 *	4      8    fetched, seconds since the epoch (signed)
 *	12     8    expires, seconds since the epoch (signed)
 *	20     8    checked, seconds since the epoch (signed)
 *	28     4    max_age, seconds (at most 31557600, RFC 8461 3.2)
 *	32     1    id length n, at most 32 (RFC 8461 3.1)
 *	33     n    id, [A-Za-z0-9]
 *	33+n   4    body length m, at most CACHE_BODY_MAX
 *	37+n   m    body
 *	The value is exactly 37+n+m bytes. Backend data is untrusted:
 *	cache_decode() returns STATUS_INVAL for anything else (wrong
 *	magic, unknown version or kind, a length out of range, trailing
 *	bytes, expires inconsistent with fetched + max_age; for a probe
 *	record: an id, a max_age, a body over CACHE_PROBE_BODY_MAX, or
 *	expires before fetched or after fetched + CACHE_PROBE_TTL_MAX; for
 *	the purge notices: an id, a max_age or expires before fetched),
 *	and the caller treats that as a miss and logs a warning.
 *
 * PROBE BODY (route.c, version 1)
 *	Text lines "NAME=VALUE\n" (each line ends with a newline); "v=1"
 *	first, then "passed=0|1", "reason=N" (a PROBE_* code, 0 to 99,
 *	0 exactly when passed=1),
 *	"secure=0|1" (the result was made for a DNSSEC-secure MX RRset:
 *	TLSA records were looked at; only such a DANE=0 record may answer
 *	for a domain whose MX RRset is secure), "ms=N", then optional
 *	"address=", "tls=", "issuer=", "not_after=N", "cname=",
 *	"detail=" and up to 8 "name=" lines (certificate names); the
 *	required names appear exactly once. Values are sanitized text
 *	(no control characters) within the VERDICT_HOST field sizes.
 *	route.c rejects anything else (unknown name, missing v, passed or
 *	reason, a value out of range or too long) as a corrupt record: a
 *	miss and a warning, and the host is probed.
 *
 * WHO FREES WHAT
 *	The caller owns CACHE (cache_free()), and out->body after a get
 *	(cache_policy_clear()). Puts copy their input.
 * SEE ALSO
 *	cache_lmdb.c, cache_redis.c: the backends (CACHE_STORE below).
 */

#include <stddef.h>
#include <time.h>

#include "why.h"

#define CACHE_BODY_MAX		65536	/* POLICY_BODY_MAX */
#define CACHE_KEY_MAX		300	/* "d:" + domain, with room */
#define CACHE_VALUE_MAX		(37 + 32 + CACHE_BODY_MAX)
#define CACHE_MAX_AGE_MAX	31557600L	/* RFC 8461 section 3.2 */

#define CACHE_KIND_POLICY	1
#define CACHE_KIND_NEGATIVE	2
#define CACHE_KIND_PROBE	3
#define CACHE_KIND_ANSWER	4	/* L1 only, never encoded */
#define CACHE_KIND_PURGES	5	/* key "purges": cache_purge.c */

#define CACHE_PURGE_KEEP	64	/* purge notices kept in the record */
#define CACHE_PURGE_TTL		(30 * 86400)	/* the record's lifetime */

#define CACHE_ANSWER_BODY_MAX	(131072)	/* an answer with a socketmap reply */
#define CACHE_MGET_MAX		32	/* keys in one cache_probe_prefetch() */

#define CACHE_PROBE_BODY_MAX	4096
#define CACHE_PROBE_TTL_MAX	604800L	/* a week */
#define CACHE_PROBE_NO_DANE	"none\n"	/* marker body: no DANE result */

#define CACHE_BACKEND_MEMORY	0
#define CACHE_BACKEND_LMDB	1
#define CACHE_BACKEND_REDIS	2

#define CACHE_REDIS_REPLICA_MAX	16

typedef struct CACHE CACHE;

typedef struct CACHE_POLICY {
    char    txt_id[33];			/* RFC 8461 section 3.1 id */
    time_t  fetched;			/* clock_now() at the fetch */
    long    max_age;			/* seconds (RFC 8461 section 3.2) */
    char   *body;			/* policy text as fetched */
    size_t  len;
    time_t  checked;			/* TXT id last seen unchanged; 0: fetched */
    int     kind;			/* CACHE_KIND_*; 0 means policy */
    time_t  expires;			/* negative: end of life */
} CACHE_POLICY;

typedef struct CACHE_OPTS {
    int     backend;			/* CACHE_BACKEND_* */
    int     memory_entries;
    long    memory_bytes;
    const char *path;			/* LMDB file */
    size_t  lmdb_map_size;		/* LMDB map (file) bound; 0: default */
    const char *redis_server;		/* host:port or unix:/path */
    const char *const *redis_replicas;	/* same syntax; reads */
    int     redis_replica_count;	/* 0 to CACHE_REDIS_REPLICA_MAX */
    const char *const *redis_sentinels;	/* same syntax; name the primary */
    int     redis_sentinel_count;	/* 0: redis_server is the primary */
    const char *redis_master_name;	/* the primary the sentinels watch */
    const char *redis_sentinel_user;	/* AUTH to the sentinels; empty: default */
    const char *redis_sentinel_password;	/* empty: no AUTH to the sentinels */
    const char *redis_user;
    const char *redis_password;
    int     redis_database;
    const char *redis_key_prefix;
    int     redis_connect_timeout_ms;
    int     redis_command_timeout_ms;
    int     read_only;			/* LMDB: open read-only, never create */
} CACHE_OPTS;

typedef struct CACHE_STATS {
    long    lookups;
    long    l1_hits;
    long    backend_hits;
    long    misses;
    long    backend_errors;
    long    corrupt;
    long    l1_entries;
    long    l1_bytes;
    long    backend_entries;		/* -1: unknown */
    char    backend[16];		/* memory, lmdb, redis */
    char    state[128];			/* e.g. "connected", "down: ..." */
} CACHE_STATS;

extern int cache_create(int, CACHE **, WHY *);
extern int cache_open(const CACHE_OPTS *, CACHE **, WHY *);
extern void cache_free(CACHE **);
extern int cache_policy_get(CACHE *, const char *, CACHE_POLICY *);
extern int cache_policy_put(CACHE *, const char *, const CACHE_POLICY *);
extern int cache_policy_delete(CACHE *, const char *);
extern void cache_policy_clear(CACHE_POLICY *);
extern int cache_policy_get_shared(CACHE *, const char *, CACHE_POLICY *);
extern int cache_negative_get(CACHE *, const char *, CACHE_POLICY *);
extern int cache_peek(CACHE *, const char *, CACHE_POLICY *);
extern int cache_negative_put(CACHE *, const char *, const char *, long);
extern int cache_probe_get(CACHE *, const char *, int, int, int, CACHE_POLICY *);
extern int cache_probe_put(CACHE *, const char *, int, int, const char *, long);
extern int cache_probe_key(char *, size_t, const char *, int, int);
extern void cache_probe_prefetch(CACHE *, const char *const *, int, int, int);
extern int cache_answer_get(CACHE *, const char *, void *, size_t, char *, size_t, size_t *);
extern int cache_answer_put(CACHE *, const char *, const void *, size_t, time_t);
extern void cache_answer_drop(CACHE *, const char *);
extern int cache_purge_all(CACHE *);
extern void cache_l1_drop(CACHE *, const char *);
extern void cache_l1_flush(CACHE *);
extern int cache_purge_notice(CACHE *, const char *);
extern int cache_purge_poll(CACHE *);
extern void cache_stats(CACHE *, CACHE_STATS *);
extern int cache_lock(CACHE *, const char *, int);
extern void cache_unlock(CACHE *, const char *);
extern int cache_encode(const CACHE_POLICY *, unsigned char *, size_t, size_t *);
extern int cache_decode(const unsigned char *, size_t, CACHE_POLICY *);

/*
 * Backend interface, for cache_lmdb.c and cache_redis.c only. Keys are
 * NUL-terminated, at most CACHE_KEY_MAX bytes. get() returns a malloc'ed
 * value of at most CACHE_VALUE_MAX bytes (the caller frees it), and
 * STATUS_OK, STATUS_NOTFOUND or STATUS_RETRY (backend trouble); it may
 * read a copy that lags behind (a Redis replica). get_primary(), when not
 * null, is get() from the authoritative copy (the Redis primary). mget(),
 * when not null, is get() of n keys (at most CACHE_MGET_MAX) in one round
 * trip: it returns STATUS_OK with st[i] STATUS_OK (vals[i], lens[i] set)
 * or STATUS_NOTFOUND per key, or STATUS_RETRY with nothing set. put()
 * stores with a time to live in seconds (> 0). lock() is SET NX PX with
 * a token; unlock() deletes the key only if the token is still there.
 * count() sets -1 when unknown. state() writes a short description.
 * Every function is thread-safe.
 */
typedef struct CACHE_STORE {
    const char *name;
    void   *ctx;
    int     (*get) (void *, const char *, unsigned char **, size_t *);
    int     (*get_primary) (void *, const char *, unsigned char **, size_t *);
    int     (*mget) (void *, const char *const *, int, unsigned char **, size_t *, int *);
    int     (*put) (void *, const char *, const unsigned char *, size_t, long);
    int     (*del) (void *, const char *);
    int     (*purge) (void *);
    void    (*count) (void *, long *);
    void    (*state) (void *, char *, size_t);
    int     (*lock) (void *, const char *, const char *, int);
    void    (*unlock) (void *, const char *, const char *);
    void    (*close) (void **);
} CACHE_STORE;

extern int cache_lmdb_open(const CACHE_OPTS *, CACHE_STORE *, WHY *);
extern int cache_redis_open(const CACHE_OPTS *, CACHE_STORE *, WHY *);

#endif
