/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	milter 8
 * SUMMARY
 *	stsfilter-milter - warn senders at RCPT TO when MTA-STS or DANE
 *	leaves no valid TLS route to the recipient's domain
 * SYNOPSIS
 *	stsfilter-milter [-f] [-n] [-c FILE]
 * DESCRIPTION
 *	Thin glue between libmilter and the engine: route_check() decides,
 *	action.c maps the verdict to accept, tag, defer or reject and
 *	builds the reply and the tag header; this file only transports.
 *	See stsfilter-milter(8).
 *
 *	Threads: libmilter runs the callbacks in a worker pool, so every
 *	per-connection and per-message datum lives in a MILTER_CTX set
 *	with smfi_setpriv(); the only globals are the engine (thread-safe)
 *	and the current configuration, which a transaction takes a
 *	reference to at MAIL FROM (conf_ref()) so that SIGHUP can install
 *	a new one while old transactions finish with theirs.
 *
 *	Signals: libmilter's own signal thread (sigwait()) stops the milter
 *	on SIGHUP. smfi_main() therefore runs in a thread of its own, and
 *	the main thread takes SIGHUP (reload), SIGTERM and SIGINT
 *	(smfi_stop()): every other thread blocks them (daemon_signals()
 *	before any thread starts), and the main thread alone keeps them
 *	unblocked, always, with a handler (SA_NODEFER, nothing in sa_mask)
 *	that sets a flag and wakes it through a pipe. The kernel gives a
 *	process-directed signal to the main thread whenever that thread
 *	does not block it, so libmilter's thread never sees one, also
 *	when a SIGHUP arrives during a reload (with sigtimedwait() that
 *	window existed, and a burst of SIGHUPs stopped the milter).
 *
 *	Shutdown: connect, MAIL FROM and RCPT TO pass a gate
 *	(milter_enter/milter_leave) that counts the callbacks using the
 *	engine; connections are counted from connect to close. After
 *	SIGTERM the gate answers tempfail (the MTA keeps the mail and
 *	retries; new connections still get an answer), and main() waits
 *	until no callback uses the engine and the connections are gone, at
 *	most check_time_budget plus 2 seconds, then frees the engine (only
 *	when no callback uses it), removes the socket and exits with
 *	_exit(). It does not call smfi_stop(): libmilter's teardown
 *	destroys mutexes and condition variables that its worker pool and
 *	smfi_stop() itself may still be using (tests/tsan.supp), and its
 *	session threads outlive smfi_main() anyway.
 *
 *	Memory: MILTER_CTX is allocated at connect and freed at close;
 *	it holds one CONF reference while a transaction is open.
 *
 *	RFCs: the reply and header rules are in action.c (RFC 8461 section
 *	5.1, RFC 7505 section 4.3, RFC 3463, RFC 5321 section 4.5.3.1.5).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <poll.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <libmilter/mfapi.h>

#include "action.h"
#include "conf.h"
#include "daemon.h"
#include "decision.h"
#include "notify.h"
#include "domain.h"
#include "metrics.h"
#include "metrics_http.h"
#include "log.h"
#include "netguard.h"
#include "rcpt.h"
#include "route.h"
#include "route_conf.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "verdict.h"
#include "why.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define MILTER_EX_OK		0
#define MILTER_EX_USAGE		64
#define MILTER_EX_SOFTWARE	70
#define MILTER_EX_OSERR		71
#define MILTER_EX_CONFIG	78

#define MILTER_QID_MAX		64
#define MILTER_CLIENT_MAX	64
#define MILTER_SASL_MAX		128
#define MILTER_DRAIN_SLACK_MS	2000

typedef struct MILTER_CTX {
    struct sockaddr_storage addr;	/* client address */
    int     has_addr;
    char    client[MILTER_CLIENT_MAX];	/* printable, or "unknown" */
    CONF   *conf;			/* this transaction's configuration */
    int     checked;			/* act_on matched at MAIL FROM */
    char    qid[MILTER_QID_MAX];	/* Postfix queue id, when known */
    char    from[ACTION_RCPT_MAX + 1];	/* envelope sender, shown form */
    char    sasl[MILTER_SASL_MAX];	/* {auth_authen}, sanitized; "" */
    char    tag[ACTION_TAG_MAX + 1];	/* tag header value */
    int     mta_shows_rcpt;		/* Sendmail: "<rcpt>... " before a reply */
} MILTER_CTX;

