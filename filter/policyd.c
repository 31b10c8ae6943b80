/* SPDX-License-Identifier: ISC */
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
 *	milter. A map name ending in "tlsrpt" (socketmap_name_tlsrpt())
 *	asks for the TLS-RPT attributes of Postfix 3.10. See
 *	stsfilter-policyd(8).
 *
 *	Threads: one acceptor thread, and one thread per client
 *	connection, at most socketmap_max_clients in all and
 *	socketmap_max_clients_per_peer per peer (IP address, or uid on a
 *	unix socket). A client thread reads requests with a hard cap
 *	(NETSTRING_REQUEST_MAX), answers each one within
 *	socketmap_time_budget and closes the connection after
 *	socketmap_idle_timeout without a request, when a request has not
 *	arrived whole socketmap_request_timeout after its first byte
 *	(slow-loris), on a framing error, or when the client goes away.
 *	When a cap is reached, the acceptor sheds the connection that has
 *	been idle longest (else the one whose request started first;
 *	never one inside a check) with shutdown(); a shed thread closes
 *	its own socket. Sheds and refusals are logged once a minute.
 *	Nothing a client sends ends the daemon.
 *
 *	A unix socket gets socketmap_socket_mode (0660) and the group
 *	socketmap_socket_group (postfix), not a world-writable mode.
 *
 *	Signals: blocked in every thread; the main thread takes SIGHUP
 *	(reload: new requests use the new configuration) and SIGTERM,
 *	SIGINT (stop) with sigtimedwait(). Stop: the flag is atomic; the
 *	acceptor ends and the listening socket closes (new connections
 *	are refused); idle connections are shut down; a request inside a
 *	check is answered first. The engine and the configuration are
 *	freed only when every client thread has gone; otherwise exit()
 *	ends the threads that are left, and nothing is freed under them.
 *
 *	Memory: a client thread owns its connection buffers and socket;
 *	each request holds one CONF reference; the client list is under
 *	policyd_lock.
 */

#define _GNU_SOURCE			/* struct ucred, SO_PEERCRED */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "conf.h"
#include "daemon.h"
#include "notify.h"
#include "domain.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
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

#define POLICYD_IDLE		0	/* waiting for a request */
#define POLICYD_READING		1	/* part of a request is in */
#define POLICYD_BUSY		2	/* inside a check or a reply */

#define POLICYD_SHED_LOG_MS	60000	/* shed and refusal log period */

typedef struct POLICYD_CLIENT {
    int     fd;
    char    name[64];			/* printable peer, for logs */
    char    peer[64];			/* cap key: address or uid */
    int     state;			/* POLICYD_*; under policyd_lock */
    long long since;			/* ms: idle since, or first byte */
    int     shed;			/* shut down by the acceptor */
    struct POLICYD_CLIENT *next;
} POLICYD_CLIENT;

static pthread_mutex_t policyd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t policyd_cond = PTHREAD_COND_INITIALIZER;
static CONF *policyd_conf;		/* current; under policyd_lock */
static int policyd_clients;		/* threads; under policyd_lock */
static POLICYD_CLIENT *policyd_list;	/* under policyd_lock */
static long policyd_shed_count;		/* under policyd_lock */
static long policyd_refused_count;	/* under policyd_lock */
static long long policyd_shed_logged;	/* under policyd_lock */
static ROUTE *policyd_route;		/* the engine, thread-safe */
static const char *policyd_conf_path = CONF_DEFAULT_PATH;
static char policyd_socket[CONF_VALUE_MAX + 1];
static int policyd_listen_fd = -1;
static METRICS_HTTP *policyd_metrics;	/* socketmap_metrics_listen, or null */
static pthread_t policyd_acceptor;
static atomic_int policyd_stop;

/* policyd_now - monotonic milliseconds */

