/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_cache_lmdb 1
 * SUMMARY
 *	unit tests for the cache value format, the LMDB backend and the
 *	in-process layer in front of it
 * DESCRIPTION
 *	- cache_encode()/cache_decode(): a round trip, and every corruption
 *	  of cache-value-vectors.txt rejected (backend data is untrusted);
 *	- LMDB: a policy survives closing and reopening the cache (what
 *	  trust on first use needs across restarts); expiry with the
 *	  injectable clock; a corrupt value written through the backend
 *	  seam is a miss, counted, and removed; purge; negative entries,
 *	  and a policy replacing a negative entry;
 *	- L1 bounded in bytes as well as in entries;
 *	- an unopenable LMDB path degrades to the in-process cache;
 *	- a tiny map (lmdb_map_size) that fills up: every put still
 *	  succeeds (expired records swept, then the records nearest their
 *	  expiry evicted), and the newest records are readable;
 *	- a probe result made without DANE for a DNSSEC-secure MX RRset
 *	  ("secure=1") writes the host's DANE key too, as a marker that
 *	  reads as a miss (every key the engine reads is written); without
 *	  "secure=1" no DANE key is written;
 *	- no fsync on the write path: fsync()/fdatasync() are interposed
 *	  here and counted; 200 puts call neither, closing the cache
 *	  flushes (the background sync's last call).
 *	Files live in a mkdtemp(3) directory removed at the end.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include "cache.h"
#include "clock.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

static time_t fake_now = 1700000000;
static char dir[64];
static char path[128];

static time_t fake_clock(void)
{
    return (fake_now);
}

static const char body[] = "version: STSv1\nmode: enforce\nmx: mx.example\nmax_age: 86400\n";

static void policy(CACHE_POLICY *p, const char *id, long max_age)
{
    memset(p, 0, sizeof(*p));
    (void) str_copy(p->txt_id, sizeof(p->txt_id), id);
    p->fetched = fake_now;
    p->max_age = max_age;
    p->body = (char *) body;
    p->len = strlen(body);
}

static CACHE *open_lmdb(void)
{
    CACHE_OPTS o;
    CACHE  *c = 0;

    memset(&o, 0, sizeof(o));
    o.backend = CACHE_BACKEND_LMDB;
    o.memory_entries = 100;
    o.path = path;
    assert_int_equal(cache_open(&o, &c, 0), STATUS_OK);
    return (c);
}

static int setup(void **state)
{
    (void) state;
    (void) str_copy(dir, sizeof(dir), "/tmp/test_cache_lmdb.XXXXXX");
    if (mkdtemp(dir) == 0)
	return (-1);
    (void) snprintf(path, sizeof(path), "%s/cache.lmdb", dir);
    clock_set_source(fake_clock);
    return (0);
}

static int teardown(void **state)
{
    char    lock[160];

    (void) state;
    (void) snprintf(lock, sizeof(lock), "%s-lock", path);
    (void) unlink(path);
    (void) unlink(lock);
    (void) rmdir(dir);
    clock_set_source(0);
    return (0);
}

static int value_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *failures = (int *) ctx;
    unsigned char buf[512];
    CACHE_POLICY p, got;
    size_t  len;
    long    off, val;
    int     want, st;
    char   *eq;

    policy(&p, "abc123", 86400);
    assert_int_equal(cache_encode(&p, buf, sizeof(buf), &len), STATUS_OK);
    assert_int_equal(len, 37 + 6 + strlen(body));
    want = strcmp(field[3], "ok") == 0 ? STATUS_OK : STATUS_INVAL;
    if (nfield != 4) {
	print_error("cache-value-vectors.txt:%d: bad row\n", lineno);
	(*failures)++;
	return (0);
    }
    if (strcmp(field[1], "set") == 0) {
	if ((eq = strchr(field[2], '=')) == 0) {
	    (*failures)++;
	    return (0);
	}
	*eq = 0;
	assert_int_equal(str_to_long(field[2], 0, (long) len - 1, &off), 0);
	val = strtol(eq + 1, 0, 16);
	buf[off] = (unsigned char) val;
    } else if (strcmp(field[1], "truncate") == 0) {
	assert_int_equal(str_to_long(field[2], -100, 100, &off), 0);
	len = off < 0 ? len + (size_t) off : (size_t) off;
    } else if (strcmp(field[1], "append") == 0) {
	buf[len++] = 'x';
    }
    st = cache_decode(buf, len, &got);
    if (st != want) {
	print_error("cache-value-vectors.txt:%d: %s: got %d, want %d\n", lineno, field[0], st, want);
	(*failures)++;
    }
    if (st == STATUS_OK) {
	assert_string_equal(got.txt_id, "abc123");
	assert_int_equal(got.len, strlen(body));
	assert_memory_equal(got.body, body, strlen(body));
	assert_int_equal(got.max_age, 86400);
	assert_int_equal(got.fetched, fake_now);
	assert_int_equal(got.kind, CACHE_KIND_POLICY);
    }
    cache_policy_clear(&got);
    return (0);
}