static const char milter_progname[] = "stsfilter-milter";

static pthread_mutex_t milter_lock = PTHREAD_MUTEX_INITIALIZER;
static CONF *milter_conf;		/* current; under milter_lock */
static ROUTE *milter_route;		/* the engine, thread-safe */
static const char *milter_conf_path = CONF_DEFAULT_PATH;
static char milter_socket[CONF_VALUE_MAX + 1];
static char milter_syslog_name[256];
static int milter_main_done;		/* smfi_main() returned; milter_lock */
static int milter_main_status;		/* its result; milter_lock */
static int milter_stopping;		/* refuse new work; milter_lock */
static int milter_inflight;		/* callbacks using the engine; milter_lock */
static int milter_sessions;		/* connections with a MILTER_CTX; milter_lock */
static pthread_cond_t milter_idle = PTHREAD_COND_INITIALIZER;	/* inflight 0 */
static volatile sig_atomic_t milter_sig_hup;	/* SIGHUP seen */
static volatile sig_atomic_t milter_sig_stop;	/* SIGTERM or SIGINT seen */
static int milter_sig_pipe[2] = {-1, -1};	/* wakes the main thread */
static METRICS_HTTP *milter_metrics;		/* metrics_listen, or null */

/* milter_sig_handler - main thread only: note the signal, wake the loop */

static void milter_sig_handler(int sig)
{
    int     saved = errno;

    if (sig == SIGHUP)
	milter_sig_hup = 1;
    else
	milter_sig_stop = sig;
    /* Non-blocking: a full pipe already has the loop awake. */
    (void) !write(milter_sig_pipe[1], "s", 1);
    errno = saved;
}

/* milter_sig_catch - handlers on, then unblocked in the calling (main) thread */

static int milter_sig_catch(const sigset_t *set)
{
    struct sigaction sa;
    int     i;

    if (pipe(milter_sig_pipe) < 0)
	return (-1);
    for (i = 0; i < 2; i++)
	if (fcntl(milter_sig_pipe[i], F_SETFL, O_NONBLOCK) < 0
	    || fcntl(milter_sig_pipe[i], F_SETFD, FD_CLOEXEC) < 0)
	    return (-1);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = milter_sig_handler;
    (void) sigemptyset(&sa.sa_mask);
    /* Never blocked in this thread, not even inside the handler. */
    sa.sa_flags = SA_RESTART | SA_NODEFER;
    if (sigaction(SIGHUP, &sa, 0) < 0 || sigaction(SIGTERM, &sa, 0) < 0 || sigaction(SIGINT, &sa, 0) < 0)
	return (-1);
    return (pthread_sigmask(SIG_UNBLOCK, set, 0) == 0 ? 0 : -1);
}

/* milter_conf_get - a reference to the current configuration */

static CONF *milter_conf_get(void)
{
    CONF   *conf;

    (void) pthread_mutex_lock(&milter_lock);
    conf = conf_ref(milter_conf);
    (void) pthread_mutex_unlock(&milter_lock);
    return (conf);
}

/* milter_enter - a callback starts using the engine; 0 when stopping */

static int milter_enter(void)
{
    int     ok;

    (void) pthread_mutex_lock(&milter_lock);
    if ((ok = !milter_stopping) != 0)
	milter_inflight++;
    (void) pthread_mutex_unlock(&milter_lock);
    return (ok);
}

/* milter_leave - a callback is done with the engine */

static void milter_leave(void)
{
    (void) pthread_mutex_lock(&milter_lock);
    if (--milter_inflight == 0 && milter_stopping)
	(void) pthread_cond_broadcast(&milter_idle);
    (void) pthread_mutex_unlock(&milter_lock);
}

/* milter_session - count connections (delta +1 or -1) */

static void milter_session(int delta)
{
    (void) pthread_mutex_lock(&milter_lock);
    milter_sessions += delta;
    if (milter_sessions == 0 && milter_stopping)
	(void) pthread_cond_broadcast(&milter_idle);
    (void) pthread_mutex_unlock(&milter_lock);
}

/*
 * milter_drain - refuse new work, then wait until no callback uses the
 * engine and no connection is open (so that the last replies are
 * written before the process exits), or until the deadline. Returns
 * the number of callbacks still in flight.
 */