static long long policyd_now(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

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
    ANSWER  ans;
    const ANSWER *v = 0;
    WHY     why;
    char    name[SOCKETMAP_NAME_MAX + 1];
    char    key[SOCKETMAP_KEY_MAX + 1];
    char    domain[DOMAIN_MAX + 1];
    struct timespec t0, t1;
    const char *verdict = "-";
    const char *basis = "";
    int     flags = 0;
    int     failed;
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
	if (conf_bool(conf, CONF_LOG_LOOKUPS))
	    log_info("client=%s, map=%s, key=%s: not a domain to check (%s), reply=NOTFOUND", client, name, key,
		 why_text(&why));
	goto out;
    }
    if (!action_scope_domain(conf, domain)) {
	(void) str_copy(reply, size, "NOTFOUND ");
	verdict = "skipped";
	basis = "local_domains or skip_domains";
    } else {
	/*
	 * Postfix resolves the MX itself: a cached policy outlives a DNS
	 * outage. A warm lookup is one read of the domain's kept answer,
	 * reply included (route.h).
	 */
	st = route_answer(policyd_route, domain, policyd_budget_ms(conf), ROUTE_FIRST | ROUTE_CACHED | ROUTE_SOCKETMAP
			  | (socketmap_name_tlsrpt(name) ? ROUTE_SOCKETMAP_TLSRPT : 0), &ans, reply, size, &why);
	if (st == STATUS_INVAL) {
	    verdict = "invalid";
	    basis = "not a valid domain";
	    (void) str_copy(reply, size, "NOTFOUND ");
	} else if (st != STATUS_OK) {
	    log_error("domain=%s: check failed: %s", domain, why_text(&why));
	    verdict = "internal-error";
	    (void) socketmap_reply(0, reply, size, &flags, &basis);
	} else {
	    v = &ans;
	    verdict = verdict_name(v->verdict);
	    basis = v->socketmap_basis;
	    if (v->socketmap_flags & SOCKETMAP_TRUNCATED)
		log_warn("domain=%s: policy has %d mx patterns, not all of which can be passed to Postfix",
			 domain, v->policy_mx_count);
	    if (v->socketmap_flags & SOCKETMAP_TLSRPT_OMITTED)
		log_warn("domain=%s: TLS-RPT attributes left out: the policy does not fit a reply", domain);
	}
    }
    (void) clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_decision(METRICS_POLICYD, verdict, metrics_reply_action(reply), &t0, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
    /*
     * One line per lookup, Postfix style: the reply and why it is that
     * reply, both from socketmap_reply(); then the engine's explanation
     * (sanitized). A long match list is cut in the log, never in the reply.
     * By default only a failure is logged (issue 14: what a postmaster
     * acts on), as a warning: a TEMP or PERM reply (Postfix defers), or a
     * check that did not finish (temporary, internal error) even when a
     * cached policy still answers. Policy changes and downgrades are
     * logged by the engine (route_policy.c). log_lookups logs every one.
     */
    failed = (strncmp(reply, "TEMP", 4) == 0 || strncmp(reply, "PERM", 4) == 0
	      || (v ? v->verdict == VERDICT_TEMPORARY : strcmp(verdict, "internal-error") == 0));
    if (failed || conf_bool(conf, CONF_LOG_LOOKUPS))
	(failed ? log_warn : log_info) ("client=%s, map=%s, key=%s, domain=%s, verdict=%s, delay=%ldms, "
					"reply=%.600s%s%s%s%s%s%s",
					client, name, key, domain, verdict, ms, reply,
					strlen(reply) > 600 ? "..." : "", *basis ? " (" : "", basis,
					*basis ? ")" : "", v && v->explanation[0] ? ": " : "",
					v ? v->explanation : "");

out:
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

/* policyd_state - a client's state, under the lock (the acceptor reads it) */

static void policyd_state(POLICYD_CLIENT *pc, int state)
{
    (void) pthread_mutex_lock(&policyd_lock);
    pc->state = state;
    pc->since = policyd_now();
    (void) pthread_mutex_unlock(&policyd_lock);
}

/* policyd_serve - one connection: requests until idle, EOF, bad framing or stop */

static void policyd_serve(POLICYD_CLIENT *pc)
{
    char   *buf = 0;
    char   *reply = 0;
    char   *out = 0;
    struct pollfd pfd;
    CONF   *conf;
    const char *data;
    long long first = 0;		/* first byte of the current request */
    long long left;
    size_t  osize = SOCKETMAP_REPLY_MAX + NETSTRING_DIGITS_MAX + 3;
    size_t  have = 0;
    size_t  dlen, used, olen;
    ssize_t n;
    int     idle_ms;
    int     request_ms;
    int     st = NETSTRING_MORE;

    if ((buf = malloc(POLICYD_BUF_SIZE)) == 0 || (reply = malloc(SOCKETMAP_REPLY_MAX)) == 0
	|| (out = malloc(osize)) == 0) {
	log_error("client=%s: out of memory", pc->name);
	goto out;
    }
    conf = policyd_conf_get();
    idle_ms = (int) conf_time(conf, CONF_SOCKETMAP_IDLE_TIMEOUT) * 1000;
    request_ms = (int) conf_time(conf, CONF_SOCKETMAP_REQUEST_TIMEOUT) * 1000;
    conf_unref(&conf);
    for (;;) {
	/* Every complete request in the buffer (Postfix sends one at a time). */
	while (!atomic_load(&policyd_stop)
	       && (st = netstring_parse(buf, have, NETSTRING_REQUEST_MAX, &data, &dlen, &used)) == STATUS_OK) {
	    policyd_state(pc, POLICYD_BUSY);
	    reply[0] = 0;
	    policyd_answer(data, dlen, pc->name, reply, SOCKETMAP_REPLY_MAX);
	    if (netstring_format(out, osize, reply, strlen(reply), &olen) != STATUS_OK)
		log_panic("reply does not fit its buffer");
	    if (policyd_write(pc->fd, out, olen) < 0) {
		log_warn("client=%s: cannot send the reply: %s", pc->name, strerror(errno));
		goto out;
	    }
	    memmove(buf, buf + used, have - used);
	    have -= used;
	    first = have > 0 ? policyd_now() : 0;
	    policyd_state(pc, have > 0 ? POLICYD_READING : POLICYD_IDLE);
	}
	if (atomic_load(&policyd_stop))
	    goto out;
	if (st == STATUS_INVAL) {
	    log_warn("client=%s: malformed netstring or request over %d bytes; closing", pc->name,
		     NETSTRING_REQUEST_MAX);
	    goto out;
	}
	/* Idle: socketmap_idle_timeout. Within a request: its deadline, from its first byte. */
	left = have > 0 ? first + request_ms - policyd_now() : idle_ms;
	if (have > 0 && left <= 0) {
	    log_warn("client=%s: request not complete %d s after its first byte; closing", pc->name,
		     request_ms / 1000);
	    goto out;
	}
	pfd.fd = pc->fd;
	pfd.events = POLLIN;
	if ((st = poll(&pfd, 1, (int) left)) == 0) {
	    if (have > 0)
		continue;			/* the deadline, above */
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
	    goto out;				/* client closed, or shed */
	if (have == 0) {
	    first = policyd_now();
	    policyd_state(pc, POLICYD_READING);
	}
	have += (size_t) n;
    }

out:
    free(buf);
    free(reply);
    free(out);
}

/* policyd_unlink - take a client off the list; under the lock */

static void policyd_unlink(POLICYD_CLIENT *pc)
{
    POLICYD_CLIENT **pp;

    for (pp = &policyd_list; *pp; pp = &(*pp)->next)
	if (*pp == pc) {
	    *pp = pc->next;
	    break;
	}
}

/* policyd_client_thread - serve, then release the slot */

static void *policyd_client_thread(void *arg)
{
    POLICYD_CLIENT *pc = arg;

    policyd_serve(pc);
    /* Off the list before close(): the acceptor never shuts down a reused fd. */
    (void) pthread_mutex_lock(&policyd_lock);
    policyd_unlink(pc);
    (void) close(pc->fd);
    policyd_clients--;
    (void) pthread_cond_broadcast(&policyd_cond);
    (void) pthread_mutex_unlock(&policyd_lock);
    free(pc);
    return (0);
}

/* policyd_client_name - printable peer for logs, and the key for per-peer caps */

static void policyd_client_name(int fd, POLICYD_CLIENT *pc)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    struct ucred cred;
    socklen_t clen = sizeof(cred);
    char    host[64];
    char    port[16];

    (void) str_copy(pc->name, sizeof(pc->name), "local");
    (void) str_copy(pc->peer, sizeof(pc->peer), "local");
    if (getpeername(fd, (struct sockaddr *) &ss, &len) < 0)
	return;
    if (ss.ss_family == AF_UNIX) {
	/* A unix socket's peer is its user. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0) {
	    (void) snprintf(pc->name, sizeof(pc->name), "local:uid=%ld", (long) cred.uid);
	    (void) snprintf(pc->peer, sizeof(pc->peer), "uid=%ld", (long) cred.uid);
	}
	return;
    }
    if (getnameinfo((struct sockaddr *) &ss, len, host, sizeof(host), port, sizeof(port),
		    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
	(void) snprintf(pc->name, sizeof(pc->name), "%s:%s", host, port);
	(void) str_copy(pc->peer, sizeof(pc->peer), host);
    }
}

/*
 * policyd_victim - the connection to shed to make room: the one idle
 * longest, else the one whose request started first; never one inside a
 * check. peer: only that peer's. Under the lock.
 */
static POLICYD_CLIENT *policyd_victim(const char *peer)
{
    POLICYD_CLIENT *pc;
    POLICYD_CLIENT *best = 0;

    for (pc = policyd_list; pc; pc = pc->next) {
	if (pc->shed || pc->state == POLICYD_BUSY || (peer && strcmp(pc->peer, peer) != 0))
	    continue;
	if (best == 0 || (pc->state == POLICYD_IDLE && best->state != POLICYD_IDLE)
	    || (pc->state == best->state && pc->since < best->since))
	    best = pc;
    }
    return (best);
}

/* policyd_count - connections not shed, in all or from one peer; under the lock */

static int policyd_count(const char *peer)
{
    POLICYD_CLIENT *pc;
    int     n = 0;

    for (pc = policyd_list; pc; pc = pc->next)
	if (!pc->shed && (peer == 0 || strcmp(pc->peer, peer) == 0))
	    n++;
    return (n);
}

/* policyd_shed - shut one down (its thread closes it); under the lock */

static void policyd_shed(POLICYD_CLIENT *victim)
{
    victim->shed = 1;
    (void) shutdown(victim->fd, SHUT_RDWR);
    policyd_shed_count++;
}

/* policyd_shed_log - sheds and refusals, at most once a minute; under the lock */

static void policyd_shed_log(int max, int per_peer)
{
    long long now = policyd_now();

    if (policyd_shed_count + policyd_refused_count == 0
	|| (policyd_shed_logged && now - policyd_shed_logged < POLICYD_SHED_LOG_MS))
	return;
    log_warn("connection limits reached (socketmap_max_clients=%d, socketmap_max_clients_per_peer=%d): "
	     "%ld idle or slow connections shed, %ld refused since the last report",
	     max, per_peer, policyd_shed_count, policyd_refused_count);
    policyd_shed_count = 0;
    policyd_refused_count = 0;
    policyd_shed_logged = now;
}

/* policyd_admit - a place for a new connection, or 0 (refused); under the lock */

static int policyd_admit(POLICYD_CLIENT *pc, int max, int per_peer)
{
    POLICYD_CLIENT *victim;

    if (policyd_count(pc->peer) >= per_peer) {
	if ((victim = policyd_victim(pc->peer)) == 0) {
	    policyd_refused_count++;
	    return (0);
	}
	policyd_shed(victim);
    }
    if (policyd_count(0) >= max) {
	if ((victim = policyd_victim(0)) == 0) {
	    policyd_refused_count++;
	    return (0);
	}
	policyd_shed(victim);
    }
    return (1);
}

/* policyd_accept_thread - accept until stopped, within the caps */

static void *policyd_accept_thread(void *arg)
{
    POLICYD_CLIENT *pc;
    struct pollfd pfd;
    pthread_attr_t attr;
    pthread_t tid;
    CONF   *conf;
    int     max, per_peer;
    int     admitted;
    int     fd;

    (void) arg;
    (void) pthread_attr_init(&attr);
    (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (!atomic_load(&policyd_stop)) {
	conf = policyd_conf_get();
	max = conf_int(conf, CONF_SOCKETMAP_MAX_CLIENTS);
	per_peer = conf_int(conf, CONF_SOCKETMAP_MAX_CLIENTS_PER_PEER);
	conf_unref(&conf);

	/*
	 * Full, and every connection inside a check: wait in the listen
	 * queue. Threads being shed still run; they are bounded by 2 * max.
	 */
	(void) pthread_mutex_lock(&policyd_lock);
	policyd_shed_log(max, per_peer);
	while (!atomic_load(&policyd_stop)
	       && ((policyd_count(0) >= max && policyd_victim(0) == 0) || policyd_clients >= 2 * max)) {
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
	policyd_client_name(fd, pc);
	(void) pthread_mutex_lock(&policyd_lock);
	if ((admitted = policyd_admit(pc, max, per_peer)) != 0) {
	    pc->state = POLICYD_IDLE;
	    pc->since = policyd_now();
	    pc->next = policyd_list;
	    policyd_list = pc;
	    policyd_clients++;
	}
	policyd_shed_log(max, per_peer);
	(void) pthread_mutex_unlock(&policyd_lock);
	if (!admitted) {
	    (void) close(fd);
	    free(pc);
	    continue;
	}
	if (pthread_create(&tid, &attr, policyd_client_thread, pc) != 0) {
	    log_error("cannot start a client thread for %s", pc->name);
	    (void) pthread_mutex_lock(&policyd_lock);
	    policyd_unlink(pc);
	    policyd_clients--;
	    (void) close(fd);
	    (void) pthread_mutex_unlock(&policyd_lock);
	    free(pc);
	}
    }
    (void) pthread_attr_destroy(&attr);
    return (0);
}

/* policyd_load - load and check the configuration; errors name file and line */

static int policyd_load(CONF **conf)
{
    int     ret;

    if ((ret = daemon_load(policyd_conf_path, conf)) != STATUS_OK)
	return (ret);
    if (*conf_str(*conf, CONF_SOCKETMAP_SOCKET) == 0) {
	log_error("%s: socketmap_socket is empty: nothing to listen on", policyd_conf_path);
	ret = STATUS_INVAL;
    }
    if (ret != STATUS_OK)
	conf_unref(conf);
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
    metrics_http_reload(policyd_metrics, conf_str(fresh, CONF_SOCKETMAP_METRICS_LISTEN));
    (void) pthread_mutex_lock(&policyd_lock);
    old = policyd_conf;
    policyd_conf = fresh;
    (void) pthread_mutex_unlock(&policyd_lock);
    conf_unref(&old);
    log_info("configuration reloaded from %s", policyd_conf_path);
}

/*
 * policyd_drain - stop: no new connections, idle ones shut down, a
 * request inside a check answered. Returns the client threads left
 * after the wait (one check budget plus one reply write).
 */
static int policyd_drain(void)
{
    POLICYD_CLIENT *pc;
    struct timespec until;
    CONF   *conf = policyd_conf_get();
    long long end = policyd_now() + policyd_budget_ms(conf) + POLICYD_WRITE_MS + 1000;
    int     left;

    conf_unref(&conf);
    atomic_store(&policyd_stop, 1);
    (void) pthread_join(policyd_acceptor, 0);
    /* From here on connections are refused. */
    (void) close(policyd_listen_fd);
    policyd_listen_fd = -1;
    (void) pthread_mutex_lock(&policyd_lock);
    for (;;) {
	for (pc = policyd_list; pc; pc = pc->next)
	    if (pc->state != POLICYD_BUSY)
		(void) shutdown(pc->fd, SHUT_RDWR);
	if (policyd_clients == 0 || policyd_now() >= end)
	    break;
	(void) clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 100000000L;
	if (until.tv_nsec >= 1000000000L) {
	    until.tv_sec++;
	    until.tv_nsec -= 1000000000L;
	}
	(void) pthread_cond_timedwait(&policyd_cond, &policyd_lock, &until);
    }
    left = policyd_clients;
    (void) pthread_mutex_unlock(&policyd_lock);
    if (left > 0)
	log_info("stopped with %d connections still in a check", left);
    return (left);
}

/*
 * policyd_check_dane - -n: DANE replies (RFC 7672) need DNSSEC twice:
 * the engine validates with a trust anchor, and Postfix needs
 * smtp_dns_support_level = dnssec and a validating resolver whose AD bit
 * reaches it (glibc passes it only with "options trust-ad").
 */
static void policyd_check_dane(const CONF *conf)
{
    const char *anchor = conf_str(conf, CONF_DNS_TRUST_ANCHOR_FILE);
    char    line[512];
    FILE   *fp;
    int     trust_ad = 0;

    if (*anchor == 0 && access("/usr/share/dns/root.key", R_OK) != 0)
	log_warn("DANE replies: no dns_trust_anchor_file and no /usr/share/dns/root.key: the engine "
		 "cannot validate DNSSEC, sees every domain as insecure and never answers dane");
    else if (*anchor && access(anchor, R_OK) != 0)
	log_warn("DANE replies: dns_trust_anchor_file %s is not readable: %s", anchor, strerror(errno));
    if ((fp = fopen("/etc/resolv.conf", "r")) != 0) {
	while (fgets(line, sizeof(line), fp) != 0)
	    if (strncmp(line, "options", 7) == 0 && strstr(line, "trust-ad") != 0)
		trust_ad = 1;
	(void) fclose(fp);
    }
    if (!trust_ad)
	log_warn("DANE replies: /etc/resolv.conf has no \"options trust-ad\": Postfix sees no "
		 "DNSSEC-validated answers and defers mail for domains answered dane-only; point it "
		 "at a validating resolver with trust-ad, and set smtp_dns_support_level = dnssec");
}

int     main(int argc, char **argv)
{
    DAEMON_ARGS args;
    ROUTE_OPTS opts;
    WHY     why;
    sigset_t set;
    struct timespec tick = {1, 0};
    char    pidfile[CONF_VALUE_MAX + 1];
    char    syslog_name[256];
    const char *path;
    int     foreground = 0;
    int     check_only = 0;
    int     started = 0;
    int     ret = POLICYD_EX_CONFIG;
    int     left = 0;
    int     sig;

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
	policyd_check_dane(policyd_conf);
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
    if ((path = daemon_socket_path(policyd_socket)) != 0 && daemon_socket_access(path, conf_str(policyd_conf, CONF_SOCKETMAP_SOCKET_MODE),
				      conf_str(policyd_conf, CONF_SOCKETMAP_SOCKET_GROUP),
				      conf_str(policyd_conf, CONF_USER), "socketmap_socket_group") < 0)
	goto out;
    if (metrics_http_listen(conf_str(policyd_conf, CONF_SOCKETMAP_METRICS_LISTEN), "socketmap_metrics_listen",
			    METRICS_POLICYD, &policyd_metrics) != STATUS_OK)
	goto out;
    if (!foreground && daemon(0, 0) < 0) {
	log_error("cannot become a daemon: %s", strerror(errno));
	goto out;
    }
    if (daemon_pidfile(policyd_conf, pidfile) < 0)
	goto out;
    started = 1;
    /* The socket's owner, group and mode are set above. */
    if (daemon_privileges(policyd_conf, 0) < 0)
	goto out;

    /*
     * Every thread inherits these blocked; the main thread takes them.
     * Before the engine starts its threads: a SIGHUP that finds the main
     * thread busy (reloading) would otherwise go to an engine thread,
     * whose default action ends the process.
     */
    daemon_signals(&set);

    /* The engine starts threads: after fork and setuid. */
    route_conf_opts(policyd_conf, &opts);
    why.text[0] = 0;
    if (route_create(&opts, &policyd_route, &why) != STATUS_OK) {
	log_error("cannot start the engine: %s", why_text(&why));
	ret = POLICYD_EX_SOFTWARE;
	goto out;
    }
    /* Its own thread, every signal blocked; never on the mail path. */
    if (metrics_http_start(policyd_metrics) != STATUS_OK)
	goto out;

    if (pthread_create(&policyd_acceptor, 0, policyd_accept_thread, 0) != 0) {
	log_error("cannot start the acceptor thread");
	goto out;
    }
    log_info("starting: version %s, listening on %s, configuration %s", PACKAGE_VERSION,
	     policyd_socket, policyd_conf_path);
    notify_state("READY=1");			/* systemd Type=notify */
    for (;;) {
	sig = sigtimedwait(&set, 0, &tick);
	if (sig == SIGHUP) {
	    notify_state("RELOADING=1");
	    policyd_reload();
	    notify_state("READY=1");
	} else if (sig == SIGTERM || sig == SIGINT) {
	    notify_state("STOPPING=1");
	    log_info("stopping on signal %d", sig);
	    break;
	}
    }
    /* A thread still in the engine: the engine and the configuration stay to exit(). */
    left = policyd_drain();
    ret = POLICYD_EX_OK;

out:
    metrics_http_free(&policyd_metrics);
    if (policyd_listen_fd >= 0)
	(void) close(policyd_listen_fd);
    if ((path = daemon_socket_path(policyd_socket)) != 0 && started)
	(void) unlink(path);			/* may fail after setuid */
    if (started && *pidfile)
	(void) unlink(pidfile);
    if (left == 0) {
	route_free(&policyd_route);
	conf_unref(&policyd_conf);
    }
    return (ret);
}