static void test_value_format(void **state)
{
    int     failures = 0;

    (void) state;
    assert_true(testdata_rows("cache-value-vectors.txt", '|', value_row, &failures) >= 19);
    assert_int_equal(failures, 0);
}

static void test_survives_restart(void **state)
{
    CACHE  *c = open_lmdb();
    CACHE_POLICY p, got;
    CACHE_STATS s;

    (void) state;
    policy(&p, "id1", 86400);
    assert_int_equal(cache_policy_put(c, "persist.example", &p), STATUS_OK);
    cache_free(&c);
    assert_null(c);

    c = open_lmdb();			/* a new process, as far as L1 knows */
    assert_int_equal(cache_policy_get(c, "persist.example", &got), STATUS_OK);
    assert_string_equal(got.txt_id, "id1");
    assert_int_equal(got.len, strlen(body));
    assert_memory_equal(got.body, body, got.len);
    cache_policy_clear(&got);
    cache_stats(c, &s);
    assert_int_equal(s.backend_hits, 1);
    assert_string_equal(s.backend, "lmdb");
    assert_true(s.backend_entries >= 1);
    /* The second lookup is served from memory. */
    assert_int_equal(cache_policy_get(c, "persist.example", &got), STATUS_OK);
    cache_policy_clear(&got);
    cache_stats(c, &s);
    assert_int_equal(s.l1_hits, 1);
    cache_free(&c);
}

static void test_expiry(void **state)
{
    CACHE  *c = open_lmdb();
    CACHE_POLICY p, got;

    (void) state;
    policy(&p, "id2", 100);
    assert_int_equal(cache_policy_put(c, "short.example", &p), STATUS_OK);
    cache_free(&c);
    fake_now += 99;
    c = open_lmdb();
    assert_int_equal(cache_policy_get(c, "short.example", &got), STATUS_OK);
    cache_policy_clear(&got);
    cache_free(&c);
    fake_now += 1;			/* RFC 8461 3.2: max_age is the lifetime */
    c = open_lmdb();
    assert_int_equal(cache_policy_get(c, "short.example", &got), STATUS_NOTFOUND);
    cache_free(&c);
}

static void test_corrupt_backend_value(void **state)
{
    CACHE_OPTS o;
    CACHE_STORE st;
    CACHE  *c;
    CACHE_POLICY got;
    CACHE_STATS s;
    unsigned char junk[64];
    unsigned char *val = 0;
    size_t  len;

    (void) state;
    memset(&o, 0, sizeof(o));
    o.path = path;
    memset(junk, 0x53, sizeof(junk));
    assert_int_equal(cache_lmdb_open(&o, &st, 0), STATUS_OK);
    assert_int_equal(st.put(st.ctx, "d:corrupt.example", junk, sizeof(junk), 60), STATUS_OK);
    st.close(&st.ctx);
    assert_null(st.ctx);

    c = open_lmdb();
    assert_int_equal(cache_policy_get(c, "corrupt.example", &got), STATUS_NOTFOUND);
    cache_stats(c, &s);
    assert_int_equal(s.corrupt, 1);
    cache_free(&c);
    /* The corrupt value was removed. */
    assert_int_equal(cache_lmdb_open(&o, &st, 0), STATUS_OK);
    assert_int_equal(st.get(st.ctx, "d:corrupt.example", &val, &len), STATUS_NOTFOUND);
    st.close(&st.ctx);
    free(val);
}