static int milter_drain(int wait_ms)
{
    struct timespec deadline;
    int     left;

    (void) clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += wait_ms / 1000;
    deadline.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
	deadline.tv_sec++;
	deadline.tv_nsec -= 1000000000L;
    }
    (void) pthread_mutex_lock(&milter_lock);
    milter_stopping = 1;
    while ((milter_inflight > 0 || milter_sessions > 0)
	   && pthread_cond_timedwait(&milter_idle, &milter_lock, &deadline) != ETIMEDOUT)
	 /* void */ ;
    left = milter_inflight;
    (void) pthread_mutex_unlock(&milter_lock);
    return (left);
}

/* milter_reset - end of a transaction */

static void milter_reset(MILTER_CTX *mc)
{
    conf_unref(&mc->conf);
    mc->checked = 0;
    mc->qid[0] = 0;
    mc->from[0] = 0;
    mc->sasl[0] = 0;
    mc->tag[0] = 0;
}

/* milter_qid - remember the queue id when the MTA sends it */

static const char *milter_qid(SMFICTX *ctx, MILTER_CTX *mc)
{
    const char *qid;

    if (mc->qid[0] == 0 && (qid = smfi_getsymval(ctx, "i")) != 0 && *qid)
	(void) text_sanitize(mc->qid, sizeof(mc->qid), qid);
    return (mc->qid[0] ? mc->qid : "NOQUEUE");
}

/*
 * Sendmail writes the recipient ("<rcpt>... ") before the text of a RCPT
 * reply itself; Postfix sends the milter's text as it is. Sendmail is
 * known by the macros of its default Milter.macros.connect: {if_name},
 * which Postfix does not define, or v (its version: digits) when an
 * admin asks for it; Postfix's v is "Postfix ...".
 */
static int milter_mta_shows_rcpt(SMFICTX *ctx)
{
    const char *v = smfi_getsymval(ctx, "v");
    const char *ifname = smfi_getsymval(ctx, "{if_name}");

    if (v && strncmp(v, "Postfix", 7) == 0)
	return (0);
    return ((ifname != 0 && *ifname != 0) || (v != 0 && *v >= '0' && *v <= '9'));
}

static sfsistat milter_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
    MILTER_CTX *mc;

    (void) hostname;
    if (!milter_enter())
	return (SMFIS_TEMPFAIL);		/* stopping */
    milter_leave();
    if ((mc = calloc(1, sizeof(*mc))) == 0) {
	/* milter_rcpt() applies action_internal_error without a context. */
	log_error("out of memory at connect");
	return (SMFIS_CONTINUE);
    }
    (void) str_copy(mc->client, sizeof(mc->client), "unknown");
    if (hostaddr && hostaddr->sa_family == AF_INET) {
	memcpy(&mc->addr, hostaddr, sizeof(struct sockaddr_in));
	mc->has_addr = 1;
    } else if (hostaddr && hostaddr->sa_family == AF_INET6) {
	memcpy(&mc->addr, hostaddr, sizeof(struct sockaddr_in6));
	mc->has_addr = 1;
    }
    if (mc->has_addr && netguard_format((struct sockaddr *) &mc->addr, mc->client, sizeof(mc->client)) < 0)
	(void) str_copy(mc->client, sizeof(mc->client), "unknown");
    mc->mta_shows_rcpt = milter_mta_shows_rcpt(ctx);
    if (smfi_setpriv(ctx, mc) != MI_SUCCESS) {
	log_error("smfi_setpriv failed at connect from %s", mc->client);
	free(mc);
    } else {
	milter_session(1);
    }
    return (SMFIS_CONTINUE);
}

