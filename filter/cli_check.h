/* SPDX-License-Identifier: ISC */
#ifndef CLI_CHECK_H_INCLUDED
#define CLI_CHECK_H_INCLUDED

/*
 * NAME
 *	cli_check 3h
 * SUMMARY
 *	`stsfilter check` internals shared by its text (cli_check.c) and
 *	JSON (cli_json.c) output
 * SYNOPSIS
 *	#include "cli_check.h"
 *
 *	json_t	*cli_json_domain(const VERDICT *v, const CLI_CACHED *cached)
 *	json_t	*cli_json_error(const char *domain, const char *error)
 *	json_t	*cli_json_document(json_t *results)
 *	int	cli_json_dump(json_t *root, FILE *fp)
 *
 *	void	cli_check_time(time_t t, char *buf, size_t size)
 *	int	cli_check_txt_warning(const VERDICT *v, char *buf, size_t size)
 * DESCRIPTION
 *	CLI_CACHED is what the cluster applies now: the domain's record in
 *	the configured shared cache (cache_peek(), read-only), compared
 *	with the fresh result (cli_check.c fills it).
 *
 *	cli_json_domain() builds one result object (see stsfilter(1) for
 *	its keys; empty values are null); cli_json_error() the result of
 *	a domain that could not be checked ({"domain", "error"}, every
 *	other key null). cli_json_document() wraps the results (stolen)
 *	in the one document shape, {"version": CLI_JSON_VERSION,
 *	"results": [...]}, whatever the number of domains.
 *	cli_json_dump() writes a document and a newline and steals it;
 *	0, or -1 when it could not be written.
 *
 *	cli_check_time() writes t as UTC ISO 8601 ("unknown" for 0).
 *
 *	cli_check_txt_warning() writes the warning for TXT records at
 *	_mta-sts none of which is a valid MTA-STS record (RFC 8461
 *	section 3.1) and returns 1, or returns 0 when there is none to
 *	give (no record, or a valid one; the engine already warns about
 *	an invalid v=STSv1 record).
 */

#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "verdict.h"

#define CLI_JSON_VERSION	1

/* What the cached entry is. */
#define CLI_CACHED_OFF		0	/* cache_backend = memory: nothing shared */
#define CLI_CACHED_NONE		1	/* no entry for the domain */
#define CLI_CACHED_POLICY	2	/* a policy (fresh or expired) */
#define CLI_CACHED_NEGATIVE	3	/* "no policy" until expires */
#define CLI_CACHED_ERROR	4	/* backend unavailable or corrupt entry */

typedef struct CLI_CACHED {
    int     state;			/* CLI_CACHED_* */
    char    backend[16];		/* memory, lmdb, redis */
    char    where[256];			/* file or server */
    char    txt_id[33];
    int     mode;			/* POLICY_MODE_*, -1: unparsable */
    long    max_age;
    int     mx_count;
    time_t  fetched;
    time_t  checked;
    time_t  expires;
    int     fresh;			/* in force now */
    int     differs;			/* the cluster does other than fresh */
    char    note[512];			/* what that means, or an error */
} CLI_CACHED;

extern json_t *cli_json_domain(const VERDICT *, const CLI_CACHED *);
extern json_t *cli_json_error(const char *, const char *);
extern json_t *cli_json_document(json_t *);
extern int cli_json_dump(json_t *, FILE *);
extern void cli_check_time(time_t, char *, size_t);
extern int cli_check_txt_warning(const VERDICT *, char *, size_t);

#endif