static void test_negative_and_purge(void **state)
{
    CACHE  *c = open_lmdb();
    CACHE_POLICY p, got;

    (void) state;
    assert_int_equal(cache_negative_put(c, "none.example", "10 mx.none.example\n", 3600), STATUS_OK);
    cache_free(&c);
    c = open_lmdb();
    assert_int_equal(cache_negative_get(c, "none.example", &got), STATUS_OK);
    assert_string_equal(got.body, "10 mx.none.example\n");
    assert_int_equal(got.expires, fake_now + 3600);
    cache_policy_clear(&got);
    /* A negative entry is not a policy. */
    assert_int_equal(cache_policy_get(c, "none.example", &got), STATUS_NOTFOUND);
    /* A policy replaces it. */
    policy(&p, "new1", 86400);
    assert_int_equal(cache_policy_put(c, "none.example", &p), STATUS_OK);
    assert_int_equal(cache_negative_get(c, "none.example", &got), STATUS_NOTFOUND);
    assert_int_equal(cache_policy_get(c, "none.example", &got), STATUS_OK);
    cache_policy_clear(&got);
    assert_int_equal(cache_policy_delete(c, "none.example"), STATUS_OK);
    assert_int_equal(cache_policy_delete(c, "none.example"), STATUS_NOTFOUND);
    assert_int_equal(cache_policy_put(c, "a.example", &p), STATUS_OK);
    assert_int_equal(cache_purge_all(c), STATUS_OK);
    cache_free(&c);
    c = open_lmdb();
    assert_int_equal(cache_policy_get(c, "a.example", &got), STATUS_NOTFOUND);
    assert_int_equal(cache_policy_get(c, "persist.example", &got), STATUS_NOTFOUND);
    cache_free(&c);
}

static void test_l1_bytes_bound(void **state)
{
    CACHE_OPTS o;
    CACHE  *c = 0;
    CACHE_POLICY p, got;
    CACHE_STATS s;
    static char big[60000];
    char    name[64];
    int     i, found = 0;

    (void) state;
    memset(&o, 0, sizeof(o));
    o.memory_entries = 1000;
    o.memory_bytes = 300000;		/* room for about 4 of these */
    assert_int_equal(cache_open(&o, &c, 0), STATUS_OK);
    memset(big, 'x', sizeof(big));
    policy(&p, "b", 86400);
    p.body = big;
    p.len = sizeof(big);
    for (i = 0; i < 20; i++) {
	(void) snprintf(name, sizeof(name), "big%d.example", i);
	assert_int_equal(cache_policy_put(c, name, &p), STATUS_OK);
	cache_stats(c, &s);
	assert_true(s.l1_bytes <= 300000);
    }
    for (i = 0; i < 20; i++) {
	(void) snprintf(name, sizeof(name), "big%d.example", i);
	if (cache_policy_get(c, name, &got) == STATUS_OK) {
	    found++;
	    cache_policy_clear(&got);
	}
    }
    assert_true(found >= 3 && found <= 4);
    /* The most recent survived. */
    assert_int_equal(cache_policy_get(c, "big19.example", &got), STATUS_OK);
    cache_policy_clear(&got);
    cache_free(&c);
}

static void test_unopenable_degrades(void **state)
{
    CACHE_OPTS o;
    CACHE  *c = 0;
    CACHE_POLICY p, got;
    CACHE_STATS s;

    (void) state;
    memset(&o, 0, sizeof(o));
    o.backend = CACHE_BACKEND_LMDB;
    o.memory_entries = 10;
    o.path = "/nonexistent-dir/for/sure/cache.lmdb";
    assert_int_equal(cache_open(&o, &c, 0), STATUS_OK);
    cache_stats(c, &s);
    assert_string_equal(s.backend, "memory");
    assert_non_null(strstr(s.state, "unavailable"));
    policy(&p, "x", 86400);
    assert_int_equal(cache_policy_put(c, "d.example", &p), STATUS_OK);
    assert_int_equal(cache_policy_get(c, "d.example", &got), STATUS_OK);
    cache_policy_clear(&got);
    cache_free(&c);
}

