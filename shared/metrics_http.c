/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	metrics_http 3
 * SUMMARY
 *	the Prometheus scrape listener of a daemon (libmicrohttpd)
 * DESCRIPTION
 *	See metrics_http.h. libmicrohttpd parses HTTP; this module opens
 *	the socket (daemon_listen(), so that the address notation and its
 *	errors are those of milter_socket) and hands it to libmicrohttpd
 *	with an internal polling thread, a connection limit and an idle
 *	timeout. The one handler renders into a fresh buffer of
 *	METRICS_RENDER_MAX bytes, which the response owns (libmicrohttpd
 *	frees it).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "status.h"
#include "str.h"
#include "why.h"

struct METRICS_HTTP {
    int     fd;				/* listening socket; -1: MHD owns it */
    int     frontend;
    struct MHD_Daemon *mhd;
    char    spec[256];
    char    param[64];
};

static const char metrics_http_type[] = "text/plain; version=0.0.4; charset=utf-8";

/* metrics_http_log - libmicrohttpd's own errors, to our log */

#if defined(__GNUC__)
static void metrics_http_log(void *, const char *, va_list) __attribute__((format(printf, 2, 0)));
#endif

static void metrics_http_log(void *cls, const char *fmt, va_list ap)
{
    METRICS_HTTP *m = (METRICS_HTTP *) cls;
    char    buf[512];

    (void) vsnprintf(buf, sizeof(buf), fmt, ap);
    buf[strcspn(buf, "\r\n")] = 0;
    log_warn("metrics listener %s (%s): %s", m->spec, m->param, buf);
}

/* metrics_http_reply - queue a response with a body we own (or a constant) */

static enum MHD_Result metrics_http_reply(struct MHD_Connection *conn, unsigned code, char *body, size_t len,
					          enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;

    if ((resp = MHD_create_response_from_buffer(len, body, mode)) == 0) {
	if (mode == MHD_RESPMEM_MUST_FREE)
	    free(body);
	return (MHD_NO);
    }
    (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				   code == MHD_HTTP_OK ? metrics_http_type : "text/plain; charset=utf-8");
    ret = MHD_queue_response(conn, code, resp);
    MHD_destroy_response(resp);
    return (ret);
}

/* metrics_http_handler - GET /metrics, or 404 */

static enum MHD_Result metrics_http_handler(void *cls, struct MHD_Connection *conn, const char *url,
					            const char *method, const char *version,
					            const char *upload_data, size_t *upload_data_size,
					            void **con_cls)
{
    static char not_found[] = "404 not found: GET /metrics\n";
    char   *body;
    size_t  len;

    (void) cls;
    (void) version;
    (void) upload_data;
    (void) upload_data_size;
    (void) con_cls;
    if ((strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
	|| strcmp(url, "/metrics") != 0)
	return (metrics_http_reply(conn, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
				   MHD_RESPMEM_PERSISTENT));
    if ((body = malloc(METRICS_RENDER_MAX)) == 0)
	return (MHD_NO);
    if (metrics_render(body, METRICS_RENDER_MAX, &len) != STATUS_OK) {
	/* Cannot happen: METRICS_RENDER_MAX is several times the whole table. */
	free(body);
	log_error("metrics: the exposition exceeds %d bytes", METRICS_RENDER_MAX);
	return (MHD_NO);
    }
    return (metrics_http_reply(conn, MHD_HTTP_OK, body, len, MHD_RESPMEM_MUST_FREE));
}

int     metrics_http_listen(const char *spec, const char *param, int frontend, METRICS_HTTP **out)
{
    METRICS_HTTP *m = 0;
    WHY     why;
    int     flags;
    int     status = STATUS_FAIL;

    *out = 0;
    why.text[0] = 0;
    if (spec == 0 || *spec == 0)
	return (STATUS_OK);
    if (strncmp(spec, "inet:", 5) != 0 && strncmp(spec, "inet6:", 6) != 0) {
	log_error("%s = %s: expected inet:port, inet:port@host or inet6:port@host", param, spec);
	goto done;
    }
    if ((m = calloc(1, sizeof(*m))) == 0) {
	log_error("%s: out of memory", param);
	goto done;
    }
    m->fd = -1;
    m->frontend = frontend;
    (void) str_copy(m->spec, sizeof(m->spec), spec);
    (void) str_copy(m->param, sizeof(m->param), param);
    if (daemon_listen(spec, &m->fd, &why) != STATUS_OK) {
	log_error("%s (%s)", why_text(&why), param);
	goto done;
    }
    /* libmicrohttpd's polling thread never blocks in accept(). */
    if ((flags = fcntl(m->fd, F_GETFL)) < 0 || fcntl(m->fd, F_SETFL, flags | O_NONBLOCK) < 0) {
	log_error("cannot listen on %s (%s): fcntl: %s", spec, param, strerror(errno));
	goto done;
    }
    *out = m;
    m = 0;
    status = STATUS_OK;

done:
    metrics_http_free(&m);
    return (status);
}

int     metrics_http_start(METRICS_HTTP *m)
{
    sigset_t all;
    sigset_t old;
    int     status = STATUS_FAIL;

    if (m == 0)
	return (STATUS_OK);
    metrics_own(m->frontend);
    /* libmicrohttpd's thread inherits a mask that blocks every signal: the daemon's threads take them. */
    (void) sigfillset(&all);
    (void) pthread_sigmask(SIG_BLOCK, &all, &old);
    m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG,
			      0, 0, 0, metrics_http_handler, m,
			      MHD_OPTION_LISTEN_SOCKET, m->fd,
			      MHD_OPTION_CONNECTION_LIMIT, (unsigned int) METRICS_HTTP_CLIENTS,
			      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int) METRICS_HTTP_PER_IP,
			      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) METRICS_HTTP_TIMEOUT_S,
			      MHD_OPTION_EXTERNAL_LOGGER, metrics_http_log, m,
			      MHD_OPTION_END);
    (void) pthread_sigmask(SIG_SETMASK, &old, 0);
    if (m->mhd == 0) {
	log_error("cannot serve metrics on %s (%s): libmicrohttpd did not start", m->spec, m->param);
	goto done;
    }
    m->fd = -1;					/* MHD_stop_daemon() closes it */
    log_info("serving metrics on %s (GET /metrics)", m->spec);
    status = STATUS_OK;

done:
    return (status);
}

void    metrics_http_reload(const METRICS_HTTP *m, const char *spec)
{
    const char *now = m ? m->spec : "";

    if (strcmp(now, spec) != 0)
	log_warn("metrics listener changed from \"%s\" to \"%s\"; restart to listen there", now, spec);
}

void    metrics_http_free(METRICS_HTTP **mp)
{
    METRICS_HTTP *m = *mp;

    if (m == 0)
	return;
    if (m->mhd)
	MHD_stop_daemon(m->mhd);
    if (m->fd >= 0)
	(void) close(m->fd);
    free(m);
    *mp = 0;
}
