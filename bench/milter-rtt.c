/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	milter-rtt 1
 * SUMMARY
 *	bench client: speaks the raw milter protocol and times RCPT round
 *	trips
 * SYNOPSIS
 *	milter-rtt SOCKET RCPT N CONNS
 * DESCRIPTION
 *	SOCKET is inet:PORT@HOST or unix:PATH. Each of CONNS connections
 *	(1 to 64, a thread each) negotiates once as Postfix 3.x does
 *	(version 6, every action and step offered), sends connect and MAIL,
 *	then N/CONNS times: macros for RCPT, RCPT, and reads the reply,
 *	skipping progress and header edits; an abort ends each transaction
 *	and a new MAIL opens the next every 50 RCPTs. Each RCPT round trip
 *	is timed with CLOCK_MONOTONIC. Written in C so that with several
 *	connections the client's own threads do not queue behind each
 *	other (a Python client's did, behind its interpreter lock, and
 *	that wait was counted in the round trips).
 *
 *	Prints one JSON line: {"n", "p50_us", "p90_us", "p99_us",
 *	"rcpt_per_s", "replies": {CODE: COUNT}, "errors": [...]}. Exit 0,
 *	or 1 when a connection failed or nothing was timed.
 *
 *	Used by bench/run; not part of the test suite.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "benchnet.h"

#define RTT_CONNS_MAX	64
#define RTT_BUF		65536

typedef struct RTT_WORKER {
    pthread_t tid;
    long    n;				/* RCPTs to time */
    double *times;			/* seconds, n of them */
    long    done;
    long    replies[256];
    char    error[160];
} RTT_WORKER;

static const char *rtt_spec;
static const char *rtt_rcpt;

static double rtt_now(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Append one milter packet: length, command, data. */

static size_t rtt_pkt(unsigned char *out, char cmd, const void *data, size_t len)
{
    uint32_t n = htonl((uint32_t) (len + 1));

    memcpy(out, &n, 4);
    out[4] = (unsigned char) cmd;
    if (len)
	memcpy(out + 5, data, len);
    return (len + 5);
}

/* A macro packet for cmd: "D", cmd, then NAME\0VALUE\0 pairs. */

static size_t rtt_macros(unsigned char *out, char cmd, const char *const *pairs, int npairs)
{
    unsigned char data[1024];
    size_t  len = 0;
    int     i;

    data[len++] = (unsigned char) cmd;
    for (i = 0; i < npairs; i++) {
	size_t  k = strlen(pairs[i]) + 1;

	if (len + k > sizeof(data))
	    break;
	memcpy(data + len, pairs[i], k);
	len += k;
    }
    return (rtt_pkt(out, 'D', data, len));
}

typedef struct RTT_CONN {
    int     fd;
    unsigned char buf[RTT_BUF];
    size_t  have;
} RTT_CONN;

/* The next reply's command byte, or -1 (err set). */

static int rtt_reply(RTT_CONN *c, char *err, size_t size)
{
    uint32_t n;
    ssize_t got;
    int     code;

    for (;;) {
	if (c->have >= 4) {
	    memcpy(&n, c->buf, 4);
	    n = ntohl(n);
	    if (n < 1 || n > RTT_BUF - 4) {
		(void) snprintf(err, size, "bad reply length %u", (unsigned) n);
		return (-1);
	    }
	    if (c->have >= 4 + (size_t) n) {
		code = c->buf[4];
		memmove(c->buf, c->buf + 4 + n, c->have - 4 - n);
		c->have -= 4 + n;
		return (code);
	    }
	}
	if ((got = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have)) <= 0) {
	    (void) snprintf(err, size, "read: %s", got == 0 ? "milter closed the connection" : strerror(errno));
	    return (-1);
	}
	c->have += (size_t) got;
    }
}

/* Replies until one whose code is in codes. */

static int rtt_until(RTT_CONN *c, const char *codes, char *err, size_t size)
{
    int     code;

    while ((code = rtt_reply(c, err, size)) >= 0)
	if (strchr(codes, code))
	    return (code);
    return (-1);
}

static int rtt_send(RTT_CONN *c, const unsigned char *p, size_t len, char *err, size_t size)
{
    if (write(c->fd, p, len) != (ssize_t) len) {
	(void) snprintf(err, size, "write: %s", strerror(errno));
	return (-1);
    }
    return (0);
}

