/* SPDX-License-Identifier: ISC */
#ifndef STATUS_H_INCLUDED
#define STATUS_H_INCLUDED

/*
 * NAME
 *	status 3h
 * SUMMARY
 *	engine status codes
 * SYNOPSIS
 *	#include "status.h"
 *
 *	const char *status_name(int status)
 * DESCRIPTION
 *	Every engine function that can fail returns one of these codes,
 *	optionally with a human-readable reason in a WHY buffer (why.h).
 *	Only the front ends turn them into SMTP replies.
 *
 *	STATUS_OK	success.
 *	STATUS_NOTFOUND	the thing looked up does not exist (NXDOMAIN,
 *			no record, no cache entry).
 *	STATUS_RETRY	temporary failure: try again later (timeout,
 *			SERVFAIL, connection refused, Redis down).
 *	STATUS_FAIL	permanent failure (bad certificate, policy says no).
 *	STATUS_INVAL	invalid input (syntax error, out of range).
 *
 *	status_name() returns a constant lowercase name for logs.
 */

#define STATUS_OK	0
#define STATUS_NOTFOUND	1
#define STATUS_RETRY	2
#define STATUS_FAIL	3
#define STATUS_INVAL	4

extern const char *status_name(int);

#endif
