/*
 * NAME
 *	policyd 8
 * SUMMARY
 *	stsfilter-policyd - Postfix TLS policy socketmap server (MTA-STS
 *	and DANE) answering from the stsfilter engine and cache
 * SYNOPSIS
 *	stsfilter-policyd [-f] [-n] [-c FILE]
 * DESCRIPTION
 *	Thin glue between Postfix's socketmap client (socketmap_table(5),
 *	smtp_tls_policy_maps) and the engine: netstring.c frames,
 *	socketmap.c turns keys into domains and verdicts into TLS
 *	policies, route_check() decides, with the same cache as the
 *	milter. See stsfilter-policyd(8).
 *
 *	Threads: one acceptor thread, and one thread per client
 *	connection, at most socketmap_max_clients (further connections
 *	wait in the listen queue). A client thread reads requests with
 *	a hard cap (NETSTRING_REQUEST_MAX, as Postfix), answers each one
 *	within socketmap_time_budget and closes the connection after
 *	socketmap_idle_timeout without a request, on a framing error, or
 *	when the client goes away. Nothing a client sends ends the daemon.
 *
 *	Signals: blocked in every thread; the main thread takes SIGHUP
 *	(reload: new requests use the new configuration) and SIGTERM,
 *	SIGINT (stop) with sigtimedwait().
 *
 *	Memory: a client thread owns its connection buffer and socket;
 *	each request holds one CONF reference.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "conf.h"
#include "daemon.h"
#include "domain.h"
#include "log.h"
#include "netstring.h"
#include "route.h"
#include "route_conf.h"
#include "socketmap.h"
#include "status.h"
#include "str.h"
#include "verdict.h"
#include "why.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define POLICYD_EX_OK		0
#define POLICYD_EX_USAGE	64
#define POLICYD_EX_SOFTWARE	70
#define POLICYD_EX_OSERR	71
#define POLICYD_EX_CONFIG	78

/* One request netstring: length digits, ':', data, ','. */
#define POLICYD_BUF_SIZE	(NETSTRING_REQUEST_MAX + NETSTRING_DIGITS_MAX + 2)
#define POLICYD_WRITE_MS	10000	/* a reply that cannot be written */

static const char policyd_progname[] = "stsfilter-policyd";

static pthread_mutex_t policyd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t policyd_cond = PTHREAD_COND_INITIALIZER;
static CONF *policyd_conf;		/* current; under policyd_lock */
static int policyd_clients;		/* under policyd_lock */
static ROUTE *policyd_route;		/* the engine, thread-safe */
static const char *policyd_conf_path = CONF_DEFAULT_PATH;
static char policyd_socket[CONF_VALUE_MAX + 1];
static int policyd_listen_fd = -1;
static volatile sig_atomic_t policyd_stop;

/* policyd_conf_get - a reference to the current configuration */

static CONF *policyd_conf_get(void)
{
    CONF   *conf;

    (void) pthread_mutex_lock(&policyd_lock);
    conf = conf_ref(policyd_conf);
    (void) pthread_mutex_unlock(&policyd_lock);
    return (conf);
}

/* policyd_budget_ms - per-request wait, within the check budget */

static int policyd_budget_ms(const CONF *conf)
{
    long    req_ms = conf_time(conf, CONF_SOCKETMAP_TIME_BUDGET) * 1000L;
    int     check_ms = route_conf_budget_ms(conf);

    return (req_ms < check_ms ? (int) req_ms : check_ms);
}

/* policyd_answer - the reply to one request (DATA of a netstring) */

