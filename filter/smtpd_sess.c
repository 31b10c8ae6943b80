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
#include "log.h"
#include "smtpd_sess.h"
#include "str.h"

pthread_mutex_t smtpd_sess_lock = PTHREAD_MUTEX_INITIALIZER;
int     smtpd_sess_max;			/* smtpd_max_sessions */

static SMTPD_SESS *smtpd_sess_table[SMTPD_SESS_BUCKETS];
static int smtpd_sess_count;		/* under smtpd_sess_lock */
static long smtpd_sess_untracked;	/* sessions refused since the last log */
static time_t smtpd_sess_full_logged;	/* last "session table full" log */

static unsigned smtpd_sess_hash(const char *id)
{
    unsigned h = 5381;

    while (*id)
	h = h * 33 + (unsigned char) *id++;
    return (h % SMTPD_SESS_BUCKETS);
}

SMTPD_SESS *smtpd_sess_find(const char *id)
{
    SMTPD_SESS *s;

    for (s = smtpd_sess_table[smtpd_sess_hash(id)]; s; s = s->next)
	if (strcmp(s->id, id) == 0)
	    return (s);
    return (0);
}

/*
 * smtpd_sess_new - a session, at link-connect. The table holds at most
 * smtpd_sess_max; past that a session is not tracked (its recipients
 * get action_internal_error), logged at most once a minute.
 */
SMTPD_SESS *smtpd_sess_new(const char *id)
{
    SMTPD_SESS *s;
    unsigned h;
    time_t  now;

    if ((s = smtpd_sess_find(id)) != 0)
	return (s);
    if (smtpd_sess_count >= smtpd_sess_max) {
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
    h = smtpd_sess_hash(id);
    s->next = smtpd_sess_table[h];
    smtpd_sess_table[h] = s;
    smtpd_sess_count++;
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
    SMTPD_SESS **pp;
    SMTPD_SESS *s;

    for (pp = &smtpd_sess_table[smtpd_sess_hash(id)]; (s = *pp) != 0; pp = &s->next) {
	if (strcmp(s->id, id) == 0) {
	    *pp = s->next;
	    smtpd_sess_free(&s);
	    smtpd_sess_count--;
	    return;
	}
    }
}

void    smtpd_sess_free_all(void)
{
    SMTPD_SESS *s;
    int     i;

    for (i = 0; i < SMTPD_SESS_BUCKETS; i++) {
	while ((s = smtpd_sess_table[i]) != 0) {
	    smtpd_sess_table[i] = s->next;
	    smtpd_sess_free(&s);
	}
    }
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