/*
 * cache_peek() through a read-only open: an expired policy and a corrupt
 * value are shown as they are and stay in the file (a get would drop
 * them); a read-only open never creates a missing file.
 */
static void test_peek_read_only(void **state)
{
    CACHE_OPTS o;
    CACHE_STORE st;
    CACHE  *c;
    CACHE_POLICY p, got;
    CACHE_STATS s;
    unsigned char junk[64];
    unsigned char *val = 0;
    char    missing[160];
    size_t  len;

    (void) state;
    c = open_lmdb();
    policy(&p, "peek1", 100);
    assert_int_equal(cache_policy_put(c, "peek.example", &p), STATUS_OK);
    assert_int_equal(cache_negative_put(c, "neg.example", "10 mx.neg.example\n", 50), STATUS_OK);
    cache_free(&c);
    memset(&o, 0, sizeof(o));
    o.path = path;
    memset(junk, 0x53, sizeof(junk));
    assert_int_equal(cache_lmdb_open(&o, &st, 0), STATUS_OK);
    assert_int_equal(st.put(st.ctx, "d:corrupt-peek.example", junk, sizeof(junk), 60), STATUS_OK);
    st.close(&st.ctx);
    fake_now += 200;				/* both records expired */

    memset(&o, 0, sizeof(o));
    o.backend = CACHE_BACKEND_LMDB;
    o.memory_entries = 1;
    o.path = path;
    o.read_only = 1;
    assert_int_equal(cache_open(&o, &c, 0), STATUS_OK);
    cache_stats(c, &s);
    assert_string_equal(s.backend, "lmdb");
    assert_int_equal(cache_peek(c, "peek.example", &got), STATUS_OK);
    assert_int_equal(got.kind, CACHE_KIND_POLICY);
    assert_string_equal(got.txt_id, "peek1");
    assert_int_equal((long) got.expires, (long) (fake_now - 100));
    assert_int_equal(got.len, strlen(body));
    cache_policy_clear(&got);
    assert_int_equal(cache_peek(c, "neg.example", &got), STATUS_OK);
    assert_int_equal(got.kind, CACHE_KIND_NEGATIVE);
    cache_policy_clear(&got);
    assert_int_equal(cache_peek(c, "corrupt-peek.example", &got), STATUS_INVAL);
    assert_int_equal(cache_peek(c, "none.example", &got), STATUS_NOTFOUND);
    /* Peeking twice sees the same: nothing was dropped, nothing counted. */
    assert_int_equal(cache_peek(c, "peek.example", &got), STATUS_OK);
    cache_policy_clear(&got);
    cache_stats(c, &s);
    assert_int_equal(s.lookups, 0);
    assert_int_equal(s.l1_entries, 0);
    cache_free(&c);
    assert_int_equal(cache_lmdb_open(&o, &st, 0), STATUS_OK);
    assert_int_equal(st.get(st.ctx, "d:peek.example", &val, &len), STATUS_OK);
    free(val);
    val = 0;
    assert_int_equal(st.get(st.ctx, "d:corrupt-peek.example", &val, &len), STATUS_OK);
    free(val);
    val = 0;
    st.close(&st.ctx);

    /* A read-only open of a missing file fails and creates nothing. */
    (void) snprintf(missing, sizeof(missing), "%s/missing.lmdb", dir);
    o.path = missing;
    assert_int_not_equal(cache_lmdb_open(&o, &st, 0), STATUS_OK);
    assert_int_not_equal(access(missing, F_OK), 0);
}