static void policyd_answer(const char *req, size_t len, const char *client, char *reply, size_t size)
{
    CONF   *conf = policyd_conf_get();
    VERDICT *v = 0;
    WHY     why;
    char    name[SOCKETMAP_NAME_MAX + 1];
    char    key[SOCKETMAP_KEY_MAX + 1];
    char    domain[DOMAIN_MAX + 1];
    struct timespec t0, t1;
    const char *verdict = "-";
    int     flags = 0;
    int     st;
    long    ms;

    why.text[0] = 0;
    (void) clock_gettime(CLOCK_MONOTONIC, &t0);
    if (socketmap_request(req, len, name, sizeof(name), key, sizeof(key), &why) != STATUS_OK) {
	log_warn("client=%s: bad socketmap request: %s", client, why_text(&why));
	(void) snprintf(reply, size, "PERM bad request: %s", why_text(&why));
	goto out;
    }
    st = socketmap_key(key, domain, sizeof(domain), &why);
    if (st != STATUS_OK) {
	(void) str_copy(reply, size, "NOTFOUND ");
	log_info("client=%s, map=%s, key=%s: not a domain to check (%s), reply=NOTFOUND", client, name, key,
		 why_text(&why));
	goto out;
    }
    if (!action_scope_domain(conf, domain)) {
	(void) str_copy(reply, size, "NOTFOUND ");
	verdict = "skipped";
    } else {
	st = route_check(policyd_route, domain, policyd_budget_ms(conf), ROUTE_FIRST, &v, &why);
	if (st == STATUS_INVAL) {
	    verdict = "invalid";
	    (void) str_copy(reply, size, "NOTFOUND ");
	} else {
	    if (st != STATUS_OK) {
		log_error("domain=%s: check failed: %s", domain, why_text(&why));
		verdict_free(&v);
	    }
	    verdict = v ? verdict_name(v->verdict) : "internal-error";
	    (void) socketmap_reply(v, reply, size, &flags);
	    if (flags & SOCKETMAP_TRUNCATED)
		log_warn("domain=%s: policy has %d mx patterns, not all of which can be passed to Postfix",
			 domain, v ? v->policy_mx_count : 0);
	}
    }
    (void) clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
    /* One line per lookup, Postfix style; v->explanation is sanitized. */
    log_info("client=%s, map=%s, key=%s, domain=%s, verdict=%s, delay=%ldms, reply=%s%s%s", client, name,
	     key, domain, verdict, ms, reply, v && v->explanation[0] ? ": " : "",
	     v ? v->explanation : "");

out:
    verdict_free(&v);
    conf_unref(&conf);
}

/* policyd_write - the whole buffer, or -1 */

static int policyd_write(int fd, const char *buf, size_t len)
{
    struct pollfd pfd;
    ssize_t n;

    while (len > 0) {
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, POLICYD_WRITE_MS) <= 0)
	    return (-1);
	if ((n = send(fd, buf, len, MSG_NOSIGNAL)) < 0) {
	    if (errno == EINTR || errno == EAGAIN)
		continue;
	    return (-1);
	}
	buf += n;
	len -= (size_t) n;
    }
    return (0);
}

typedef struct POLICYD_CLIENT {
    int     fd;
    char    name[64];
} POLICYD_CLIENT;

/* policyd_serve - one connection: requests until idle, EOF or bad framing */

static void policyd_serve(POLICYD_CLIENT *pc)
{
    char   *buf = 0;
    char    reply[SOCKETMAP_REPLY_MAX];
    char    out[SOCKETMAP_REPLY_MAX + NETSTRING_DIGITS_MAX + 3];
    struct pollfd pfd;
    CONF   *conf;
    const char *data;
    size_t  have = 0;
    size_t  dlen, used, olen;
    ssize_t n;
    int     idle_ms;
    int     st;

    if ((buf = malloc(POLICYD_BUF_SIZE)) == 0) {
	log_error("client=%s: out of memory", pc->name);
	goto out;
    }
    conf = policyd_conf_get();
    idle_ms = (int) conf_time(conf, CONF_SOCKETMAP_IDLE_TIMEOUT) * 1000;
    conf_unref(&conf);
    for (;;) {
	/* Every complete request in the buffer (Postfix sends one at a time). */
	while ((st = netstring_parse(buf, have, NETSTRING_REQUEST_MAX, &data, &dlen, &used)) == STATUS_OK) {
	    reply[0] = 0;
	    policyd_answer(data, dlen, pc->name, reply, sizeof(reply));
	    if (netstring_format(out, sizeof(out), reply, strlen(reply), &olen) != STATUS_OK)
		log_panic("reply does not fit its buffer");
	    if (policyd_write(pc->fd, out, olen) < 0) {
		log_warn("client=%s: cannot send the reply: %s", pc->name, strerror(errno));
		goto out;
	    }
	    memmove(buf, buf + used, have - used);
	    have -= used;
	}
	if (st == STATUS_INVAL) {
	    log_warn("client=%s: malformed netstring or request over %d bytes; closing", pc->name,
		     NETSTRING_REQUEST_MAX);
	    goto out;
	}
	if (policyd_stop)
	    goto out;
	pfd.fd = pc->fd;
	pfd.events = POLLIN;
	if ((st = poll(&pfd, 1, idle_ms)) == 0) {
	    if (have > 0)
		log_warn("client=%s: incomplete request after %d s; closing", pc->name, idle_ms / 1000);
	    goto out;
	}
	if (st < 0) {
	    if (errno == EINTR)
		continue;
	    goto out;
	}
	if ((n = recv(pc->fd, buf + have, POLICYD_BUF_SIZE - have, 0)) < 0) {
	    if (errno == EINTR || errno == EAGAIN)
		continue;
	    goto out;
	}
	if (n == 0)
	    goto out;				/* client closed */
	have += (size_t) n;
    }

out:
    free(buf);
}