static void *rtt_worker(void *arg)
{
    RTT_WORKER *w = (RTT_WORKER *) arg;
    RTT_CONN *c = 0;
    unsigned char out[4096];
    unsigned char data[600];
    char    qid[32];
    const char *pairs[4];
    uint32_t neg[3];
    uint16_t port = htons(25);
    size_t  len, dl;
    double  t0;
    long    i;
    int     code;

    if ((c = calloc(1, sizeof(*c))) == 0) {
	(void) snprintf(w->error, sizeof(w->error), "out of memory");
	goto done;
    }
    c->fd = -1;
    if ((c->fd = benchnet_connect(rtt_spec, w->error, sizeof(w->error))) < 0)
	goto done;
    /* What Postfix 3.x offers: version 6, all actions, all steps. */
    neg[0] = htonl(6);
    neg[1] = htonl(0x1ff);
    neg[2] = htonl(0x1fffff);
    len = rtt_pkt(out, 'O', neg, sizeof(neg));
    if (rtt_send(c, out, len, w->error, sizeof(w->error)) < 0)
	goto done;
    if ((code = rtt_reply(c, w->error, sizeof(w->error))) != 'O') {
	if (code >= 0)
	    (void) snprintf(w->error, sizeof(w->error), "negotiation answered %c", code);
	goto done;
    }
    pairs[0] = "j";
    pairs[1] = "bench.test";
    pairs[2] = "_";
    pairs[3] = "client.test [127.0.0.1]";
    len = rtt_macros(out, 'C', pairs, 4);
    dl = 0;
    memcpy(data, "client.test", 12);
    dl = 12;
    data[dl++] = '4';
    memcpy(data + dl, &port, 2);
    dl += 2;
    memcpy(data + dl, "127.0.0.1", 10);
    dl += 10;
    len += rtt_pkt(out + len, 'C', data, dl);
    if (rtt_send(c, out, len, w->error, sizeof(w->error)) < 0
	|| rtt_until(c, "catr", w->error, sizeof(w->error)) < 0)
	goto done;
    for (i = 0; i < w->n; i++) {
	if (i % 50 == 0) {
	    len = 0;
	    if (i)
		len = rtt_pkt(out, 'A', 0, 0);
	    (void) snprintf(qid, sizeof(qid), "4ABCDE%ld", i);
	    pairs[0] = "i";
	    pairs[1] = qid;
	    pairs[2] = "{mail_addr}";
	    pairs[3] = "alice@sender.test";
	    len += rtt_macros(out + len, 'M', pairs, 4);
	    len += rtt_pkt(out + len, 'M', "<alice@sender.test>", 20);
	    if (rtt_send(c, out, len, w->error, sizeof(w->error)) < 0
		|| rtt_until(c, "catr", w->error, sizeof(w->error)) < 0)
		goto done;
	}
	pairs[0] = "{rcpt_addr}";
	pairs[1] = rtt_rcpt;
	len = rtt_macros(out, 'R', pairs, 2);
	dl = (size_t) snprintf((char *) data, sizeof(data), "<%s>", rtt_rcpt) + 1;
	len += rtt_pkt(out + len, 'R', data, dl);
	t0 = rtt_now();
	if (rtt_send(c, out, len, w->error, sizeof(w->error)) < 0
	    || (code = rtt_until(c, "catry", w->error, sizeof(w->error))) < 0)
	    goto done;
	w->times[w->done++] = rtt_now() - t0;
	w->replies[code & 0xff]++;
    }
    len = rtt_pkt(out, 'A', 0, 0);
    len += rtt_pkt(out + len, 'Q', 0, 0);
    (void) rtt_send(c, out, len, w->error, sizeof(w->error));

done:
    if (c && c->fd >= 0)
	(void) close(c->fd);
    free(c);
    return (0);
}

static int rtt_cmp(const void *a, const void *b)
{
    double  x = *(const double *) a, y = *(const double *) b;

    return (x < y ? -1 : x > y);
}

int     main(int argc, char **argv)
{
    static RTT_WORKER w[RTT_CONNS_MAX];
    long    replies[256];
    double *all = 0;
    double  t0, wall;
    long    n, per, total = 0;
    int     conns, errors = 0, first;
    int     i, k;

    if (argc != 5 || (n = strtol(argv[3], 0, 10)) < 1 || (conns = (int) strtol(argv[4], 0, 10)) < 1
	|| conns > RTT_CONNS_MAX || strlen(argv[2]) > 500) {
	fprintf(stderr, "usage: milter-rtt SOCKET RCPT N CONNS(1-%d)\n", RTT_CONNS_MAX);
	return (2);
    }
    rtt_spec = argv[1];
    rtt_rcpt = argv[2];
    per = n / conns > 0 ? n / conns : 1;
    for (i = 0; i < conns; i++) {
	w[i].n = per;
	if ((w[i].times = calloc((size_t) per, sizeof(double))) == 0)
	    return (1);
    }
    t0 = rtt_now();
    for (i = 0; i < conns; i++)
	if (pthread_create(&w[i].tid, 0, rtt_worker, &w[i]) != 0)
	    return (1);
    for (i = 0; i < conns; i++)
	(void) pthread_join(w[i].tid, 0);
    wall = rtt_now() - t0;
    if ((all = calloc((size_t) (per * conns) + 1, sizeof(double))) == 0)
	return (1);
    memset(replies, 0, sizeof(replies));
    for (i = 0; i < conns; i++) {
	memcpy(all + total, w[i].times, (size_t) w[i].done * sizeof(double));
	total += w[i].done;
	for (k = 0; k < 256; k++)
	    replies[k] += w[i].replies[k];
    }
    qsort(all, (size_t) total, sizeof(double), rtt_cmp);
#define RTT_Q(p) (total ? all[(long) ((p) * total) < total ? (long) ((p) * total) : total - 1] * 1e6 : 0.0)
    printf("{\"n\": %ld, \"p50_us\": %.1f, \"p90_us\": %.1f, \"p99_us\": %.1f, \"rcpt_per_s\": %.1f, \"replies\": {",
	   total, RTT_Q(0.5), RTT_Q(0.9), RTT_Q(0.99), wall > 0 ? total / wall : 0.0);
    for (k = 0, first = 1; k < 256; k++)
	if (replies[k]) {
	    printf("%s\"%c\": %ld", first ? "" : ", ", k, replies[k]);
	    first = 0;
	}
    printf("}, \"errors\": [");
    for (i = 0; i < conns; i++)
	if (w[i].error[0])
	    printf("%s\"%s\"", errors++ ? ", " : "", w[i].error);
    printf("]}\n");
    return (errors || total == 0 ? 1 : 0);
}
