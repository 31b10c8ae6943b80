/* SPDX-License-Identifier: ISC */
#ifndef POLICY_DIFF_H_INCLUDED
#define POLICY_DIFF_H_INCLUDED

/*
 * NAME
 *	policy_diff 3h
 * SUMMARY
 *	what changed between two MTA-STS policies of one domain
 * SYNOPSIS
 *	#include "policy_diff.h"
 *
 *	int	policy_diff(const char *old_id, const POLICY *old,
 *			const char *new_id, const POLICY *new,
 *			char *text, size_t size)
 * DESCRIPTION
 *	The engine compares a policy it has just fetched and stored with
 *	the record it replaces (route_policy.c), and logs the change once
 *	per cluster (only the process that stored it). This is the one
 *	place that says what a change is.
 *
 *	policy_diff() returns a set of POLICY_DIFF_* flags, 0 when nothing
 *	a postmaster acts on changed or when there is no old policy (a
 *	domain seen for the first time is not a change):
 *
 *	POLICY_DIFF_ID		the TXT record's id (RFC 8461 section 3.1)
 *	POLICY_DIFF_MODE	the mode (section 3.2)
 *	POLICY_DIFF_MX		the set of mx patterns (order and case
 *				do not count: section 4.1 matches each
 *				pattern on its own, case-insensitively)
 *	POLICY_DIFF_MAX_AGE	max_age; only reported with another flag
 *	POLICY_DIFF_GONE	new is null: the domain has no policy any more
 *	POLICY_DIFF_DOWNGRADE	less protection than before: the mode went
 *				from enforce to testing or none, or from
 *				testing to none, or the policy is gone
 *				(from testing or enforce)
 *
  *	text (size at least 1) says what changed, one clause per flag,
 *	separated by ", ": "id A -> B", "mode enforce -> testing",
 *	"mx added P Q, removed R", "max_age A -> B", "policy gone";
 *	at most POLICY_DIFF_MX_SHOWN patterns each way are named, then
 *	"(N more)". Policy ids and patterns are checked syntax (txt.c,
 *	policy.c): nothing remote is copied unchecked. "" when 0.
 *
 *	Pure and thread-safe; nothing is allocated.
 */

#include <stddef.h>

#include "policy.h"

#define POLICY_DIFF_ID		(1<<0)
#define POLICY_DIFF_MODE	(1<<1)
#define POLICY_DIFF_MX		(1<<2)
#define POLICY_DIFF_MAX_AGE	(1<<3)
#define POLICY_DIFF_GONE	(1<<4)
#define POLICY_DIFF_DOWNGRADE	(1<<5)

#define POLICY_DIFF_MX_SHOWN	4

extern int policy_diff(const char *, const POLICY *, const char *, const POLICY *, char *, size_t);

#endif