/* policyd_client_thread - serve, then release the slot */

static void *policyd_client_thread(void *arg)
{
    POLICYD_CLIENT *pc = arg;

    policyd_serve(pc);
    (void) close(pc->fd);
    free(pc);
    (void) pthread_mutex_lock(&policyd_lock);
    policyd_clients--;
    (void) pthread_cond_signal(&policyd_cond);
    (void) pthread_mutex_unlock(&policyd_lock);
    return (0);
}

/* policyd_client_name - printable peer for logs */

static void policyd_client_name(int fd, char *buf, size_t size)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char    host[64];
    char    port[16];

    (void) str_copy(buf, size, "local");
    if (getpeername(fd, (struct sockaddr *) &ss, &len) < 0 || ss.ss_family == AF_UNIX)
	return;
    if (getnameinfo((struct sockaddr *) &ss, len, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
	(void) snprintf(buf, size, "%s:%s", host, port);
}

/* policyd_accept_thread - accept until stopped, within max_clients */

static void *policyd_accept_thread(void *arg)
{
    POLICYD_CLIENT *pc;
    struct pollfd pfd;
    pthread_attr_t attr;
    pthread_t tid;
    CONF   *conf;
    int     max;
    int     fd;

    (void) arg;
    (void) pthread_attr_init(&attr);
    (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (!policyd_stop) {
	conf = policyd_conf_get();
	max = conf_int(conf, CONF_SOCKETMAP_MAX_CLIENTS);
	conf_unref(&conf);
	(void) pthread_mutex_lock(&policyd_lock);
	while (policyd_clients >= max && !policyd_stop) {
	    struct timespec until;

	    (void) clock_gettime(CLOCK_REALTIME, &until);
	    until.tv_sec += 1;
	    (void) pthread_cond_timedwait(&policyd_cond, &policyd_lock, &until);
	}
	(void) pthread_mutex_unlock(&policyd_lock);
	pfd.fd = policyd_listen_fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 1000) <= 0)
	    continue;
	if ((fd = accept(policyd_listen_fd, 0, 0)) < 0) {
	    if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
		log_warn("accept: %s", strerror(errno));
		(void) poll(0, 0, 100);		/* EMFILE: do not spin */
	    }
	    continue;
	}
	(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
	if ((pc = calloc(1, sizeof(*pc))) == 0) {
	    log_error("out of memory at connect");
	    (void) close(fd);
	    continue;
	}
	pc->fd = fd;
	policyd_client_name(fd, pc->name, sizeof(pc->name));
	(void) pthread_mutex_lock(&policyd_lock);
	policyd_clients++;
	(void) pthread_mutex_unlock(&policyd_lock);
	if (pthread_create(&tid, &attr, policyd_client_thread, pc) != 0) {
	    log_error("cannot start a client thread for %s", pc->name);
	    (void) close(fd);
	    free(pc);
	    (void) pthread_mutex_lock(&policyd_lock);
	    policyd_clients--;
	    (void) pthread_mutex_unlock(&policyd_lock);
	}
    }
    (void) pthread_attr_destroy(&attr);
    return (0);
}

/* policyd_load - load and check the configuration; errors name file and line */

static int policyd_load(CONF **conf)
{
    int     ret;

    if ((ret = daemon_load(policyd_conf_path, conf)) == STATUS_OK
	&& *conf_str(*conf, CONF_SOCKETMAP_SOCKET) == 0) {
	log_error("%s: socketmap_socket is empty: nothing to listen on", policyd_conf_path);
	conf_unref(conf);
	ret = STATUS_INVAL;
    }
    return (ret);
}

/* policyd_reload - SIGHUP: a new configuration, or keep the old one */

static void policyd_reload(void)
{
    CONF   *fresh = 0;
    CONF   *old;

    if (policyd_load(&fresh) != STATUS_OK) {
	log_error("reload failed; keeping the configuration in use");
	return;
    }
    if (strcmp(conf_str(fresh, CONF_SOCKETMAP_SOCKET), policyd_socket) != 0)
	log_warn("socketmap_socket changed to %s; restart to listen there",
		 conf_str(fresh, CONF_SOCKETMAP_SOCKET));
    (void) pthread_mutex_lock(&policyd_lock);
    old = policyd_conf;
    policyd_conf = fresh;
    (void) pthread_mutex_unlock(&policyd_lock);
    conf_unref(&old);
    log_info("configuration reloaded from %s", policyd_conf_path);
}

