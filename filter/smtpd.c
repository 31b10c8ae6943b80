/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	smtpd 8
 * SUMMARY
 *	stsfilter-smtpd - OpenSMTPD proc-exec filter: warn senders at RCPT
 *	TO when MTA-STS or DANE leaves no valid TLS route to the
 *	recipient's domain
 * SYNOPSIS
 *	stsfilter-smtpd [-f] [-n] [-c FILE]
 * DESCRIPTION
 *	Thin glue between OpenSMTPD's filter protocol (smtpd_proto.c,
 *	smtpd-filters(7), versions 0.6 and 0.7) and the engine:
 *	route_answer() decides, action.c maps the verdict to accept, tag,
 *	defer or reject and builds the reply and the tag header; this file
 *	only transports, with its session table in smtpd_sess.c. See
 *	stsfilter-smtpd(8).
 *
 *	Threads: the main thread reads stdin, keeps each session's state
 *	from the reports (client address, authentication, transaction)
 *	and echoes data lines. Every rcpt-to request is a job for a worker
 *	pool that grows on demand up to SMTPD_WORKERS_MAX threads, so a
 *	slow domain holds only its own worker: other sessions are answered
 *	as soon as their own checks end. Every output line is built whole
 *	and written with one write loop under smtpd_out_lock, so lines of
 *	different threads never interleave.
 *
 *	Tagging: a recipient whose action tags is kept as pending in its
 *	session until the tx-rcpt report says smtpd accepted it; then its
 *	domain goes into the session's tag value (action_tag_add()). At the
 *	first data line of the message the header "TAG_HEADER: VALUE" is
 *	written first, then every data line is echoed, the final "." too.
 *	The pending entry is stored before the filter-result line is
 *	written, so that tx-rcpt can never overtake it.
 *
 *	Logging and signals: stdout is smtpd's protocol channel, and only
 *	smtpd_write() writes to it. Logs go to syslog (syslog_name,
 *	syslog_facility), and also to stderr with -f (smtpd puts a filter's
 *	stderr in its own log). SIGHUP is blocked in every thread before
 *	any thread starts; a signal thread takes it with sigwait() and
 *	installs a new configuration (smtpd_reload()): each check takes a
 *	reference to the configuration in force when it starts
 *	(conf_ref()), so a reload never changes a check under way. A new
 *	configuration that does not load is logged (file:line) and the
 *	old one stays. SIGTERM and SIGINT keep their default action
 *	(smtpd closes stdin to stop a filter).
 *
 *	Robustness: smtpd stops when its filter exits, so nothing here
 *	exits on bad input. A malformed, truncated or overlong line
 *	(SMTPD_PROTO_LINE_MAX) is logged to stderr and skipped, but for an
 *	overlong data-line, which is echoed cut (smtpd_overlong()). A filter
 *	request for an unknown phase is answered "proceed". End of stdin
 *	ends the process cleanly (status 0) once running checks are done.
 *
 *	Memory: SMTPD_SESS is allocated at link-connect, at most
 *	smtpd_max_sessions of them (a session past that is untracked: its
 *	recipients get action_internal_error), and freed at
 *	link-disconnect; reports and requests of an unknown session never
 *	create one. A SMTPD_PENDING holds a copy of its ANSWER and owns its raw address
 *	until it is committed or dropped; SMTPD_JOB, with the raw address
 *	(at most RCPT_INPUT_MAX + 1 octets), is freed by the worker that
 *	runs it.
 *
 *	Recipients: the domain is read from the raw address (rcpt.c);
 *	only the shown form (rcpt_show()) is sanitized.
 *
 *	RFCs: the reply and header rules are in action.c (RFC 8461 section
 *	5.1, RFC 7505 section 4.3, RFC 3463, RFC 5321 section 4.5.3.1.5).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "conf.h"
#include "daemon.h"
#include "decision.h"
#include "domain.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "rcpt.h"
#include "route.h"
#include "route_conf.h"
#include "smtpd_proto.h"
#include "smtpd_sess.h"
#include "status.h"
#include "clock.h"
#include "str.h"
#include "text.h"
#include "verdict.h"
#include "why.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define SMTPD_EX_OK		0
#define SMTPD_EX_USAGE		64
#define SMTPD_EX_SOFTWARE	70
#define SMTPD_EX_CONFIG		78

#define SMTPD_WORKERS_MAX	256	/* concurrent checks */
#define SMTPD_OUT_MAX		(SMTPD_PROTO_LINE_MAX + 128)
#define SMTPD_SMTPD_LINE_MAX	2047	/* OpenSMTPD 6.8 reads answers into char[LINE_MAX] */