static sfsistat milter_envfrom(SMFICTX *ctx, char **argv)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);
    const char *auth;

    if (mc == 0)
	return (SMFIS_CONTINUE);
    milter_reset(mc);
    mc->conf = milter_conf_get();
    /*
     * For the decision log: the sender, and the SASL user. Postfix
     * (milter_mail_macros) and Sendmail (Milter.macros.envfrom) send
     * {auth_authen} at MAIL FROM by default; this milter does not call
     * smfi_setsymlist(), which would replace the MTA's list.
     */
    (void) rcpt_show(mc->from, sizeof(mc->from), argv && argv[0] ? argv[0] : "");
    auth = smfi_getsymval(ctx, "{auth_authen}");
    if (auth != 0)
	(void) text_sanitize(mc->sasl, sizeof(mc->sasl), auth);
    mc->checked = action_scope_client(mc->conf, auth != 0 && *auth != 0,
				      mc->has_addr ? (struct sockaddr *) &mc->addr : 0);
    if (!mc->checked) {
	/* Not mail this site sends out: leave the message alone. */
	milter_reset(mc);
	return (SMFIS_ACCEPT);
    }
    return (SMFIS_CONTINUE);
}

/* milter_budget_ms - per-recipient wait, within the check budget */

static int milter_budget_ms(const CONF *conf)
{
    long    rcpt_ms = conf_time(conf, CONF_RECIPIENT_TIME_BUDGET) * 1000L;
    int     check_ms = route_conf_budget_ms(conf);

    return (rcpt_ms < check_ms ? (int) rcpt_ms : check_ms);
}

static sfsistat milter_envrcpt(SMFICTX *ctx, char **argv)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);
    CONF   *conf = 0;
    ANSWER  ans;
    const ANSWER *v = 0;
    ACTION  act;
    ACTION_REPLY reply;
    DECISION dl;
    WHY     why;
    char    domain[DOMAIN_MAX + 1];
    char    rcpt[ACTION_RCPT_MAX + 1];
    const char *raw = argv && argv[0] ? argv[0] : "";
    const char *shown_domain;
    char    escaped[2 * (ACTION_LINE_MAX + 1)];
    char    line[LOG_LINE_MAX];
    struct timespec t0, t1;
    long    ms;
    int     status;
    sfsistat ret = SMFIS_CONTINUE;

    why.text[0] = 0;
    (void) clock_gettime(CLOCK_MONOTONIC, &t0);
    conf = (mc && mc->conf) ? conf_ref(mc->conf) : milter_conf_get();
    /* The domain from the raw address; only what is shown is sanitized. */
    (void) rcpt_show(rcpt, sizeof(rcpt), raw);
    if (mc && !mc->checked)
	goto out;
    status = rcpt_domain(raw, domain, sizeof(domain), &why);
    if (status == STATUS_NOTFOUND) {
	/* An address literal or "postmaster": no MX, nothing to check. */
	log_info("%s: to=<%s>, not checked: no domain (%s)", mc ? milter_qid(ctx, mc) : "NOQUEUE", rcpt,
		 domain[0] ? "address literal" : "postmaster");
	goto out;
    }
    if (status != STATUS_OK) {
	/* Never a silent pass: log it, and action_internal_error decides. */
	log_warn("%s: to=<%s>: cannot read the recipient's domain: %s; applying action_internal_error",
		 mc ? milter_qid(ctx, mc) : "NOQUEUE", rcpt, why_text(&why));
	domain[0] = 0;
    } else if (!action_scope_domain(conf, domain)) {
	goto out;
    }
    shown_domain = domain[0] ? domain : "the recipient's domain";
    if (domain[0] == 0) {
	status = STATUS_FAIL;
    } else if (mc == 0) {
	log_error("%s: to=%s, domain=%s: no connection state; applying action_internal_error",
		  "NOQUEUE", rcpt, domain);
	status = STATUS_FAIL;
    } else {
	/* A warm decision is one read of the domain's kept answer (route.h). */
	status = route_answer(milter_route, domain, milter_budget_ms(conf), ROUTE_FIRST, &ans, 0, 0, &why);
    }
    if (status == STATUS_INVAL) {
	log_info("%s: to=%s, domain=%s, not checked: %s", mc ? milter_qid(ctx, mc) : "NOQUEUE",
		 rcpt, domain, why_text(&why));
	goto out;
    }
    if (status != STATUS_OK) {
	if (mc && domain[0])
	    log_error("%s: to=%s, domain=%s: check failed: %s", milter_qid(ctx, mc), rcpt, domain,
		      why_text(&why));
    } else {
	v = &ans;
    }
    action_decide(conf, v ? v->verdict : ACTION_INTERNAL_ERROR, &act);
    /* The recipient appears once in the reply: Sendmail writes it itself. */
    (void) action_reply(&act, v, shown_domain, (mc && mc->mta_shows_rcpt) ? "" : rcpt, &reply);
    (void) clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_decision(METRICS_MILTER, v ? verdict_name(v->verdict) : "internal-error", action_name(act.action), &t0, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
    /* One line per decision, Postfix style (decision.h). */
    memset(&dl, 0, sizeof(dl));
    dl.qid = mc ? milter_qid(ctx, mc) : "NOQUEUE";
    dl.client = mc ? mc->client : "unknown";
    dl.from = mc ? mc->from : "";
    dl.sasl_username = mc ? mc->sasl : "";
    dl.rcpt = rcpt;
    dl.domain = domain;
    dl.answer = v;
    dl.act = &act;
    dl.delay_ms = ms;
    dl.reply = &reply;
    (void) decision_line(line, sizeof(line), &dl);
    log_info("%s", line);
    if (act.tag && mc)
	(void) action_tag_add(mc->tag, sizeof(mc->tag), &act, v, domain[0] ? domain : "unreadable");
    if (act.action == ACTION_DEFER || act.action == ACTION_REJECT) {
	/* %-escape: smfi_setreply() treats '%' as a format character. */
	if (text_escape_percent(escaped, sizeof(escaped), reply.text) < 0)
	    log_warn("reply text truncated for %s", rcpt);
	/* smfi_setreply() right before the matching return. */
	if (smfi_setreply(ctx, reply.code, reply.dsn, escaped) != MI_SUCCESS)
	    log_warn("smfi_setreply failed for %s; the MTA's default text applies", rcpt);
	ret = (act.action == ACTION_DEFER) ? SMFIS_TEMPFAIL : SMFIS_REJECT;
    }

out:
    conf_unref(&conf);
    return (ret);
}