/*
 * A full disk must not kill the process: LMDB writes its lock file
 * through a shared mapping, and a page without a disk block is SIGBUS
 * on a full file system (tests/integration/faults.t, lmdb-full). The
 * open allocates every block of the lock file: no holes.
 */
static void test_lock_file_allocated(void **state)
{
    CACHE  *c;
    struct stat st;
    char    lock[160];

    (void) state;
    (void) snprintf(lock, sizeof(lock), "%s-lock", path);
    (void) unlink(lock);
    c = open_lmdb();
    assert_int_equal(stat(lock, &st), 0);
    assert_true(st.st_size > 0);
    assert_true((long long) st.st_blocks * 512 >= (long long) st.st_size);
    cache_free(&c);
}

/*
 * fsync() and fdatasync() of this process, liblmdb's included (the
 * executable's definitions come first in symbol lookup): counted, then
 * done with the system call.
 */
static int syncs;

int     fsync(int fd)
{
    __atomic_add_fetch(&syncs, 1, __ATOMIC_SEQ_CST);
    return ((int) syscall(SYS_fsync, fd));
}

int     fdatasync(int fd)
{
    __atomic_add_fetch(&syncs, 1, __ATOMIC_SEQ_CST);
    return ((int) syscall(SYS_fdatasync, fd));
}

static void open_store(const char *file, size_t map, CACHE_STORE *st)
{
    CACHE_OPTS o;
    WHY     why;

    memset(&o, 0, sizeof(o));
    o.backend = CACHE_BACKEND_LMDB;
    o.memory_entries = 100;
    o.path = file;
    o.lmdb_map_size = map;
    assert_int_equal(cache_lmdb_open(&o, st, &why), STATUS_OK);
}

static void remove_store(const char *file)
{
    char    lock[300];

    (void) snprintf(lock, sizeof(lock), "%s-lock", file);
    (void) unlink(file);
    (void) unlink(lock);
}

/* A value of the cache's format that expires at exp, padded to about len bytes. */

static size_t value_at(unsigned char *buf, size_t size, time_t exp, size_t len)
{
    CACHE_POLICY p;
    static char pad[2048];
    size_t  out;

    memset(pad, 'x', sizeof(pad) - 1);
    memset(&p, 0, sizeof(p));
    p.kind = CACHE_KIND_NEGATIVE;
    p.fetched = fake_now;
    p.expires = exp;
    p.body = pad;
    p.len = len < sizeof(pad) ? len : sizeof(pad) - 1;
    assert_int_equal(cache_encode(&p, buf, size, &out), STATUS_OK);
    return (out);
}

static void test_full_map_never_fails(void **state)
{
    char    file[160];
    unsigned char buf[4096];
    CACHE_STORE st;
    unsigned char *got = 0;
    size_t  len, got_len;
    char    key[64];
    int     i;
    int     failed = 0;

    (void) state;
    (void) snprintf(file, sizeof(file), "%s/tiny.lmdb", dir);
    /* 2 MiB: about 1500 records of 1 KiB; 8000 fill it five times over. */
    open_store(file, 2 * 1024 * 1024, &st);
    for (i = 0; i < 8000; i++) {
	/* Half already expired, half live with expiries spread out. */
	len = value_at(buf, sizeof(buf), i % 2 ? fake_now - 10 : fake_now + 1000 + i, 1000);
	(void) snprintf(key, sizeof(key), "d:host%05d.example", i);
	if (st.put(st.ctx, key, buf, len, 60) != STATUS_OK)
	    failed++;
    }
    assert_int_equal(failed, 0);
    /* The newest live record survived the evictions. */
    assert_int_equal(st.get(st.ctx, "d:host07998.example", &got, &got_len), STATUS_OK);
    assert_int_equal(got_len, value_at(buf, sizeof(buf), fake_now + 1000 + 7998, 1000));
    assert_memory_equal(got, buf, got_len);
    free(got);
    st.close(&st.ctx);
    remove_store(file);
}