typedef struct SMTPD_JOB {
    struct SMTPD_JOB *next;
    char    session[SMTPD_PROTO_ID_MAX + 1];
    char    token[SMTPD_PROTO_ID_MAX + 1];
    char    rcpt[ACTION_RCPT_MAX + 1];	/* as shown (rcpt_show) */
    char   *raw;				/* owned: as smtpd sent it */
    int     untracked;			/* no session state: fallback */
    char    client[SMTPD_SESS_CLIENT_MAX];
    char    msgid[SMTPD_SESS_MSGID_MAX];
    char    from[ACTION_RCPT_MAX + 1];
    char    sasl[SMTPD_SESS_SASL_MAX];
    struct sockaddr_storage addr;
    int     has_addr;
    int     authenticated;
    int     version;
} SMTPD_JOB;

static const char smtpd_progname[] = "stsfilter-smtpd";
static const char *smtpd_conf_path = CONF_DEFAULT_PATH;
static pthread_mutex_t smtpd_conf_lock = PTHREAD_MUTEX_INITIALIZER;
static CONF *smtpd_conf;		/* current; under smtpd_conf_lock */
static char smtpd_syslog_name[256];	/* openlog() keeps the pointer */
static ROUTE *smtpd_route;
static METRICS_HTTP *smtpd_metrics;	/* smtpd_metrics_listen, or null */
static int smtpd_version = SMTPD_PROTO_V06;	/* until the handshake says */
static int smtpd_tagging;		/* smtpd_tagging: data-line registered */

static pthread_mutex_t smtpd_out_lock = PTHREAD_MUTEX_INITIALIZER;


static pthread_mutex_t smtpd_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t smtpd_pool_cond = PTHREAD_COND_INITIALIZER;
static pthread_cond_t smtpd_pool_done = PTHREAD_COND_INITIALIZER;
static SMTPD_JOB *smtpd_queue_head;
static SMTPD_JOB *smtpd_queue_tail;
static int smtpd_workers;
static int smtpd_idle;			/* workers waiting for a job */
static int smtpd_queued;		/* jobs not yet taken */
static int smtpd_stopping;

/* smtpd_conf_get - a reference to the current configuration */

static CONF *smtpd_conf_get(void)
{
    CONF   *conf;

    (void) pthread_mutex_lock(&smtpd_conf_lock);
    conf = conf_ref(smtpd_conf);
    (void) pthread_mutex_unlock(&smtpd_conf_lock);
    return (conf);
}

/* smtpd_write - write one whole line under the output lock */

static void smtpd_write(const char *line, size_t len)
{
    size_t  done = 0;
    ssize_t n;

    (void) pthread_mutex_lock(&smtpd_out_lock);
    while (done < len) {
	n = write(STDOUT_FILENO, line + done, len - done);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n <= 0) {
	    log_error("cannot write to smtpd: %s", strerror(errno));
	    break;
	}
	done += (size_t) n;
    }
    (void) pthread_mutex_unlock(&smtpd_out_lock);
}

/* smtpd_result - answer a filter request */

static void smtpd_result(int version, const char *session, const char *token,
			         const char *decision, const char *param)
{
    char    buf[SMTPD_OUT_MAX];
    int     n;

    n = smtpd_proto_result(buf, sizeof(buf), version, session, token, decision, param);
    if (n < 0 && strcmp(decision, "proceed") != 0) {
	/* Never write a malformed line: fall back to letting mail through. */
	log_error("session %s: cannot format a %s answer; proceeding", session, decision);
	n = smtpd_proto_result(buf, sizeof(buf), version, session, token, "proceed", 0);
    }
    if (n < 0) {
	log_error("session %s: cannot format an answer", session);
	return;
    }
    smtpd_write(buf, (size_t) n);
}

/* smtpd_dataline - echo one data line */

static void smtpd_dataline(int version, const char *session, const char *token, const char *line)
{
    char    buf[SMTPD_OUT_MAX];
    int     n;

    if ((n = smtpd_proto_dataline(buf, sizeof(buf), version, session, token, line)) < 0) {
	log_error("session %s: cannot format a data line", session);
	return;
    }
    smtpd_write(buf, (size_t) n);
}

/* smtpd_budget_ms - per-recipient wait, within the check budget */

static int smtpd_budget_ms(const CONF *conf)
{
    long    rcpt_ms = conf_time(conf, CONF_RECIPIENT_TIME_BUDGET) * 1000L;
    int     check_ms = route_conf_budget_ms(conf);

    return (rcpt_ms < check_ms ? (int) rcpt_ms : check_ms);
}

/* smtpd_check - one rcpt-to request (a worker thread) */

