/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache_lmdb 3
 * SUMMARY
 *	LMDB backend of the policy cache (one host, several processes)
 * SYNOPSIS
 *	#include "cache.h"
 *
 *	int	cache_lmdb_open(const CACHE_OPTS *opts, CACHE_STORE *store,
 *			WHY *why)
 * DESCRIPTION
 *	The only module that uses LMDB. cache_lmdb_open() opens (creating
 *	it when missing, mode 0600) the single-file environment
 *	opts->path (MDB_NOSUBDIR) with one unnamed database (with
 *	opts->read_only: MDB_RDONLY, never created), clears stale
 *	reader slots left by dead processes, and fills store with the
 *	functions of the backend interface in cache.h. Keys and values are
 *	those of cache.h (KEY LAYOUT, VALUE FORMAT); this module stores
 *	bytes and never interprets a value, except to sweep expired
 *	records when the map is full (bytes 12-19, "expires").
 *
 *	LMDB has no TTLs: cache.c drops expired records when it reads
 *	them. The map is opts->lmdb_map_size bytes (address space; the
 *	file grows as pages are used). A write that finds the map full
 *	sweeps expired records, then evicts the quarter of the records
 *	nearest their expiry (a sample of expiry times gives the cut),
 *	and as a last resort empties the database, and tries again: a
 *	full map never fails a write. Several processes on one host share
 *	the file (LMDB's own locking); MDB_NOTLS lets any thread use a
 *	read transaction.
 *
 *	Durability: the environment is opened MDB_NOSYNC, so that no
 *	commit (a write on the RCPT path) waits for fsync. A background
 *	thread calls mdb_env_sync() every CACHE_LMDB_SYNC_SECONDS when
 *	something was committed, and once more at close. A crash of the
 *	process loses nothing (committed pages are in the page cache); a
 *	crash of the system loses at most the commits of the last
 *	CACHE_LMDB_SYNC_SECONDS. LMDB writes copy-on-write pages and the
 *	meta page last, so a lost tail is an older consistent snapshot
 *	(LMDB's ACI guarantee without D, on a file system that keeps the
 *	order of writes, as ext4 and XFS do for data=ordered).
 *
 *	A value longer than CACHE_VALUE_MAX is treated as absent and
 *	reported as corrupt by size (cache.c then deletes it).
 *
 *	A full disk is an error, never a signal: LMDB sizes its lock file
 *	(path-lock) with ftruncate() and writes it through a shared
 *	mapping, and a write to a page that has no disk block yet, on a
 *	full file system, kills the process with SIGBUS. cache_lmdb_open()
 *	therefore allocates the lock file's blocks (posix_fallocate())
 *	before mdb_env_open(); when that fails the open fails, and cache.c
 *	works from memory. The data file is written with pwrite() (no
 *	MDB_WRITEMAP), so a full disk there makes a write fail with ENOSPC.
 *
 *	store->close() closes the environment; store->ctx is owned by
 *	the store.
 */

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "status.h"
#include "str.h"

#define CACHE_LMDB_MAPSIZE	((size_t) 4 * 1024 * 1024 * 1024)	/* lmdb_map_size default */
#define CACHE_LMDB_READERS	512
#define CACHE_LMDB_SLOT		64	/* LMDB's MDB_reader, one cache line */
#define CACHE_LMDB_LOCK_HEAD	4096	/* more than LMDB's MDB_txninfo header */
#define CACHE_LMDB_SYNC_SECONDS	2
#define CACHE_LMDB_SAMPLES	1024	/* expiry times sampled to pick the eviction cut */

typedef struct CACHE_LMDB {
    MDB_env *env;
    MDB_dbi dbi;
    char    path[1024];
    pthread_mutex_t lock;		/* dirty, stop */
    pthread_cond_t wake;
    int     dirty;			/* committed since the last sync */
    int     stop;
    int     syncer;			/* the sync thread runs */
    int     evicting;			/* a thread makes room */
    size_t  room_pgno;			/* last page in use after it did */
    size_t  psize;			/* page size */
    pthread_t sync_tid;
} CACHE_LMDB;

/* cache_lmdb_committed - a write transaction was committed: sync soon */

static void cache_lmdb_committed(CACHE_LMDB *l)
{
    (void) pthread_mutex_lock(&l->lock);
    l->dirty = 1;
    (void) pthread_mutex_unlock(&l->lock);
}

/* cache_lmdb_syncer - flush committed writes every few seconds */

static void *cache_lmdb_syncer(void *arg)
{
    CACHE_LMDB *l = (CACHE_LMDB *) arg;
    struct timespec until;
    int     dirty;
    int     rc;

    (void) pthread_mutex_lock(&l->lock);
    while (!l->stop) {
	(void) clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += CACHE_LMDB_SYNC_SECONDS;
	while (!l->stop && pthread_cond_timedwait(&l->wake, &l->lock, &until) != ETIMEDOUT)
	     /* void */ ;
	dirty = l->dirty;
	l->dirty = 0;
	if (dirty) {
	    (void) pthread_mutex_unlock(&l->lock);
	    if ((rc = mdb_env_sync(l->env, 1)) != 0) {
		log_warn("cache: lmdb %s: sync: %s", l->path, mdb_strerror(rc));
		metrics_inc(METRICS_LMDB_ERROR);
	    }
	    (void) pthread_mutex_lock(&l->lock);
	}
    }
    (void) pthread_mutex_unlock(&l->lock);
    return (0);
}

static int cache_lmdb_get(void *ctx, const char *key, unsigned char **val, size_t *len)
{
    CACHE_LMDB *l = (CACHE_LMDB *) ctx;
    MDB_txn *txn = 0;
    MDB_val k, v;
    int     rc;
    int     status = STATUS_RETRY;

    *val = 0;
    *len = 0;
    k.mv_data = (void *) key;
    k.mv_size = strlen(key);
    if ((rc = mdb_txn_begin(l->env, 0, MDB_RDONLY, &txn)) != 0) {
	log_warn("cache: lmdb %s: %s", l->path, mdb_strerror(rc));
	metrics_inc(METRICS_LMDB_ERROR);
	goto done;
    }
    rc = mdb_get(txn, l->dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
	status = STATUS_NOTFOUND;
	goto done;
    }
    if (rc != 0) {
	log_warn("cache: lmdb %s: get %s: %s", l->path, key, mdb_strerror(rc));
	metrics_inc(METRICS_LMDB_ERROR);
	goto done;
    }
    /* Untrusted: an oversized value is handed over as 1 byte, which decodes as corrupt. */
    if ((*val = malloc(v.mv_size > CACHE_VALUE_MAX ? 1 : v.mv_size + 1)) == 0)
	goto done;
    if (v.mv_size > CACHE_VALUE_MAX) {
	(*val)[0] = 0;
	*len = 1;
    } else {
	memcpy(*val, v.mv_data, v.mv_size);
	*len = v.mv_size;
    }
    status = STATUS_OK;

done:
    if (txn)
	mdb_txn_abort(txn);
    return (status);
}

/* cache_lmdb_expires - a value's "expires"; LONG_MIN-like when too short to say */

static int64_t cache_lmdb_expires(const MDB_val *v)
{
    const unsigned char *p = (const unsigned char *) v->mv_data;
    uint64_t exp = 0;
    int     i;

    if (v->mv_size < 20)
	return (INT64_MIN);
    for (i = 12; i < 20; i++)
	exp = (exp << 8) | p[i];
    return ((int64_t) exp);
}

/*
 * cache_lmdb_sweep - delete every record whose "expires" is at or before
 * cut (or that is too short to say); the count deleted, -1 when not
 * even the first transaction could delete (a map too full to copy a
 * page). Small transactions of at most CACHE_LMDB_CHUNK deletions: each
 * needs only a few free pages, and frees pages for the next.
 */
#define CACHE_LMDB_CHUNK	16

static long cache_lmdb_sweep(CACHE_LMDB *l, int64_t cut)
{
    MDB_txn *txn = 0;
    MDB_cursor *cur = 0;
    MDB_val k, v;
    char    resume[CACHE_KEY_MAX + 1];
    size_t  resume_len = 0;
    long    swept = 0;
    int     chunk;
    int     rc;
    int     more = 1;

    while (more) {
	chunk = 0;
	if (mdb_txn_begin(l->env, 0, 0, &txn) != 0)
	    break;
	if (mdb_cursor_open(txn, l->dbi, &cur) != 0) {
	    mdb_txn_abort(txn);
	    break;
	}
	k.mv_data = resume;
	k.mv_size = resume_len;
	rc = resume_len ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	for (more = 0; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
	    if (chunk == CACHE_LMDB_CHUNK) {
		/* Resume here in the next transaction. */
		resume_len = k.mv_size < sizeof(resume) ? k.mv_size : sizeof(resume);
		memcpy(resume, k.mv_data, resume_len);
		more = 1;
		break;
	    }
	    if (cache_lmdb_expires(&v) <= cut) {
		if (mdb_cursor_del(cur, 0) != 0) {
		    rc = -1;
		    break;
		}
		chunk++;
	    }
	}
	mdb_cursor_close(cur);
	if (rc == -1 || mdb_txn_commit(txn) != 0) {
	    if (rc == -1)
		mdb_txn_abort(txn);
	    break;
	}
	if (chunk)
	    cache_lmdb_committed(l);
	swept += chunk;
    }
    return (swept > 0 ? swept : more ? -1 : 0);
}

static int cache_lmdb_cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a;
    int64_t y = *(const int64_t *) b;

    return (x < y ? -1 : x > y);
}

