/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	smtpd_sess 3
 * SUMMARY
 *	stsfilter-smtpd's session table
 * DESCRIPTION
 *	See smtpd_sess.h.
 */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "htable.h"
#include "log.h"
#include "smtpd_sess.h"
#include "status.h"
#include "str.h"

pthread_mutex_t smtpd_sess_lock = PTHREAD_MUTEX_INITIALIZER;
int     smtpd_sess_max;			/* smtpd_max_sessions */

static HTABLE *smtpd_sess_table;	/* id -> SMTPD_SESS, made on first use */
static long smtpd_sess_untracked;	/* sessions refused since the last log */
static time_t smtpd_sess_full_logged;	/* last "session table full" log */

SMTPD_SESS *smtpd_sess_find(const char *id)
{
    return (smtpd_sess_table ? htable_find(smtpd_sess_table, id) : 0);
}

/*
 * smtpd_sess_new - a session, at link-connect. The table holds at most
 * smtpd_sess_max; past that a session is not tracked (its recipients
 * get action_internal_error), logged at most once a minute.
 */
SMTPD_SESS *smtpd_sess_new(const char *id)
{
    SMTPD_SESS *s;
    time_t  now;

    if ((s = smtpd_sess_find(id)) != 0)
	return (s);
    if (smtpd_sess_table == 0 && htable_create(SMTPD_SESS_BUCKETS, &smtpd_sess_table) != STATUS_OK) {
	log_error("out of memory for session %s", id);
	return (0);
    }
    if (htable_used(smtpd_sess_table) >= (size_t) smtpd_sess_max) {
	smtpd_sess_untracked++;
	if ((now = clock_now()) - smtpd_sess_full_logged >= 60) {
	    log_warn("session table full (smtpd_max_sessions = %d): %ld new session(s) not tracked;"
		     " their recipients get action_internal_error", smtpd_sess_max, smtpd_sess_untracked);
	    smtpd_sess_full_logged = now;
	    smtpd_sess_untracked = 0;
	}
	return (0);
    }
    if ((s = calloc(1, sizeof(*s))) == 0) {
	log_error("out of memory for session %s", id);
	return (0);
    }
    (void) str_copy(s->id, sizeof(s->id), id);
    (void) str_copy(s->client, sizeof(s->client), "unknown");
    if (htable_enter(smtpd_sess_table, id, s) != STATUS_OK) {
	log_error("out of memory for session %s", id);
	free(s);
	return (0);
    }
    return (s);
}

static void smtpd_sess_pending_clear(SMTPD_SESS *s)
{
    SMTPD_PENDING *p;

    while ((p = s->pending) != 0) {
	s->pending = p->next;
	free(p->raw);
	free(p);
    }
    s->npending = 0;
}

/* smtpd_sess_tx_reset - a new or ended transaction */

void    smtpd_sess_tx_reset(SMTPD_SESS *s)
{
    smtpd_sess_pending_clear(s);
    s->tag[0] = 0;
    s->in_data = 0;
    s->msgid[0] = 0;
    s->from[0] = 0;
}

static void smtpd_sess_free(SMTPD_SESS **sp)
{
    if (*sp == 0)
	return;
    smtpd_sess_pending_clear(*sp);
    free(*sp);
    *sp = 0;
}

void    smtpd_sess_drop(const char *id)
{
    void   *value;
    SMTPD_SESS *s;

    if (smtpd_sess_table && htable_delete(smtpd_sess_table, id, &value) == STATUS_OK) {
	s = value;
	smtpd_sess_free(&s);
    }
}

static void smtpd_sess_free_value(void *value)
{
    SMTPD_SESS *s = value;

    smtpd_sess_free(&s);
}

void    smtpd_sess_free_all(void)
{
    htable_free(&smtpd_sess_table, smtpd_sess_free_value);
}

/* smtpd_sess_pending_add - remember a tagged recipient until tx-rcpt */

void    smtpd_sess_pending_add(const char *session, const char *raw, const char *domain, const ACTION *act,
			               const ANSWER *v)
{
    SMTPD_SESS *s;
    SMTPD_PENDING *p;

    (void) pthread_mutex_lock(&smtpd_sess_lock);
    if ((s = smtpd_sess_find(session)) == 0 || s->npending >= SMTPD_SESS_PENDING_MAX) {
	(void) pthread_mutex_unlock(&smtpd_sess_lock);
	return;
    }
    if ((p = calloc(1, sizeof(*p))) == 0 || (p->raw = strdup(raw)) == 0) {
	(void) pthread_mutex_unlock(&smtpd_sess_lock);
	log_error("out of memory: %s not tagged", domain);
	free(p);
	return;
    }
    (void) str_copy(p->domain, sizeof(p->domain), domain);
    p->act = *act;
    if (v) {
	p->answer = *v;
	p->has_answer = 1;
    }
    p->next = s->pending;
    s->pending = p;
    s->npending++;
    (void) pthread_mutex_unlock(&smtpd_sess_lock);
}