static void smtpd_check(const SMTPD_JOB *job)
{
    CONF   *conf = smtpd_conf_get();		/* this check's, across a reload */
    ANSWER  ans;
    const ANSWER *v = 0;
    ACTION  act;
    ACTION_REPLY reply;
    DECISION dl;
    WHY     why;
    char    rcpt[ACTION_RCPT_MAX + 1];
    char    domain[DOMAIN_MAX + 1];
    char    answer[ACTION_LINE_MAX + 1];
    char    line[LOG_LINE_MAX];
    const char *qid = job->msgid[0] ? job->msgid : job->session;
    struct timespec t0, t1;
    long    ms;
    int     status;
    int     refuse = 0;
    int     untagged = 0;

    why.text[0] = 0;
    (void) clock_gettime(CLOCK_MONOTONIC, &t0);
    (void) str_copy(rcpt, sizeof(rcpt), job->rcpt);
    if (!job->untracked
	&& !action_scope_client(conf, job->authenticated, job->has_addr ? (const struct sockaddr *) &job->addr : 0))
	goto out;				/* not mail this site sends out */
    /* The domain from the raw address; only what is shown is sanitized. */
    status = rcpt_domain(job->raw, domain, sizeof(domain), &why);
    if (status == STATUS_NOTFOUND) {
	/* An address literal or "postmaster": no MX, nothing to check. */
	log_info("%s: to=<%s>, not checked: no domain (%s)", qid, rcpt, domain[0] ? "address literal" : "postmaster");
	goto out;
    }
    if (status != STATUS_OK) {
	/* Never a silent pass: log it, and action_internal_error decides. */
	log_warn("%s: to=<%s>: cannot read the recipient's domain: %s; applying action_internal_error",
		 qid, rcpt, why_text(&why));
	domain[0] = 0;
    } else if (!action_scope_domain(conf, domain)) {
	goto out;
    }
    if (domain[0] == 0) {
	status = STATUS_FAIL;
    } else if (job->untracked) {
	/* Past smtpd_max_sessions (or out of memory): who sends is unknown. */
	log_warn("%s: to=<%s>, domain=%s: session not tracked; applying action_internal_error", qid, rcpt, domain);
	status = STATUS_FAIL;
    } else {
	/* A warm decision is one read of the domain's kept answer (route.h). */
	status = route_answer(smtpd_route, domain, smtpd_budget_ms(conf), ROUTE_FIRST, &ans, 0, 0, &why);
    }
    if (status == STATUS_INVAL) {
	log_info("%s: to=%s, domain=%s, not checked: %s", qid, rcpt, domain, why_text(&why));
	goto out;
    }
    if (status != STATUS_OK) {
	if (domain[0] && !job->untracked)
	    log_error("%s: to=%s, domain=%s: check failed: %s", qid, rcpt, domain, why_text(&why));
    } else {
	v = &ans;
    }
    action_decide(conf, v ? v->verdict : ACTION_INTERNAL_ERROR, &act);
    if (act.tag && (!smtpd_tagging || job->untracked)) {
	/* Tagging is off (smtpd_tagging = no), or no session to tag in: accept. */
	act.action = ACTION_ACCEPT;
	act.tag = 0;
	untagged = 1;
    }
    (void) action_reply(&act, v, domain[0] ? domain : "the recipient's domain", rcpt, &reply);
    (void) clock_gettime(CLOCK_MONOTONIC, &t1);
    metrics_decision(METRICS_SMTPD, v ? verdict_name(v->verdict) : "internal-error", action_name(act.action), &t0, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
    /* One line per decision, as the milter writes it (decision.h). */
    memset(&dl, 0, sizeof(dl));
    dl.qid = qid;
    dl.client = job->client;
    dl.from = job->from;
    dl.sasl_username = job->authenticated ? job->sasl : "";
    dl.rcpt = rcpt;
    dl.domain = domain;
    dl.answer = v;
    dl.act = &act;
    if (untagged)
	dl.note = job->untracked ? "not tagged: session not tracked" : "not tagged: smtpd_tagging = no";
    dl.delay_ms = ms;
    dl.reply = &reply;
    (void) decision_line(line, sizeof(line), &dl);
    log_info("%s", line);
    if (act.tag)
	smtpd_sess_pending_add(job->session, job->raw, domain[0] ? domain : "unreadable", &act, v);	/* before the answer */
    if (act.action == ACTION_DEFER || act.action == ACTION_REJECT) {
	/* smtpd-filters(7): one line, "4xx " or "5xx ", sent as is. */
	(void) snprintf(answer, sizeof(answer), "%s %s %s", reply.code, reply.dsn, reply.text);
	refuse = 1;
    }

out:
    conf_unref(&conf);
    if (refuse)
	smtpd_result(job->version, job->session, job->token, "reject", answer);
    else
	smtpd_result(job->version, job->session, job->token, "proceed", 0);
}

static void smtpd_job_free(SMTPD_JOB **jp)
{
    if (*jp == 0)
	return;
    free((*jp)->raw);
    free(*jp);
    *jp = 0;
}

/* smtpd_worker - run jobs until told to stop */

static void *smtpd_worker(void *arg)
{
    SMTPD_JOB *job;

    (void) arg;
    (void) pthread_mutex_lock(&smtpd_pool_lock);
    for (;;) {
	while (smtpd_queue_head == 0 && !smtpd_stopping) {
	    smtpd_idle++;
	    (void) pthread_cond_wait(&smtpd_pool_cond, &smtpd_pool_lock);
	    smtpd_idle--;
	}
	if ((job = smtpd_queue_head) == 0)
	    break;				/* stopping, queue drained */
	if ((smtpd_queue_head = job->next) == 0)
	    smtpd_queue_tail = 0;
	smtpd_queued--;
	(void) pthread_mutex_unlock(&smtpd_pool_lock);
	smtpd_check(job);
	smtpd_job_free(&job);
	(void) pthread_mutex_lock(&smtpd_pool_lock);
    }
    smtpd_workers--;
    (void) pthread_cond_broadcast(&smtpd_pool_done);
    (void) pthread_mutex_unlock(&smtpd_pool_lock);
    return (0);
}

/* smtpd_submit - queue a job; grow the pool when no worker is idle */

static void smtpd_submit(SMTPD_JOB *job)
{
    pthread_attr_t attr;
    pthread_t tid;
    int     run_here = 0;

    (void) pthread_mutex_lock(&smtpd_pool_lock);
    job->next = 0;
    if (smtpd_queue_tail)
	smtpd_queue_tail->next = job;
    else
	smtpd_queue_head = job;
    smtpd_queue_tail = job;
    smtpd_queued++;
    (void) pthread_cond_signal(&smtpd_pool_cond);
    /*
     * Count jobs, not wake-ups: a signalled worker stays "idle" until it
     * runs, so a second job queued meanwhile needs a thread of its own.
     */
    if (smtpd_queued > smtpd_idle && smtpd_workers < SMTPD_WORKERS_MAX) {
	(void) pthread_attr_init(&attr);
	(void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&tid, &attr, smtpd_worker, 0) == 0) {
	    smtpd_workers++;
	} else if (smtpd_workers == 0) {
	    /* No thread at all: answer now rather than never. */
	    smtpd_queue_head = smtpd_queue_tail = 0;
	    smtpd_queued = 0;
	    run_here = 1;
	}
	(void) pthread_attr_destroy(&attr);
    }
    (void) pthread_mutex_unlock(&smtpd_pool_lock);
    if (run_here) {
	log_warn("cannot start a worker thread; checking in the main thread");
	smtpd_check(job);
	smtpd_job_free(&job);
    }
}