static sfsistat milter_eom(SMFICTX *ctx)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);

    if (mc && mc->checked && mc->tag[0] && mc->conf) {
	if (smfi_addheader(ctx, (char *) conf_str(mc->conf, CONF_TAG_HEADER), mc->tag) != MI_SUCCESS)
	    log_warn("%s: could not add the %s header", milter_qid(ctx, mc),
		     conf_str(mc->conf, CONF_TAG_HEADER));
	else
	    log_info("%s: tagged: %s: %s", milter_qid(ctx, mc), conf_str(mc->conf, CONF_TAG_HEADER),
		     mc->tag);
    }
    if (mc)
	milter_reset(mc);
    return (SMFIS_CONTINUE);
}

static sfsistat milter_abort(SMFICTX *ctx)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);

    if (mc)
	milter_reset(mc);
    return (SMFIS_CONTINUE);
}

static sfsistat milter_close(SMFICTX *ctx)
{
    MILTER_CTX *mc = smfi_getpriv(ctx);

    if (mc) {
	milter_reset(mc);
	free(mc);
	(void) smfi_setpriv(ctx, 0);
	milter_session(-1);
    }
    return (SMFIS_CONTINUE);
}

/*
 * Shutdown: SIGTERM sets milter_stopping, and the engine is freed only
 * when no callback uses it any more. libmilter's session threads can
 * outlive smfi_main(), so MAIL FROM and RCPT TO go through a gate: once
 * stopping, they answer tempfail (the MTA keeps the mail and retries)
 * without touching the engine or the configuration.
 */

static sfsistat milter_envfrom_gate(SMFICTX *ctx, char **argv)
{
    sfsistat ret;

    if (!milter_enter())
	return (SMFIS_TEMPFAIL);
    ret = milter_envfrom(ctx, argv);
    milter_leave();
    return (ret);
}

static sfsistat milter_envrcpt_gate(SMFICTX *ctx, char **argv)
{
    sfsistat ret;

    if (!milter_enter())
	return (SMFIS_TEMPFAIL);
    ret = milter_envrcpt(ctx, argv);
    milter_leave();
    return (ret);
}

