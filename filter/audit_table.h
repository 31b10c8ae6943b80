/* SPDX-License-Identifier: ISC */
#ifndef AUDIT_TABLE_H_INCLUDED
#define AUDIT_TABLE_H_INCLUDED

/*
 * NAME
 *	audit_table 3h
 * SUMMARY
 *	`stsfilter audit`: recipient domains and their message counts,
 *	bounded
 * SYNOPSIS
 *	#include "audit_table.h"
 *
 *	int	audit_table_create(int max_domains, long max_messages,
 *			AUDIT_TABLE **table)
 *	void	audit_table_free(AUDIT_TABLE **table)
 *
 *	int	audit_table_add(AUDIT_TABLE *table, const AUDIT_LINE *line)
 *
 *	AUDIT_DOMAIN **audit_table_sorted(AUDIT_TABLE *table, int *count)
 *
 *	void	audit_table_stats(const AUDIT_TABLE *table,
 *			AUDIT_TABLE_STATS *stats)
 * DESCRIPTION
 *	A message is one queue id and one recipient: the lines of its
 *	retries (deferred, then sent) count once, and a queue id delivered
 *	to two recipients of a domain counts twice. Lines without a queue
 *	id (a list of domains) count once each.
 *
 *	audit_table_create() makes a table for at most max_domains domains
 *	(1 to AUDIT_DOMAINS_LIMIT) that remembers at most max_messages
 *	(queue id, recipient) pairs (as 64-bit hashes) to count each once.
 *	Returns STATUS_OK, STATUS_INVAL (out of range) or STATUS_FAIL (out
 *	of memory).
 *
 *	audit_table_add() counts the recipients of a parsed line
 *	(audit_log.h) and returns how many new messages it counted. Past
 *	the bounds nothing fails: a recipient whose domain is new when the
 *	table is full is not counted in any domain but in
 *	stats.dropped_messages (and its domain in stats.dropped_domains,
 *	each time a line names it: an upper bound); once max_messages pairs
 *	are remembered, later lines are counted as new messages
 *	(stats.seen_full is set), so a retried message may count twice.
 *
 *	audit_table_sorted() returns the domains, most messages first
 *	(then by name), in an array the caller frees with free(); the
 *	domains belong to the table. Null when out of memory.
 *
 *	Not thread-safe; the caller locks.
 */

#include "audit_log.h"

#define AUDIT_DOMAINS_LIMIT	1000000
#define AUDIT_DOMAINS_DEFAULT	100000
#define AUDIT_MESSAGES_DEFAULT	4000000	/* pairs remembered: 64 MB at most */

typedef struct AUDIT_DOMAIN {
    char    name[DOMAIN_MAX + 1];	/* normalized, or the logged text */
    int     valid;			/* name is a valid domain */
    long    messages;
    long    lines[AUDIT_STATUS_OTHER + 1];	/* delivery lines by status */
    void   *data;			/* the caller's */
} AUDIT_DOMAIN;

typedef struct AUDIT_TABLE_STATS {
    int     domains;			/* in the table */
    long    messages;			/* counted in a domain */
    long    repeats;			/* lines of a message already counted */
    long    dropped_messages;		/* recipients of domains past the bound */
    long    dropped_domains;
    long    dropped_rcpts;		/* past AUDIT_RCPT_MAX in one line */
    int     seen_full;			/* max_messages reached */
} AUDIT_TABLE_STATS;

typedef struct AUDIT_TABLE AUDIT_TABLE;

extern int audit_table_create(int, long, AUDIT_TABLE **);
extern void audit_table_free(AUDIT_TABLE **);
extern int audit_table_add(AUDIT_TABLE *, const AUDIT_LINE *);
extern AUDIT_DOMAIN **audit_table_sorted(AUDIT_TABLE *, int *);
extern void audit_table_stats(const AUDIT_TABLE *, AUDIT_TABLE_STATS *);

#endif