/* smtpd_pool_stop - let the workers finish the queue, then end them */

static void smtpd_pool_stop(void)
{
    (void) pthread_mutex_lock(&smtpd_pool_lock);
    smtpd_stopping = 1;
    (void) pthread_cond_broadcast(&smtpd_pool_cond);
    while (smtpd_workers > 0)
	(void) pthread_cond_wait(&smtpd_pool_done, &smtpd_pool_lock);
    (void) pthread_mutex_unlock(&smtpd_pool_lock);
}

/* smtpd_rcpt - a rcpt-to request: snapshot the session, queue a check */

static void smtpd_rcpt(const SMTPD_PROTO_MSG *msg)
{
    SMTPD_JOB *job;
    SMTPD_SESS *s;

    /* Capped: rcpt_domain() refuses an address over RCPT_INPUT_MAX octets. */
    if ((job = calloc(1, sizeof(*job))) == 0 || (job->raw = strndup(msg->params, RCPT_INPUT_MAX + 1)) == 0) {
	free(job);
	log_error("out of memory; session %s proceeds unchecked", msg->session);
	smtpd_result(msg->version, msg->session, msg->token, "proceed", 0);
	return;
    }
    (void) str_copy(job->session, sizeof(job->session), msg->session);
    (void) str_copy(job->token, sizeof(job->token), msg->token);
    job->version = msg->version;
    /* smtpd sends the bare address; older releases kept the brackets. */
    (void) rcpt_show(job->rcpt, sizeof(job->rcpt), job->raw);
    (void) str_copy(job->client, sizeof(job->client), "unknown");
    job->untracked = 1;
    (void) pthread_mutex_lock(&smtpd_sess_lock);
    if ((s = smtpd_sess_find(msg->session)) != 0) {
	job->untracked = 0;
	job->addr = s->addr;
	job->has_addr = s->has_addr;
	job->authenticated = s->authenticated;
	(void) str_copy(job->client, sizeof(job->client), s->client);
	(void) str_copy(job->msgid, sizeof(job->msgid), s->msgid);
	(void) str_copy(job->from, sizeof(job->from), s->from);
	(void) str_copy(job->sasl, sizeof(job->sasl), s->sasl);
    }
    (void) pthread_mutex_unlock(&smtpd_sess_lock);
    smtpd_submit(job);
}