/*
 * accept - libmilter's accept(2), with TCP_NODELAY on TCP connections
 *
 * At end of message a tag is two replies (SMFIR_ADDHEADER, then
 * SMFIR_CONTINUE), written one after the other: with Nagle's algorithm
 * the second waits for the MTA to ACK the first, which the MTA delays
 * (it has nothing to send back yet), 40 ms per tagged message over TCP.
 * libmilter offers no hook on the connections it accepts (its
 * listener only sets SO_KEEPALIVE), so this program defines accept():
 * libmilter.so's call binds to the executable's definition, which does
 * the system call (accept4 with no flags: accept(2) exactly) and sets
 * TCP_NODELAY on an AF_INET or AF_INET6 socket. Nothing else in this
 * process accepts connections. A failure to set the option is ignored
 * (the connection works, as before, only slower). Disabling Nagle is
 * safe here: libmilter writes each reply with one writev().
 */
int     accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    int     one = 1;
    int     conn;

    if ((conn = (int) syscall(SYS_accept4, fd, addr, len, 0)) < 0)
	return (-1);
    if (getsockname(conn, (struct sockaddr *) &ss, &sslen) == 0
	&& (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
	(void) setsockopt(conn, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return (conn);
}

/*
 * milter_data - DATA: nothing to do, but answered (see milter_negotiate)
 */
static sfsistat milter_data(SMFICTX *ctx)
{
    (void) ctx;
    return (SMFIS_CONTINUE);
}

/*
 * milter_negotiate - ask the MTA for the steps this milter uses and no more
 *
 * Used: connect (client address), MAIL (act_on; the sender and the
 * SASL user for the decision log), RCPT (the decision),
 * DATA, end of message (the tag header), abort and close. HELO,
 * headers, end of headers, body and unknown commands are negotiated
 * away (SMFIP_NO*, with their no-reply flags), and only the add-header
 * action is asked for; only flags the MTA offers are asked for
 * (libmilter refuses the connection otherwise).
 *
 * DATA is kept, and answered, on purpose. Postfix sends a step's
 * macros even when the step is negotiated away (milter8_event()), and
 * then waits for nothing: the DATA macros went out as a lone packet
 * that nothing answers, so Nagle's algorithm held Postfix's next packet
 * (the end of message) until this side's delayed ACK, 40 ms later, on
 * every message over TCP (issue 12). Asked for, the macros and the
 * DATA command go out together and the reply carries the ACK. No
 * SMFIP_NR_CONN, NR_MAIL, NR_RCPT or NR_DATA for the same reason: each
 * step that remains gets a reply. The HELO macros, also sent alone, go
 * out while the connection is new and the kernel still ACKs at once
 * (measured in bench/, no stall).
 */
#define MILTER_STEPS_OFF	(SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY \
				| SMFIP_NOUNKNOWN)
#define MILTER_STEPS_NR		(SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY \
				| SMFIP_NR_UNKN)

static sfsistat milter_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
				         unsigned long f2, unsigned long f3,
				         unsigned long *pf0, unsigned long *pf1,
				         unsigned long *pf2, unsigned long *pf3)
{
    (void) ctx;
    (void) f2;
    (void) f3;
    if ((f0 & SMFIF_ADDHDRS) == 0) {
	/* Tagging would fail at end of message; decisions still work. */
	log_warn("the MTA does not offer to add headers: messages cannot be tagged");
    }
    *pf0 = f0 & SMFIF_ADDHDRS;
    *pf1 = f1 & (MILTER_STEPS_OFF | MILTER_STEPS_NR);
    *pf2 = 0;
    *pf3 = 0;
    return (SMFIS_CONTINUE);
}

static struct smfiDesc milter_desc = {
    "stsfilter",			/* filter name */
    SMFI_VERSION,			/* version code */
    SMFIF_ADDHDRS,			/* flags */
    milter_connect,			/* connection info filter */
    0,					/* SMTP HELO command filter */
    milter_envfrom_gate,		/* envelope sender filter */
    milter_envrcpt_gate,		/* envelope recipient filter */
    0,					/* header filter */
    0,					/* end of header */
    0,					/* body block filter */
    milter_eom,				/* end of message */
    milter_abort,			/* message aborted */
    milter_close,			/* connection cleanup */
    0,					/* unknown SMTP commands */
    milter_data,			/* DATA command */
    milter_negotiate,			/* option negotiation */
};

/* milter_reload - SIGHUP: a new configuration, or keep the old one */