int     main(int argc, char **argv)
{
    DAEMON_ARGS args;
    ROUTE_OPTS opts;
    WHY     why;
    sigset_t set;
    pthread_t tid;
    struct timespec tick = {1, 0};
    char    pidfile[CONF_VALUE_MAX + 1];
    char    syslog_name[256];
    const char *path;
    int     foreground = 0;
    int     check_only = 0;
    int     started = 0;
    int     ret = POLICYD_EX_CONFIG;
    int     sig;
    int     ch;

    pidfile[0] = 0;
    log_init(policyd_progname, LOG_TO_STDERR);
    if ((ret = daemon_args(argc, argv, policyd_progname, 1, &args)) != DAEMON_ARGS_GO)
	return (ret);
    ret = POLICYD_EX_CONFIG;
    policyd_conf_path = args.conf_path;
    foreground = args.foreground;
    check_only = args.check_only;
    if (policyd_load(&policyd_conf) != STATUS_OK)
	goto out;
    if (check_only) {
	(void) printf("%s: configuration ok\n", policyd_conf_path);
	ret = POLICYD_EX_OK;
	goto out;
    }
    ret = POLICYD_EX_OSERR;
    (void) str_copy(policyd_socket, sizeof(policyd_socket), conf_str(policyd_conf, CONF_SOCKETMAP_SOCKET));
    (void) str_copy(syslog_name, sizeof(syslog_name), conf_str(policyd_conf, CONF_SYSLOG_NAME));
    (void) str_copy(pidfile, sizeof(pidfile), conf_str(policyd_conf, CONF_SOCKETMAP_PID_FILE));
    log_init(policyd_progname, LOG_TO_SYSLOG | (foreground ? LOG_TO_STDERR : 0));
    /* Last openlog() wins: the configured name and facility. */
    openlog(syslog_name, LOG_PID | LOG_NDELAY, daemon_facility(policyd_conf));

    /* Open the socket as root, before the privileges go. */
    why.text[0] = 0;
    if (daemon_listen(policyd_socket, &policyd_listen_fd, &why) != STATUS_OK) {
	log_error("%s (socketmap_socket)", why_text(&why));
	goto out;
    }
    if (!foreground && daemon(0, 0) < 0) {
	log_error("cannot become a daemon: %s", strerror(errno));
	goto out;
    }
    if (daemon_pidfile(policyd_conf, pidfile) < 0)
	goto out;
    started = 1;
    if (daemon_privileges(policyd_conf, policyd_socket) < 0)
	goto out;

    /* The engine starts threads: after fork and setuid. */
    route_conf_opts(policyd_conf, &opts);
    why.text[0] = 0;
    if (route_create(&opts, &policyd_route, &why) != STATUS_OK) {
	log_error("cannot start the engine: %s", why_text(&why));
	ret = POLICYD_EX_SOFTWARE;
	goto out;
    }

    /* Every thread inherits these blocked; the main thread takes them. */
    daemon_signals(&set);
    if (pthread_create(&tid, 0, policyd_accept_thread, 0) != 0) {
	log_error("cannot start the acceptor thread");
	goto out;
    }
    log_info("starting: version %s, listening on %s, configuration %s", PACKAGE_VERSION,
	     policyd_socket, policyd_conf_path);
    for (;;) {
	sig = sigtimedwait(&set, 0, &tick);
	if (sig == SIGHUP) {
	    policyd_reload();
	} else if (sig == SIGTERM || sig == SIGINT) {
	    log_info("stopping on signal %d", sig);
	    break;
	}
    }
    policyd_stop = 1;
    (void) pthread_join(tid, 0);
    /* Client threads see the flag at their next poll; wait for them a while. */
    (void) pthread_mutex_lock(&policyd_lock);
    for (ch = 0; policyd_clients > 0 && ch < 30; ch++) {
	struct timespec until;

	(void) clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 1;
	(void) pthread_cond_timedwait(&policyd_cond, &policyd_lock, &until);
    }
    sig = policyd_clients;
    (void) pthread_mutex_unlock(&policyd_lock);
    ret = POLICYD_EX_OK;
    if (sig > 0) {
	/* A thread may still be in the engine: leave it to exit(). */
	log_info("stopped with %d connections still open", sig);
	policyd_route = 0;
    }

out:
    if (policyd_listen_fd >= 0)
	(void) close(policyd_listen_fd);
    if ((path = daemon_socket_path(policyd_socket)) != 0 && started)
	(void) unlink(path);			/* may fail after setuid */
    if (started && *pidfile)
	(void) unlink(pidfile);
    route_free(&policyd_route);
    conf_unref(&policyd_conf);
    return (ret);
}