/* smtpd_data - a data-line request: the tag header first, then echo */

static void smtpd_data(const SMTPD_PROTO_MSG *msg)
{
    SMTPD_SESS *s;
    CONF   *conf = smtpd_conf_get();
    char    header[ACTION_TAG_MAX + 256];
    char    qid[SMTPD_SESS_MSGID_MAX];
    int     first = 0;
    int     last = strcmp(msg->params, ".") == 0;

    header[0] = 0;
    qid[0] = 0;
    (void) pthread_mutex_lock(&smtpd_sess_lock);
    if ((s = smtpd_sess_find(msg->session)) != 0) {
	if (!s->in_data) {
	    first = 1;
	    s->in_data = 1;
	    if (s->tag[0])
		(void) snprintf(header, sizeof(header), "%s: %s", conf_str(conf, CONF_TAG_HEADER), s->tag);
	    (void) str_copy(qid, sizeof(qid), s->msgid[0] ? s->msgid : s->id);
	}
	if (last)
	    s->in_data = 0;			/* the next message starts afresh */
    }
    (void) pthread_mutex_unlock(&smtpd_sess_lock);
    conf_unref(&conf);
    if (first && header[0]) {
	smtpd_dataline(msg->version, msg->session, msg->token, header);
	log_info("%s: tagged: %s", qid, header);
    }
    smtpd_dataline(msg->version, msg->session, msg->token, msg->params);
}

/* smtpd_same_rcpt - one address, with or without angle brackets, any case */

static int smtpd_same_rcpt(const char *a, const char *b)
{
    size_t  la, lb;

    if (*a == '<')
	a++;
    if (*b == '<')
	b++;
    la = strlen(a);
    lb = strlen(b);
    if (la && a[la - 1] == '>')
	la--;
    if (lb && b[lb - 1] == '>')
	lb--;
    return (la == lb && strncasecmp(a, b, la) == 0);
}

/* smtpd_report - keep the session state from the reports */

static void smtpd_report(const SMTPD_PROTO_MSG *msg)
{
    SMTPD_SESS *s;
    SMTPD_PENDING **pp;
    SMTPD_PENDING *p;
    char    addr[64];
    char    result[16];
    char    rcpt[RCPT_INPUT_MAX + 2];
    char    user[SMTPD_SESS_SASL_MAX];
    char    msgid[SMTPD_SESS_MSGID_MAX];
    struct sockaddr_in *sin;
    struct sockaddr_in6 *sin6;
    const char *ev = msg->event;

    if (strcmp(ev, "link-disconnect") == 0) {
	(void) pthread_mutex_lock(&smtpd_sess_lock);
	smtpd_sess_drop(msg->session);
	(void) pthread_mutex_unlock(&smtpd_sess_lock);
	return;
    }
    if (strcmp(ev, "link-connect") == 0) {
	if (smtpd_proto_link_connect(msg, addr, sizeof(addr)) < 0) {
	    log_warn("session %s: malformed link-connect report; client unknown", msg->session);
	    addr[0] = 0;
	}
	(void) pthread_mutex_lock(&smtpd_sess_lock);
	smtpd_sess_drop(msg->session);		/* a reused id starts afresh */
	if ((s = smtpd_sess_new(msg->session)) != 0 && addr[0]) {
	    sin = (struct sockaddr_in *) &s->addr;
	    sin6 = (struct sockaddr_in6 *) &s->addr;
	    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		s->has_addr = 1;
	    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		s->has_addr = 1;
	    }
	    if (s->has_addr)
		(void) str_copy(s->client, sizeof(s->client), addr);
	}
	(void) pthread_mutex_unlock(&smtpd_sess_lock);
	return;
    }
    (void) pthread_mutex_lock(&smtpd_sess_lock);
    if ((s = smtpd_sess_find(msg->session)) == 0) {
	(void) pthread_mutex_unlock(&smtpd_sess_lock);
	return;
    }
    if (strcmp(ev, "link-auth") == 0) {
	if (smtpd_proto_link_auth(msg, result, sizeof(result)) < 0)
	    log_warn("session %s: malformed link-auth report", msg->session);
	else
	    s->authenticated = strcmp(result, "pass") == 0;
	/* For the decision log: the user, only when authenticated. */
	s->sasl[0] = 0;
	if (s->authenticated && smtpd_proto_link_auth_user(msg, user, sizeof(user)) == 0)
	    (void) text_sanitize(s->sasl, sizeof(s->sasl), user);
    } else if (strcmp(ev, "tx-begin") == 0) {
	smtpd_sess_tx_reset(s);
	if (msg->params && text_sanitize(msgid, sizeof(msgid), msg->params) > 0)
	    (void) str_copy(s->msgid, sizeof(s->msgid), msgid);
    } else if (strcmp(ev, "tx-mail") == 0) {
	/* For the decision log: the sender smtpd accepted (<> is ""). */
	if (smtpd_proto_tx_mail(msg, result, sizeof(result), rcpt, sizeof(rcpt)) < 0)
	    log_warn("session %s: malformed tx-mail report", msg->session);
	else if (strcmp(result, "ok") == 0)
	    (void) rcpt_show(s->from, sizeof(s->from), rcpt);
    } else if (strcmp(ev, "tx-reset") == 0) {
	smtpd_sess_tx_reset(s);
    } else if (strcmp(ev, "tx-rcpt") == 0) {
	if (smtpd_proto_tx_rcpt(msg, result, sizeof(result), rcpt, sizeof(rcpt)) < 0) {
	    log_warn("session %s: malformed tx-rcpt report", msg->session);
	} else {
	    /* Tag only recipients smtpd accepted; drop the others. */
	    for (pp = &s->pending; (p = *pp) != 0; pp = &p->next) {
		if (smtpd_same_rcpt(p->raw, rcpt)) {
		    if (strcmp(result, "ok") == 0)
			(void) action_tag_add(s->tag, sizeof(s->tag), &p->act,
					      p->has_answer ? &p->answer : 0, p->domain);
		    *pp = p->next;
		    free(p->raw);
		    free(p);
		    s->npending--;
		    break;
		}
	    }
	}
    }
    (void) pthread_mutex_unlock(&smtpd_sess_lock);
}