static void test_no_fsync_per_put(void **state)
{
    char    file[160];
    unsigned char buf[4096];
    CACHE_STORE st;
    char    key[64];
    size_t  len;
    int     i;
    int     before;

    (void) state;
    (void) snprintf(file, sizeof(file), "%s/nosync.lmdb", dir);
    open_store(file, 0, &st);
    before = __atomic_load_n(&syncs, __ATOMIC_SEQ_CST);
    for (i = 0; i < 200; i++) {
	len = value_at(buf, sizeof(buf), fake_now + 3600, 100);
	(void) snprintf(key, sizeof(key), "d:nosync%03d.example", i);
	assert_int_equal(st.put(st.ctx, key, buf, len, 3600), STATUS_OK);
	assert_int_equal(st.del(st.ctx, key), STATUS_OK);
	assert_int_equal(st.put(st.ctx, key, buf, len, 3600), STATUS_OK);
    }
    /* No flush on the write path (the background sync waits 2 s). */
    assert_true(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST) - before <= 1);
    st.close(&st.ctx);
    /* Closing flushes what was committed. */
    assert_true(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST) > before);
    remove_store(file);
}

static void test_probe_no_dane_marker(void **state)
{
    static const char secure[] = "v=1\npassed=1\nreason=0\nsecure=1\nms=5\n";
    static const char insecure[] = "v=1\npassed=1\nreason=0\nsecure=0\nms=5\n";
    CACHE  *c = open_lmdb();
    CACHE_POLICY got;
    CACHE_STORE st;
    CACHE_STATS stats;
    unsigned char *val = 0;
    size_t  len;

    (void) state;
    assert_int_equal(cache_purge_all(c), STATUS_OK);
    assert_int_equal(cache_probe_put(c, "mx.secure.example", 25, 0, secure, 600), STATUS_OK);
    assert_int_equal(cache_probe_put(c, "mx.plain.example", 25, 0, insecure, 600), STATUS_OK);
    /* The DANE=0 results read back; the DANE=1 key reads as a miss, from L1. */
    assert_int_equal(cache_probe_get(c, "mx.secure.example", 25, 0, 0, &got), STATUS_OK);
    assert_string_equal(got.body, secure);
    cache_policy_clear(&got);
    cache_stats(c, &stats);
    assert_int_equal(cache_probe_get(c, "mx.secure.example", 25, 1, 0, &got), STATUS_NOTFOUND);
    assert_null(got.body);
    {
	CACHE_STATS after;

	cache_stats(c, &after);
	assert_int_equal(after.l1_hits, stats.l1_hits + 1);
    }
    assert_int_equal(cache_probe_get(c, "mx.plain.example", 25, 1, 0, &got), STATUS_NOTFOUND);
    cache_free(&c);
    /* In the backend: the marker under the DANE key, nothing for the plain host. */
    open_store(path, 0, &st);
    assert_int_equal(st.get(st.ctx, "p:mx.secure.example:25:1", &val, &len), STATUS_OK);
    assert_int_equal(cache_decode(val, len, &got), STATUS_OK);
    assert_int_equal(got.kind, CACHE_KIND_PROBE);
    assert_string_equal(got.body, CACHE_PROBE_NO_DANE);
    assert_int_equal(got.expires, fake_now + 600);
    cache_policy_clear(&got);
    free(val);
    val = 0;
    assert_int_equal(st.get(st.ctx, "p:mx.plain.example:25:1", &val, &len), STATUS_NOTFOUND);
    free(val);
    st.close(&st.ctx);
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_value_format),
	cmocka_unit_test(test_survives_restart),
	cmocka_unit_test(test_expiry),
	cmocka_unit_test(test_corrupt_backend_value),
	cmocka_unit_test(test_negative_and_purge),
	cmocka_unit_test(test_l1_bytes_bound),
	cmocka_unit_test(test_unopenable_degrades),
	cmocka_unit_test(test_peek_read_only),
	cmocka_unit_test(test_lock_file_allocated),
	cmocka_unit_test(test_full_map_never_fails),
	cmocka_unit_test(test_no_fsync_per_put),
	cmocka_unit_test(test_probe_no_dane_marker),
    };

    return (cmocka_run_group_tests(tests, setup, teardown));
}
