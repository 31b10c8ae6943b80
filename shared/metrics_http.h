/* SPDX-License-Identifier: ISC */
#ifndef METRICS_HTTP_H_INCLUDED
#define METRICS_HTTP_H_INCLUDED

/*
 * NAME
 *	metrics_http 3h
 * SUMMARY
 *	the Prometheus scrape listener of a daemon (libmicrohttpd)
 * SYNOPSIS
 *	#include "metrics_http.h"
 *
 *	int	metrics_http_listen(const char *spec, const char *param,
 *			int frontend, METRICS_HTTP **out)
 *
 *	int	metrics_http_start(METRICS_HTTP *m)
 *
 *	void	metrics_http_reload(const METRICS_HTTP *m, const char *spec)
 *
 *	void	metrics_http_free(METRICS_HTTP **mp)
 * DESCRIPTION
 *	metrics_http_listen() opens the listening socket of the
 *	configuration parameter param with value spec (inet:port,
 *	inet:port@host or inet6:port@host, as daemon_listen() reads
 *	them): call it as root, before the privileges go, so that any port
 *	works. An empty spec is no listener: STATUS_OK with *out null.
 *	STATUS_FAIL when the socket cannot be opened, logged as an error
 *	that names param and spec. frontend (METRICS_MILTER, ...) is the
 *	front end whose latency histogram this process renders from the
 *	start (metrics_own()).
 *
 *	metrics_http_start() starts serving, in libmicrohttpd's own
 *	thread, which blocks every signal (the daemon's own threads take
 *	them): call it after fork. A null m does
 *	nothing. GET (or HEAD) /metrics answers the text exposition format
 *	0.0.4 (metrics_render()); every other request is 404. At most
 *	METRICS_HTTP_CLIENTS connections at once (METRICS_HTTP_PER_IP from
 *	one address), each closed after METRICS_HTTP_TIMEOUT_S seconds
 *	idle; the request size is bounded by libmicrohttpd's connection
 *	memory limit. STATUS_OK, or STATUS_FAIL (logged).
 *
 *	metrics_http_reload() logs a warning when a reloaded configuration
 *	names another address (spec) than the one in use (m; null: none):
 *	as for the other sockets, a new address needs a restart.
 *
 *	metrics_http_free() stops the thread, closes the socket, frees m
 *	and sets the pointer to null. A null pointer is allowed.
 *
 *	Nothing here is on the mail path: a slow or broken scraper holds
 *	only this thread, and renders read atomics without a lock.
 */

#define METRICS_HTTP_CLIENTS	16
#define METRICS_HTTP_PER_IP	4
#define METRICS_HTTP_TIMEOUT_S	10

typedef struct METRICS_HTTP METRICS_HTTP;

extern int metrics_http_listen(const char *, const char *, int, METRICS_HTTP **);
extern int metrics_http_start(METRICS_HTTP *);
extern void metrics_http_reload(const METRICS_HTTP *, const char *);
extern void metrics_http_free(METRICS_HTTP **);

#endif