/* smtpd_line - one input line */

static void smtpd_line(char *line)
{
    SMTPD_PROTO_MSG msg;
    char    err[128];
    char    shown[128];
    const char *const *reg;
    int     v;

    (void) text_sanitize(shown, sizeof(shown), line);	/* parsing cuts line */
    if (smtpd_proto_parse(line, &msg, err, sizeof(err)) < 0) {
	log_warn("malformed input line skipped (%s): %.80s", err, shown);
	return;
    }
    switch (msg.stream) {
    case SMTPD_PROTO_CONFIG:
	if ((v = smtpd_proto_version(msg.key, msg.value)) > 0) {
	    /* "protocol" (0.7 and later) is sent after "smtpd-version" and wins. */
	    if (strcmp(msg.key, "protocol") == 0 || smtpd_version == SMTPD_PROTO_V06)
		smtpd_version = v;
	} else if (v < 0) {
	    log_warn("unsupported %s %s; speaking protocol 0.%d", msg.key, msg.value, smtpd_version);
	}
	if (strcmp(msg.key, "ready") == 0) {
	    /* Logged first: once smtpd reads "register|ready", the line is there. */
	    log_info("registered with smtpd, protocol 0.%d, tagging %s", smtpd_version,
		     smtpd_tagging ? "on (data-line)" : "off");
	    /* data-line only to tag: smtpd 6.8 then cuts body lines (stsfilter-smtpd(8)). */
	    if (smtpd_tagging) {
		smtpd_write(smtpd_proto_register_data, strlen(smtpd_proto_register_data));
		smtpd_write("\n", 1);
	    }
	    for (reg = smtpd_proto_register; *reg; reg++) {
		smtpd_write(*reg, strlen(*reg));
		smtpd_write("\n", 1);
	    }
	}
	break;
    case SMTPD_PROTO_REPORT:
	smtpd_report(&msg);
	break;
    case SMTPD_PROTO_FILTER:
	if (strcmp(msg.event, "rcpt-to") == 0) {
	    smtpd_rcpt(&msg);
	} else if (strcmp(msg.event, "data-line") == 0) {
	    smtpd_data(&msg);
	} else {
	    /* Not registered, but never leave a session waiting. */
	    smtpd_result(msg.version, msg.session, msg.token, "proceed", 0);
	}
	break;
    }
}

/*
 * smtpd_overlong - the first SMTPD_PROTO_LINE_MAX bytes of an overlong line.
 * A data-line (tagging on) is echoed cut, as OpenSMTPD 6.8 cuts every
 * answer into its LINE_MAX buffer anyway: the message keeps the line
 * rather than lose it (an answer near 64 KB makes smtpd 6.8 stall).
 */