/*
 * cache_lmdb_cut - the expiry time at or below which about a quarter of
 * the records fall, from an evenly spread sample of at most
 * CACHE_LMDB_SAMPLES records (no allocation proportional to the map).
 */
static int64_t cache_lmdb_cut(CACHE_LMDB *l)
{
    int64_t sample[CACHE_LMDB_SAMPLES];
    MDB_txn *txn = 0;
    MDB_cursor *cur = 0;
    MDB_stat st;
    MDB_val k, v;
    size_t  step = 1;
    size_t  i = 0;
    int     n = 0;
    int     rc;
    int64_t cut = INT64_MIN;

    if (mdb_txn_begin(l->env, 0, MDB_RDONLY, &txn) != 0)
	return (cut);
    if (mdb_stat(txn, l->dbi, &st) == 0 && st.ms_entries > CACHE_LMDB_SAMPLES)
	step = st.ms_entries / CACHE_LMDB_SAMPLES;
    if (mdb_cursor_open(txn, l->dbi, &cur) == 0) {
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && n < CACHE_LMDB_SAMPLES;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), i++)
	    if (i % step == 0)
		sample[n++] = cache_lmdb_expires(&v);
	mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    if (n > 0) {
	qsort(sample, (size_t) n, sizeof(sample[0]), cache_lmdb_cmp64);
	cut = sample[n / 4];
    }
    return (cut);
}

