/* SPDX-License-Identifier: ISC */
#ifndef SMTPD_SESS_H_INCLUDED
#define SMTPD_SESS_H_INCLUDED

/*
 * NAME
 *	smtpd_sess 3h
 * SUMMARY
 *	stsfilter-smtpd's session table: one entry per OpenSMTPD session,
 *	with the transaction's tagged recipients
 * SYNOPSIS
 *	#include "smtpd_sess.h"
 *
 *	extern pthread_mutex_t smtpd_sess_lock;
 *	extern int smtpd_sess_max;
 *
 *	SMTPD_SESS *smtpd_sess_find(const char *id)
 *	SMTPD_SESS *smtpd_sess_new(const char *id)
 *	void	smtpd_sess_drop(const char *id)
 *	void	smtpd_sess_tx_reset(SMTPD_SESS *s)
 *	void	smtpd_sess_free_all(void)
 *
 *	void	smtpd_sess_pending_add(const char *session, const char *raw,
 *			const char *domain, const ACTION *act, const ANSWER *a)
 * DESCRIPTION
 *	A chained hash table of SMTPD_SESS keyed by OpenSMTPD's session
 *	id, bounded by smtpd_sess_max (smtpd_max_sessions, set at start).
 *	Callers hold smtpd_sess_lock for every function but
 *	smtpd_sess_pending_add(), which takes it, and
 *	smtpd_sess_free_all() (at exit, no other thread left).
 *
 *	smtpd_sess_find() returns the session or null. smtpd_sess_new()
 *	returns the existing or a new session, or null when the table is
 *	full (a session past smtpd_sess_max is not tracked: its recipients
 *	get action_internal_error; logged at most once a minute) or out of
 *	memory. smtpd_sess_drop() frees a session at link-disconnect.
 *	smtpd_sess_tx_reset() forgets a transaction (its pending
 *	recipients, tag value, message id and sender).
 *
 *	smtpd_sess_pending_add() remembers a tagged recipient (a copy of
 *	its raw address, action and answer; a may be null: internal
 *	error) until smtpd's tx-rcpt report says whether it was accepted;
 *	at most SMTPD_SESS_PENDING_MAX per transaction, the rest are not
 *	tagged.
 *
 *	Memory: the table owns its sessions, and each session its
 *	SMTPD_PENDING entries and their raw addresses.
 */

#include <pthread.h>
#include <sys/socket.h>

#include "action.h"
#include "answer.h"
#include "domain.h"
#include "smtpd_proto.h"

#define SMTPD_SESS_BUCKETS	1024	/* session table, to start with */
#define SMTPD_SESS_PENDING_MAX	1000	/* decided recipients per transaction */
#define SMTPD_SESS_CLIENT_MAX	64
#define SMTPD_SESS_MSGID_MAX	32
#define SMTPD_SESS_SASL_MAX	128

typedef struct SMTPD_PENDING {
    struct SMTPD_PENDING *next;
    char   *raw;				/* owned: the address as smtpd sent it */
    char    domain[DOMAIN_MAX + 1];
    ACTION  act;
    int     has_answer;			/* 0: internal error */
    ANSWER  answer;
} SMTPD_PENDING;

typedef struct SMTPD_SESS {
    char    id[SMTPD_PROTO_ID_MAX + 1];
    struct sockaddr_storage addr;
    int     has_addr;
    char    client[SMTPD_SESS_CLIENT_MAX];	/* printable, or "unknown" */
    int     authenticated;
    char    sasl[SMTPD_SESS_SASL_MAX];	/* link-auth user, sanitized; "" */
    char    msgid[SMTPD_SESS_MSGID_MAX];	/* from tx-begin */
    char    from[ACTION_RCPT_MAX + 1];	/* from tx-mail, shown form */
    SMTPD_PENDING *pending;
    int     npending;
    char    tag[ACTION_TAG_MAX + 1];	/* tag header value */
    int     in_data;			/* header written for this message */
} SMTPD_SESS;

extern pthread_mutex_t smtpd_sess_lock;
extern int smtpd_sess_max;

extern SMTPD_SESS *smtpd_sess_find(const char *);
extern SMTPD_SESS *smtpd_sess_new(const char *);
extern void smtpd_sess_drop(const char *);
extern void smtpd_sess_tx_reset(SMTPD_SESS *);
extern void smtpd_sess_free_all(void);
extern void smtpd_sess_pending_add(const char *, const char *, const char *, const ACTION *, const ANSWER *);

#endif
