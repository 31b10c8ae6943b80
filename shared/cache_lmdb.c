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
 *	them, and a full map is swept of expired records once before a
 *	write gives up. Several processes on one host share the file
 *	(LMDB's own locking); MDB_NOTLS lets any thread use a read
 *	transaction.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "clock.h"
#include "log.h"
#include "status.h"
#include "str.h"

#define CACHE_LMDB_MAPSIZE	((size_t) 256 * 1024 * 1024)
#define CACHE_LMDB_READERS	512
#define CACHE_LMDB_SLOT		64	/* LMDB's MDB_reader, one cache line */
#define CACHE_LMDB_LOCK_HEAD	4096	/* more than LMDB's MDB_txninfo header */

typedef struct CACHE_LMDB {
    MDB_env *env;
    MDB_dbi dbi;
    char    path[1024];
} CACHE_LMDB;

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
	goto done;
    }
    rc = mdb_get(txn, l->dbi, &k, &v);
    if (rc == MDB_NOTFOUND) {
	status = STATUS_NOTFOUND;
	goto done;
    }
    if (rc != 0) {
	log_warn("cache: lmdb %s: get %s: %s", l->path, key, mdb_strerror(rc));
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

/* Delete every record whose "expires" has passed or that is too short to say. */

static void cache_lmdb_sweep(CACHE_LMDB *l)
{
    MDB_txn *txn = 0;
    MDB_cursor *cur = 0;
    MDB_val k, v;
    time_t  now = clock_now();
    long    swept = 0;
    int     rc;
    int     i;

    if (mdb_txn_begin(l->env, 0, 0, &txn) != 0)
	return;
    if (mdb_cursor_open(txn, l->dbi, &cur) != 0) {
	mdb_txn_abort(txn);
	return;
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
	const unsigned char *p = (const unsigned char *) v.mv_data;
	uint64_t exp = 0;

	if (v.mv_size >= 20)
	    for (i = 12; i < 20; i++)
		exp = (exp << 8) | p[i];
	if (v.mv_size < 20 || (int64_t) exp <= (int64_t) now) {
	    if (mdb_cursor_del(cur, 0) == 0)
		swept++;
	}
    }
    mdb_cursor_close(cur);
    if (mdb_txn_commit(txn) == 0)
	log_info("cache: lmdb %s full: %ld expired records swept", l->path, swept);
}

static int cache_lmdb_put(void *ctx, const char *key, const unsigned char *val, size_t len, long ttl)
{
    CACHE_LMDB *l = (CACHE_LMDB *) ctx;
    MDB_txn *txn = 0;
    MDB_val k, v;
    int     rc = 0;
    int     attempt;

    (void) ttl;					/* expiry is in the value */
    for (attempt = 0; attempt < 2; attempt++) {
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
	if (rc != MDB_MAP_FULL)
	    break;
	cache_lmdb_sweep(l);
    }
    if (rc != 0) {
	log_warn("cache: lmdb %s: put %s: %s", l->path, key, mdb_strerror(rc));
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
    return (mdb_txn_commit(txn) == 0 ? STATUS_OK : STATUS_RETRY);
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
    return (mdb_txn_commit(txn) == 0 ? STATUS_OK : STATUS_RETRY);
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
    if (l->env)
	mdb_env_close(l->env);
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
    if (str_copy(l->path, sizeof(l->path), opts->path) != 0) {
	why_set(why, "cache_path is too long");
	goto done;
    }
    if (cache_lmdb_lockfile(l->path, why) != STATUS_OK)
	goto done;
    if ((rc = mdb_env_create(&l->env)) != 0
	|| (rc = mdb_env_set_mapsize(l->env, CACHE_LMDB_MAPSIZE)) != 0
	|| (rc = mdb_env_set_maxreaders(l->env, CACHE_LMDB_READERS)) != 0
	|| (rc = mdb_env_open(l->env, l->path, MDB_NOSUBDIR | MDB_NOTLS
			      | (opts->read_only ? MDB_RDONLY : 0), 0600)) != 0) {
	why_set(why, "%s: %s", l->path, mdb_strerror(rc));
	goto done;
    }
    (void) mdb_reader_check(l->env, &dead);
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