static void smtpd_overlong(char *line)
{
    SMTPD_PROTO_MSG msg;
    char   *param;
    size_t  cut;

    line[SMTPD_PROTO_LINE_MAX] = 0;
    if (memchr(line, 0, SMTPD_PROTO_LINE_MAX) != 0 || smtpd_proto_parse(line, &msg, 0, 0) < 0
	|| msg.stream != SMTPD_PROTO_FILTER || strcmp(msg.event, "data-line") != 0) {
	log_warn("input line longer than %d bytes skipped", SMTPD_PROTO_LINE_MAX);
	return;
    }
    cut = SMTPD_SMTPD_LINE_MAX - strlen("filter-dataline|||") - strlen(msg.session) - strlen(msg.token);
    param = (char *) msg.params;
    if (strlen(param) > cut)
	param[cut] = 0;
    log_warn("session %s: a message line longer than %d bytes is passed on cut to %lu (stsfilter-smtpd(8), LIMITS)",
	     msg.session, SMTPD_PROTO_LINE_MAX, (unsigned long) cut);
    smtpd_data(&msg);
}

/* smtpd_loop - read stdin until EOF; overlong lines are skipped whole */

static void smtpd_loop(void)
{
    static char buf[SMTPD_PROTO_LINE_MAX + 2];
    size_t  len = 0;
    size_t  start;
    char   *nl;
    ssize_t n;
    int     skipping = 0;

    for (;;) {
	n = read(STDIN_FILENO, buf + len, sizeof(buf) - 1 - len);
	if (n < 0 && errno == EINTR)
	    continue;
	if (n < 0) {
	    log_error("cannot read from smtpd: %s", strerror(errno));
	    break;
	}
	if (n == 0) {
	    if (len > 0 && !skipping)
		log_warn("truncated last line skipped (%lu bytes, no newline)", (unsigned long) len);
	    break;
	}
	len += (size_t) n;
	start = 0;
	while ((nl = memchr(buf + start, '\n', len - start)) != 0) {
	    *nl = 0;
	    if (skipping) {
		skipping = 0;
	    } else if (memchr(buf + start, 0, (size_t) (nl - (buf + start))) != 0) {
		log_warn("input line with a NUL byte skipped");
	    } else {
		smtpd_line(buf + start);
	    }
	    start = (size_t) (nl - buf) + 1;
	}
	memmove(buf, buf + start, len - start);
	len -= start;
	if (len >= sizeof(buf) - 1) {
	    if (!skipping)
		smtpd_overlong(buf);
	    skipping = 1;
	    len = 0;
	}
    }
}

/* smtpd_privileges - when started as root, become the configured user */

static int smtpd_privileges(const CONF *conf)
{
    const char *user = conf_str(conf, CONF_USER);
    struct passwd *pw;

    if (geteuid() != 0)
	return (0);
    if ((pw = getpwnam(user)) == 0) {
	log_error("unknown user %s (parameter user)", user);
	return (-1);
    }
    if (pw->pw_uid == 0 && !conf_bool(conf, CONF_ALLOW_ROOT)) {
	log_error("refusing to run as root: user = %s has uid 0; set user to an unprivileged account "
		  "(allow_root = yes is for test setups only)", user);
	return (-1);
    }
    if (pw->pw_uid == 0)
	return (0);
    if (setgid(pw->pw_gid) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
	log_error("cannot become user %s: %s", user, strerror(errno));
	return (-1);
    }
    return (0);
}

/*
 * smtpd_reload - SIGHUP: a new configuration, or keep the old one. Checks
 * that started keep theirs. smtpd_tagging (the registration is done) and
 * smtpd_max_sessions are read at start only: a change is logged.
 */
static void smtpd_reload(void)
{
    CONF   *fresh = 0;
    CONF   *old;

    if (daemon_load(smtpd_conf_path, &fresh) != STATUS_OK) {
	log_error("reload failed; keeping the configuration in use");
	return;
    }
    if (conf_bool(fresh, CONF_SMTPD_TAGGING) != smtpd_tagging)
	log_warn("smtpd_tagging changed to %s; restart the filter (smtpd) to apply it",
		 conf_str(fresh, CONF_SMTPD_TAGGING));
    if (conf_int(fresh, CONF_SMTPD_MAX_SESSIONS) != smtpd_sess_max)
	log_warn("smtpd_max_sessions changed to %s; restart the filter (smtpd) to apply it",
		 conf_str(fresh, CONF_SMTPD_MAX_SESSIONS));
    (void) pthread_mutex_lock(&smtpd_conf_lock);
    old = smtpd_conf;
    smtpd_conf = fresh;
    (void) pthread_mutex_unlock(&smtpd_conf_lock);
    conf_unref(&old);				/* checks keep their own */
    log_info("configuration reloaded from %s", smtpd_conf_path);
}

