/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	socketmap-qps 1
 * SUMMARY
 *	bench client: socketmap queries per second against a Postfix
 *	socketmap server (stsfilter-policyd, postfix-mta-sts-resolver)
 * SYNOPSIS
 *	socketmap-qps SOCKET NAME KEY CONNS SECONDS
 * DESCRIPTION
 *	SOCKET is unix:PATH or inet:HOST:PORT. CONNS connections (1 to
 *	256), each on its own thread with one request in flight, as
 *	Postfix's smtp(8) processes each keep one, for SECONDS. Written in
 *	C so that the client is not what limits the rate: a Python client
 *	spends more per round trip than the server it measures.
 *
 *	Prints one JSON line: {"n": COUNT, "qps": RATE, "wall": SECONDS,
 *	"reply": FIRST_REPLY, "errors": [...]}. Exit 0, or 1 when any
 *	connection failed or nothing was answered.
 *
 *	Used by bench/run; not part of the test suite.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchnet.h"

#define QPS_CONNS_MAX	256
#define QPS_BUF		(100000 + 64)

static const char *qps_spec;
static char qps_req[1200];
static size_t qps_req_len;
static volatile int qps_stop;

typedef struct QPS_WORKER {
    pthread_t tid;
    long    n;
    char    first[256];
    char    error[128];
} QPS_WORKER;

static double qps_now(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* One reply netstring; its length, or -1. */

static long qps_read(int fd, char *buf, size_t size, char *err, size_t esize)
{
    size_t  have = 0;
    long    len = -1;
    char   *colon;
    ssize_t n;

    for (;;) {
	if (len < 0 && (colon = memchr(buf, ':', have)) != 0)
	    len = strtol(buf, 0, 10) + (colon - buf) + 2;
	if (len >= 0 && have >= (size_t) len)
	    return (len);
	if (have >= size) {
	    (void) snprintf(err, esize, "reply too long");
	    return (-1);
	}
	if ((n = read(fd, buf + have, size - have)) <= 0) {
	    (void) snprintf(err, esize, "read: %s", n == 0 ? "closed" : strerror(errno));
	    return (-1);
	}
	have += (size_t) n;
    }
}

static void *qps_worker(void *arg)
{
    QPS_WORKER *w = (QPS_WORKER *) arg;
    char   *buf = 0;
    char   *colon;
    long    len;
    int     fd = -1;

    if ((buf = malloc(QPS_BUF)) == 0) {
	(void) snprintf(w->error, sizeof(w->error), "out of memory");
	goto done;
    }
    if ((fd = benchnet_connect(qps_spec, w->error, sizeof(w->error))) < 0)
	goto done;
    while (!qps_stop) {
	if (write(fd, qps_req, qps_req_len) != (ssize_t) qps_req_len) {
	    (void) snprintf(w->error, sizeof(w->error), "write: %s", strerror(errno));
	    goto done;
	}
	if ((len = qps_read(fd, buf, QPS_BUF, w->error, sizeof(w->error))) < 0)
	    goto done;
	if (w->n++ == 0 && (colon = memchr(buf, ':', (size_t) len)) != 0)
	    (void) snprintf(w->first, sizeof(w->first), "%.*s", (int) (len - (colon - buf) - 2), colon + 1);
    }

done:
    if (fd >= 0)
	(void) close(fd);
    free(buf);
    return (0);
}

int     main(int argc, char **argv)
{
    static QPS_WORKER w[QPS_CONNS_MAX];
    const char *first = "";
    char    body[1100];
    double  secs, t0, wall;
    long    n = 0;
    int     conns, errors = 0;
    int     i;

    if (argc != 6 || (conns = (int) strtol(argv[4], 0, 10)) < 1 || conns > QPS_CONNS_MAX || (secs = strtod(argv[5], 0)) <= 0
	|| strlen(argv[2]) + strlen(argv[3]) > 1000) {
	fprintf(stderr, "usage: socketmap-qps SOCKET NAME KEY CONNS(1-%d) SECONDS\n", QPS_CONNS_MAX);
	return (2);
    }
    qps_spec = argv[1];
    (void) snprintf(body, sizeof(body), "%s %s", argv[2], argv[3]);
    qps_req_len = (size_t) snprintf(qps_req, sizeof(qps_req), "%zu:%s,", strlen(body), body);
    t0 = qps_now();
    for (i = 0; i < conns; i++)
	if (pthread_create(&w[i].tid, 0, qps_worker, &w[i]) != 0) {
	    fprintf(stderr, "socketmap-qps: cannot start thread %d\n", i);
	    return (1);
	}
    (void) usleep((useconds_t) (secs * 1e6));
    qps_stop = 1;
    for (i = 0; i < conns; i++)
	(void) pthread_join(w[i].tid, 0);
    wall = qps_now() - t0;
    printf("{\"n\": ");
    for (i = 0; i < conns; i++) {
	n += w[i].n;
	if (!*first && w[i].first[0])
	    first = w[i].first;
    }
    printf("%ld, \"qps\": %.1f, \"wall\": %.2f, \"reply\": \"", n, n / secs, wall);
    for (; *first; first++)
	if (*first == '"' || *first == '\\')
	    printf("\\%c", *first);
	else if ((unsigned char) *first >= 0x20 && (unsigned char) *first < 0x7f)
	    putchar(*first);
    printf("\", \"errors\": [");
    for (i = 0; i < conns; i++)
	if (w[i].error[0])
	    printf("%s\"%s\"", errors++ ? ", " : "", w[i].error);
    printf("]}\n");
    return (errors || n == 0 ? 1 : 0);
}