static void milter_reload(void)
{
    CONF   *fresh = 0;
    CONF   *old;

    if (daemon_load(milter_conf_path, &fresh) != STATUS_OK) {
	log_error("reload failed; keeping the configuration in use");
	return;
    }
    if (strcmp(conf_str(fresh, CONF_MILTER_SOCKET), milter_socket) != 0)
	log_warn("milter_socket changed to %s; restart to listen there", conf_str(fresh, CONF_MILTER_SOCKET));
    metrics_http_reload(milter_metrics, conf_str(fresh, CONF_METRICS_LISTEN));
    (void) pthread_mutex_lock(&milter_lock);
    old = milter_conf;
    milter_conf = fresh;
    (void) pthread_mutex_unlock(&milter_lock);
    conf_unref(&old);				/* transactions keep their own */
    log_info("configuration reloaded from %s", milter_conf_path);
}

static void *milter_main_thread(void *arg)
{
    int     status;

    (void) arg;
    status = smfi_main();
    (void) pthread_mutex_lock(&milter_lock);
    milter_main_status = status;
    milter_main_done = 1;
    (void) pthread_mutex_unlock(&milter_lock);
    return (0);
}

/* milter_done - has smfi_main() returned? */

static int milter_done(void)
{
    int     done;

    (void) pthread_mutex_lock(&milter_lock);
    done = milter_main_done;
    (void) pthread_mutex_unlock(&milter_lock);
    return (done);
}

/* milter_listen - open the milter socket as root, with its access */

static int milter_listen(void)
{
    const char *path = daemon_socket_path(milter_socket);
    mode_t  mask;
    int     ret = -1;

    if (smfi_register(milter_desc) != MI_SUCCESS) {
	log_error("smfi_register failed");
	goto out;
    }
    /* No window with the umask's mode: owner only until chmod. */
    mask = umask(0177);
    if (smfi_setconn(milter_socket) != MI_SUCCESS || smfi_opensocket(1) != MI_SUCCESS) {
	(void) umask(mask);
	log_error("cannot listen on %s (milter_socket)", milter_socket);
	goto out;
    }
    (void) umask(mask);
    if (path && daemon_socket_access(path, conf_str(milter_conf, CONF_MILTER_SOCKET_MODE),
				     conf_str(milter_conf, CONF_MILTER_SOCKET_GROUP),
				     conf_str(milter_conf, CONF_USER), "milter_socket_group") < 0)
	goto out;
    ret = 0;

out:
    return (ret);
}