/*
 * cache_lmdb_make_room - the map is (nearly) full: expired, then oldest,
 * then all. Deleting copies pages too, so room is made when the last
 * page in use passes 7/8 of the map (cache_lmdb_put), while deletions
 * still find free pages; emptying the database is for a map filled up
 * by another process.
 */

static void cache_lmdb_make_room(CACHE_LMDB *l)
{
    MDB_txn *txn = 0;
    long    n;

    if ((n = cache_lmdb_sweep(l, (int64_t) clock_now())) > 0) {
	log_info("cache: lmdb %s full: %ld expired records swept", l->path, n);
	return;
    }
    if ((n = cache_lmdb_sweep(l, cache_lmdb_cut(l))) > 0) {
	log_warn("cache: lmdb %s full: %ld records nearest their expiry evicted (raise lmdb_map_size?)",
		 l->path, n);
	return;
    }
    /* Not even a delete fits: start over (a cache; never fail the write). */
    if (mdb_txn_begin(l->env, 0, 0, &txn) == 0) {
	if (mdb_drop(txn, l->dbi, 0) == 0 && mdb_txn_commit(txn) == 0) {
	    cache_lmdb_committed(l);
	    log_warn("cache: lmdb %s full: emptied", l->path);
	} else {
	    mdb_txn_abort(txn);
	}
    }
}

/* cache_lmdb_room - make room when full, or when past 7/8 and growing */

static void cache_lmdb_room(CACHE_LMDB *l, int full)
{
    MDB_envinfo info;
    int     mine = 0;

    if (mdb_env_info(l->env, &info) != 0)
	return;
    (void) pthread_mutex_lock(&l->lock);
    if (!l->evicting && (full || (info.me_last_pgno > l->room_pgno
			  && (info.me_last_pgno + 1) * l->psize > info.me_mapsize / 8 * 7))) {
	l->evicting = 1;
	mine = 1;
    }
    (void) pthread_mutex_unlock(&l->lock);
    if (!mine)
	return;
    cache_lmdb_make_room(l);
    if (mdb_env_info(l->env, &info) != 0)
	info.me_last_pgno = 0;
    (void) pthread_mutex_lock(&l->lock);
    l->room_pgno = info.me_last_pgno;
    l->evicting = 0;
    (void) pthread_mutex_unlock(&l->lock);
}