/* smtpd_signal_thread - takes SIGHUP, blocked in every other thread */

static void *smtpd_signal_thread(void *arg)
{
    sigset_t *set = arg;
    int     sig;

    for (;;)
	if (sigwait(set, &sig) == 0 && sig == SIGHUP)
	    smtpd_reload();
    return (0);
}

int     main(int argc, char **argv)
{
    DAEMON_ARGS args;
    ROUTE_OPTS opts;
    WHY     why;
    static sigset_t hup;
    pthread_attr_t attr;
    pthread_t tid;
    int     check_only = 0;
    int     ret = SMTPD_EX_CONFIG;

    log_init(smtpd_progname, LOG_TO_STDERR);	/* until the configuration is read */
    if ((ret = daemon_args(argc, argv, smtpd_progname, DAEMON_FOREGROUND_LOG, &args)) != DAEMON_ARGS_GO)
	return (ret);
    ret = SMTPD_EX_CONFIG;
    smtpd_conf_path = args.conf_path;
    check_only = args.check_only;
    if (daemon_load(smtpd_conf_path, &smtpd_conf) != STATUS_OK)
	goto out;
    if (check_only) {
	(void) printf("%s: configuration ok\n", smtpd_conf_path);
	ret = SMTPD_EX_OK;
	goto out;
    }
    (void) signal(SIGPIPE, SIG_IGN);
    /*
     * Syslog, as the other daemons; -f adds stderr, which smtpd puts in
     * its own log. Never stdout: that is the protocol channel. Start-up
     * problems go to stderr as well, so that smtpd's log shows why its
     * filter did not start.
     */
    (void) str_copy(smtpd_syslog_name, sizeof(smtpd_syslog_name), conf_str(smtpd_conf, CONF_SYSLOG_NAME));
    log_init(smtpd_progname, LOG_TO_SYSLOG | LOG_TO_STDERR);
    /* Last openlog() wins: the configured name and facility. */
    openlog(smtpd_syslog_name, LOG_PID | LOG_NDELAY, daemon_facility(smtpd_conf));
    /* Blocked before any thread starts: only the signal thread takes it. */
    (void) sigemptyset(&hup);
    (void) sigaddset(&hup, SIGHUP);
    (void) pthread_sigmask(SIG_BLOCK, &hup, 0);
    smtpd_tagging = conf_bool(smtpd_conf, CONF_SMTPD_TAGGING);
    smtpd_sess_max = conf_int(smtpd_conf, CONF_SMTPD_MAX_SESSIONS);
    ret = SMTPD_EX_SOFTWARE;
    /* Never a reason to stop: smtpd stops taking mail when its filter exits. */
    if (metrics_http_listen(conf_str(smtpd_conf, CONF_SMTPD_METRICS_LISTEN), "smtpd_metrics_listen", METRICS_SMTPD,
			    &smtpd_metrics) != STATUS_OK)
	log_error("going on without the metrics listener");
    if (smtpd_privileges(smtpd_conf) < 0)
	goto out;
    /* Before the engine starts threads that log. */
    log_init(smtpd_progname, LOG_TO_SYSLOG | (args.foreground ? LOG_TO_STDERR : 0));
    openlog(smtpd_syslog_name, LOG_PID | LOG_NDELAY, daemon_facility(smtpd_conf));
    route_conf_opts(smtpd_conf, &opts);
    if (route_create(&opts, &smtpd_route, &why) != STATUS_OK) {
	log_error("cannot start the engine: %s", why_text(&why));
	goto out;
    }
    (void) pthread_attr_init(&attr);
    (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&tid, &attr, smtpd_signal_thread, &hup) != 0)
	log_warn("cannot start the signal thread: SIGHUP will not reload the configuration");
    (void) pthread_attr_destroy(&attr);
    if (metrics_http_start(smtpd_metrics) != STATUS_OK)
	metrics_http_free(&smtpd_metrics);
    log_info("starting: version %s, configuration %s", PACKAGE_VERSION, smtpd_conf_path);
    smtpd_loop();
    smtpd_pool_stop();
    log_info("stdin closed; exiting");
    ret = SMTPD_EX_OK;

out:
    metrics_http_free(&smtpd_metrics);
    smtpd_sess_free_all();
    route_free(&smtpd_route);
    (void) pthread_mutex_lock(&smtpd_conf_lock);
    conf_unref(&smtpd_conf);
    (void) pthread_mutex_unlock(&smtpd_conf_lock);
    return (ret);
}