int     main(int argc, char **argv)
{
    DAEMON_ARGS args;
    ROUTE_OPTS opts;
    WHY     why;
    sigset_t set;
    pthread_t tid;
    struct pollfd pfd;
    char    drain[64];
    char    pidfile[CONF_VALUE_MAX + 1];
    int     foreground = 0;
    int     check_only = 0;
    int     left = 0;
    int     running = 0;			/* libmilter's threads started */
    const char *path;
    int     ret = MILTER_EX_CONFIG;

    log_init(milter_progname, LOG_TO_STDERR);
    if ((ret = daemon_args(argc, argv, milter_progname, 1, &args)) != DAEMON_ARGS_GO)
	return (ret);
    ret = MILTER_EX_CONFIG;
    milter_conf_path = args.conf_path;
    foreground = args.foreground;
    check_only = args.check_only;
    if (daemon_load(milter_conf_path, &milter_conf) != STATUS_OK)
	goto out;
    if (check_only) {
	(void) printf("%s: configuration ok\n", milter_conf_path);
	ret = MILTER_EX_OK;
	goto out;
    }
    ret = MILTER_EX_OSERR;
    (void) str_copy(milter_socket, sizeof(milter_socket), conf_str(milter_conf, CONF_MILTER_SOCKET));
    (void) str_copy(milter_syslog_name, sizeof(milter_syslog_name), conf_str(milter_conf, CONF_SYSLOG_NAME));
    (void) str_copy(pidfile, sizeof(pidfile), conf_str(milter_conf, CONF_PID_FILE));
    log_init(milter_progname, LOG_TO_SYSLOG | (foreground ? LOG_TO_STDERR : 0));
    /* Last openlog() wins: the configured name and facility. */
    openlog(milter_syslog_name, LOG_PID | LOG_NDELAY, daemon_facility(milter_conf));

    /* The pid file lock first: a second copy must not replace our socket. */
    if (daemon_pidfile(milter_conf, pidfile) < 0)
	goto out;
    /* Open the socket as root, before the privileges go. */
    if (milter_listen() < 0)
	goto out;
    if (metrics_http_listen(conf_str(milter_conf, CONF_METRICS_LISTEN), "metrics_listen", METRICS_MILTER,
			    &milter_metrics) != STATUS_OK)
	goto out;
    if (!foreground && daemon(0, 0) < 0) {
	log_error("cannot become a daemon: %s", strerror(errno));
	goto out;
    }
    if (daemon_pidfile_update() < 0 || daemon_privileges(milter_conf, 0) < 0)
	goto out;

    /*
     * Every thread inherits these blocked; the main thread takes them.
     * Before the engine starts its threads: a SIGHUP that finds the main
     * thread busy (reloading) would otherwise go to an engine thread,
     * whose default action ends the process.
     */
    daemon_signals(&set);

    /* The engine starts threads: after fork and setuid. */
    route_conf_opts(milter_conf, &opts);
    why.text[0] = 0;
    if (route_create(&opts, &milter_route, &why) != STATUS_OK) {
	log_error("cannot start the engine: %s", why_text(&why));
	ret = MILTER_EX_SOFTWARE;
	goto out;
    }
    /* Its own thread, every signal blocked; never on the mail path. */
    if (metrics_http_start(milter_metrics) != STATUS_OK)
	goto out;

    if (pthread_create(&tid, 0, milter_main_thread, 0) != 0) {
	log_error("cannot start the milter thread");
	goto out;
    }
    running = 1;
    if (milter_sig_catch(&set) < 0) {
	log_error("cannot set up the signal handlers: %s", strerror(errno));
	milter_sig_stop = SIGTERM;		/* stop as on SIGTERM */
    }
    log_info("starting: version %s, listening on %s, configuration %s", PACKAGE_VERSION,
	     milter_socket, milter_conf_path);
    notify_state("READY=1");			/* systemd Type=notify */
    while (!milter_done()) {
	pfd.fd = milter_sig_pipe[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	(void) poll(&pfd, 1, 1000);
	while (read(milter_sig_pipe[0], drain, sizeof(drain)) > 0)
	     /* void */ ;
	if (milter_sig_stop) {
	    notify_state("STOPPING=1");
	    log_info("stopping on signal %d", (int) milter_sig_stop);
	    break;
	}
	if (milter_sig_hup) {
	    milter_sig_hup = 0;
	    notify_state("RELOADING=1");
	    milter_reload();
	    notify_state("READY=1");
	}
    }
    if (milter_done()) {
	/*
	 * smfi_main() returned on its own: a listener error (logged by
	 * libmilter). Its signal thread never sees SIGTERM, SIGINT or SIGHUP:
	 * this thread keeps them unblocked (milter_sig_catch()).
	 */
	log_info("libmilter stopped listening; stopping");
	(void) pthread_join(tid, 0);		/* its workers live on */
	ret = (milter_main_status == MI_SUCCESS) ? MILTER_EX_OK : MILTER_EX_SOFTWARE;
    } else {
	ret = MILTER_EX_OK;
    }

    /*
     * Refuse new work, wait for the running checks (each within
     * check_time_budget) and the open connections, and free the engine
     * only when no callback uses it. libmilter's threads end with the
     * process.
     */
    if ((left = milter_drain(route_conf_budget_ms(milter_conf) + MILTER_DRAIN_SLACK_MS)) > 0) {
	/* Their engine stays: the process exits under them. */
	log_error("%d callbacks still running after the drain deadline; exiting without freeing the engine",
		  left);
    } else {
	log_info("stopped");
    }
    if ((path = daemon_socket_path(milter_socket)) != 0)
	(void) unlink(path);			/* may fail after setuid */

out:
    metrics_http_free(&milter_metrics);
    if (daemon_pidfile_locked())
	(void) unlink(pidfile);			/* may fail after setuid */
    if (left == 0) {
	route_free(&milter_route);
	(void) pthread_mutex_lock(&milter_lock);
	conf_unref(&milter_conf);
	(void) pthread_mutex_unlock(&milter_lock);
    }
    if (running) {
	/*
	 * libmilter's threads (its worker pool outlives smfi_main()) are
	 * still running: skip the atexit handlers, one of which
	 * (libmilter's) destroys a mutex they may hold.
	 */
	(void) fflush(0);
	_exit(ret);
    }
    return (ret);
}