static int cache_lmdb_put(void *ctx, const char *key, const unsigned char *val, size_t len, long ttl)
{
    CACHE_LMDB *l = (CACHE_LMDB *) ctx;
    MDB_txn *txn = 0;
    MDB_val k, v;
    int     rc = 0;
    int     attempt;

    (void) ttl;					/* expiry is in the value */
    for (attempt = 0; attempt < 4; attempt++) {
	k.mv_data = (void *) key;
	k.mv_size = strlen(key);
	v.mv_data = (void *) val;
	v.mv_size = len;
	if ((rc = mdb_txn_begin(l->env, 0, 0, &txn)) != 0)
	    break;
	if ((rc = mdb_put(txn, l->dbi, &k, &v, 0)) != 0) {
	    mdb_txn_abort(txn);
	} else {
	    rc = mdb_txn_commit(txn);
	}
	txn = 0;
	if (rc == 0)
	    cache_lmdb_committed(l);
	if (rc != MDB_MAP_FULL)
	    break;
	cache_lmdb_room(l, 1);
    }
    if (rc == 0)
	cache_lmdb_room(l, 0);
    if (rc != 0) {
	log_warn("cache: lmdb %s: put %s: %s", l->path, key, mdb_strerror(rc));
	metrics_inc(METRICS_LMDB_ERROR);
	return (STATUS_RETRY);
    }
    return (STATUS_OK);
}

static int cache_lmdb_del(void *ctx, const char *key)
{
    CACHE_LMDB *l = (CACHE_LMDB *) ctx;
    MDB_txn *txn = 0;
    MDB_val k;
    int     rc;

    k.mv_data = (void *) key;
    k.mv_size = strlen(key);
    if ((rc = mdb_txn_begin(l->env, 0, 0, &txn)) != 0)
	return (STATUS_RETRY);
    rc = mdb_del(txn, l->dbi, &k, 0);
    if (rc != 0) {
	mdb_txn_abort(txn);
	return (rc == MDB_NOTFOUND ? STATUS_NOTFOUND : STATUS_RETRY);
    }
    if (mdb_txn_commit(txn) != 0)
	return (STATUS_RETRY);
    cache_lmdb_committed(l);
    return (STATUS_OK);
}

static int cache_lmdb_purge(void *ctx)
{
    CACHE_LMDB *l = (CACHE_LMDB *) ctx;
    MDB_txn *txn = 0;

    if (mdb_txn_begin(l->env, 0, 0, &txn) != 0)
	return (STATUS_RETRY);
    if (mdb_drop(txn, l->dbi, 0) != 0) {
	mdb_txn_abort(txn);
	return (STATUS_RETRY);
    }
    if (mdb_txn_commit(txn) != 0)
	return (STATUS_RETRY);
    cache_lmdb_committed(l);
    return (STATUS_OK);
}

static void cache_lmdb_count(void *ctx, long *n)
{
    CACHE_LMDB *l = (CACHE_LMDB *) ctx;
    MDB_txn *txn = 0;
    MDB_stat st;

    *n = -1;
    if (mdb_txn_begin(l->env, 0, MDB_RDONLY, &txn) != 0)
	return;
    if (mdb_stat(txn, l->dbi, &st) == 0)
	*n = (long) st.ms_entries;
    mdb_txn_abort(txn);
}

static void cache_lmdb_state(void *ctx, char *buf, size_t size)
{
    CACHE_LMDB *l = (CACHE_LMDB *) ctx;
    MDB_envinfo info;
    MDB_stat st;

    if (mdb_env_info(l->env, &info) != 0 || mdb_env_stat(l->env, &st) != 0) {
	(void) snprintf(buf, size, "open %s", l->path);
	return;
    }
    (void) snprintf(buf, size, "open %s (%lu KiB used of %lu KiB)", l->path,
		    (unsigned long) ((info.me_last_pgno + 1) * (size_t) st.ms_psize / 1024),
		    (unsigned long) (info.me_mapsize / 1024));
}

static void cache_lmdb_close(void **ctxp)
{
    CACHE_LMDB *l;

    if (ctxp == 0 || (l = (CACHE_LMDB *) *ctxp) == 0)
	return;
    if (l->syncer) {
	(void) pthread_mutex_lock(&l->lock);
	l->stop = 1;
	(void) pthread_cond_signal(&l->wake);
	(void) pthread_mutex_unlock(&l->lock);
	(void) pthread_join(l->sync_tid, 0);
    }
    if (l->env) {
	(void) mdb_env_sync(l->env, 1);
	mdb_env_close(l->env);
    }
    (void) pthread_cond_destroy(&l->wake);
    (void) pthread_mutex_destroy(&l->lock);
    free(l);
    *ctxp = 0;
}

/*
 * Give the lock file real disk blocks before LMDB maps it (see the
 * header: a hole written through the mapping on a full disk is SIGBUS).
 * A file larger than LMDB needs is fine: LMDB then fits more reader
 * slots into it.
 */
static int cache_lmdb_lockfile(const char *path, WHY *why)
{
    char    lock[1024 + sizeof("-lock")];
    struct stat st;
    off_t   want = CACHE_LMDB_LOCK_HEAD + (off_t) CACHE_LMDB_READERS * CACHE_LMDB_SLOT;
    int     fd = -1;
    int     rc;
    int     status = STATUS_FAIL;

    if (str_copy(lock, sizeof(lock), path) != 0 || str_append(lock, sizeof(lock), "-lock") != 0) {
	why_set(why, "cache_path is too long");
	goto done;
    }
    if ((fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 || fstat(fd, &st) < 0) {
	why_set(why, "%s: %s", lock, strerror(errno));
	goto done;
    }
    if (st.st_size > want)
	want = st.st_size;
    /* posix_fallocate() returns the error; it does not set errno. */
    if ((rc = posix_fallocate(fd, 0, want)) != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
	why_set(why, "%s: cannot allocate %ld bytes: %s", lock, (long) want, strerror(rc));
	goto done;
    }
    status = STATUS_OK;

done:
    if (fd >= 0)
	(void) close(fd);
    return (status);
}

int     cache_lmdb_open(const CACHE_OPTS *opts, CACHE_STORE *store, WHY *why)
{
    CACHE_LMDB *l = 0;
    MDB_txn *txn = 0;
    MDB_stat st;
    int     dead = 0;
    int     rc;
    int     status = STATUS_FAIL;

    memset(store, 0, sizeof(*store));
    if (opts->path == 0 || *opts->path == 0) {
	why_set(why, "no cache_path");
	goto done;
    }
    if ((l = calloc(1, sizeof(*l))) == 0) {
	why_set(why, "out of memory");
	goto done;
    }
    (void) pthread_mutex_init(&l->lock, 0);
    (void) pthread_cond_init(&l->wake, 0);
    if (str_copy(l->path, sizeof(l->path), opts->path) != 0) {
	why_set(why, "cache_path is too long");
	goto done;
    }
    if (cache_lmdb_lockfile(l->path, why) != STATUS_OK)
	goto done;
    if ((rc = mdb_env_create(&l->env)) != 0
	|| (rc = mdb_env_set_mapsize(l->env, opts->lmdb_map_size > 0 ?
				     opts->lmdb_map_size : CACHE_LMDB_MAPSIZE)) != 0
	|| (rc = mdb_env_set_maxreaders(l->env, CACHE_LMDB_READERS)) != 0
	|| (rc = mdb_env_open(l->env, l->path, MDB_NOSUBDIR | MDB_NOTLS
			      | (opts->read_only ? MDB_RDONLY : MDB_NOSYNC), 0600)) != 0) {
	why_set(why, "%s: %s", l->path, mdb_strerror(rc));
	goto done;
    }
    (void) mdb_reader_check(l->env, &dead);
    if ((rc = mdb_env_stat(l->env, &st)) != 0) {
	why_set(why, "%s: %s", l->path, mdb_strerror(rc));
	goto done;
    }
    l->psize = st.ms_psize;
    if ((rc = mdb_txn_begin(l->env, 0, opts->read_only ? MDB_RDONLY : 0, &txn)) != 0
	|| (rc = mdb_dbi_open(txn, 0, 0, &l->dbi)) != 0) {
	why_set(why, "%s: %s", l->path, mdb_strerror(rc));
	goto done;
    }
    rc = mdb_txn_commit(txn);
    txn = 0;
    if (rc != 0) {
	why_set(why, "%s: %s", l->path, mdb_strerror(rc));
	goto done;
    }
    if ((rc = pthread_create(&l->sync_tid, 0, cache_lmdb_syncer, l)) != 0) {
	why_set(why, "%s: sync thread: %s", l->path, strerror(rc));
	goto done;
    }
    l->syncer = 1;
    store->name = "lmdb";
    store->ctx = l;
    store->get = cache_lmdb_get;
    store->put = cache_lmdb_put;
    store->del = cache_lmdb_del;
    store->purge = cache_lmdb_purge;
    store->count = cache_lmdb_count;
    store->state = cache_lmdb_state;
    store->close = cache_lmdb_close;
    l = 0;
    status = STATUS_OK;

done:
    if (txn)
	mdb_txn_abort(txn);
    if (l) {
	void   *ctx = l;

	cache_lmdb_close(&ctx);
    }
    return (status);
}
