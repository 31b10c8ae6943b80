/* SPDX-License-Identifier: ISC */
#ifndef FETCH_H_INCLUDED
#define FETCH_H_INCLUDED

/*
 * NAME
 *	fetch 3h
 * SUMMARY
 *	MTA-STS policy fetch over HTTPS (RFC 8461 section 3.3) with libcurl
 * SYNOPSIS
 *	#include "fetch.h"
 *
 *	int	fetch_init(WHY *why)
 *
 *	int	fetch_policy(const FETCH_OPTS *opts, const char *domain,
 *			const struct sockaddr_storage *addr, int addr_count,
 *			FETCH_RESULT *result)
 *
 *	void	fetch_result_clear(FETCH_RESULT *result)
 *
 *	int	fetch_media_type_ok(const char *content_type)
 *
 *	int	fetch_response(const FETCH_HTTP *http, FETCH_RESULT *result)
 *
 *	size_t	fetch_body_add(FETCH_BODY *body, const char *data, size_t len)
 * DESCRIPTION
 *	The only module that calls libcurl.
 *
 *	fetch_init() initializes libcurl once per process (call before
 *	threads start; fetch_policy() does it lazily otherwise).
 *
 *	fetch_policy() GETs https://mta-sts.DOMAIN/.well-known/mta-sts.txt
 *	from the given addresses (resolved by dns.c and handed to libcurl
 *	with CURLOPT_RESOLVE, so one resolver answers everything). Addresses
 *	that netguard refuses are dropped unless opts->allow_private. The
 *	rules of RFC 8461 section 3.3 are applied here:
 *	- the certificate must be PKIX-valid for mta-sts.DOMAIN;
 *	- redirects are not followed and only status 200 counts;
 *	- no HTTP cache is used;
 *	- Content-Type must be text/plain, parameters allowed (section 3.2);
 *	- the body is capped at POLICY_BODY_MAX (64 KiB); a longer body
 *	  makes the policy invalid and is never truncated;
 *	- connect and total timeouts, both bounded by opts->deadline_ms.
 *
 *	On STATUS_OK, result->body (NUL-terminated, result->len bytes, may
 *	contain NULs) holds the policy text; the caller frees it with
 *	fetch_result_clear(). Otherwise result->reason is
 *	FETCH_ERR_FETCH (sts-policy-fetch-error: no connection, timeout,
 *	HTTP status other than 200, redirect), FETCH_ERR_WEBPKI
 *	(sts-webpki-invalid: the certificate does not verify) or
 *	FETCH_ERR_INVALID (sts-policy-invalid: wrong Content-Type, body over
 *	the cap), with a sanitized one-line result->detail; the status is
 *	STATUS_RETRY for fetch errors and STATUS_FAIL for the others.
 *
 *	fetch_media_type_ok() is the pure Content-Type check, exported for
 *	the unit tests.
 *
 *	fetch_response() is the pure half of fetch_policy(): from what the
 *	transfer gave (how it ended, libcurl's error text, the HTTP status,
 *	the Content-Type, the body) it decides the result as above, in this
 *	order: a body over POLICY_BODY_MAX (announced or collected) is
 *	sts-policy-invalid; a certificate failure sts-webpki-invalid; any
 *	other transfer failure, and any status but 200 (a 3xx redirect
 *	included, RFC 8461 section 3.3), sts-policy-fetch-error; a
 *	Content-Type other than text/plain sts-policy-invalid; otherwise
 *	STATUS_OK with a NUL-terminated copy of the body in result->body.
 *	It sets result->reason, http_status, content_type (sanitized,
 *	when there is one) and, on failure, detail (sanitized); start from
 *	a zeroed result (fetch_policy() may have noted a refused address
 *	in detail already, which a success keeps). Returns
 *	STATUS_OK, STATUS_RETRY (fetch errors, out of memory) or
 *	STATUS_FAIL.
 *
 *	fetch_body_add() appends len octets to a body being collected
 *	(start from a zeroed FETCH_BODY; free body->buf when done): it
 *	returns len, or 0 when the body would pass POLICY_BODY_MAX (over is
 *	then set and nothing is appended; RFC 8461 section 3.3: never
 *	truncated) or memory runs out. body->buf stays NUL-terminated.
 */

#include <sys/socket.h>

#include "why.h"

#define FETCH_OK		0
#define FETCH_ERR_FETCH		1	/* sts-policy-fetch-error */
#define FETCH_ERR_WEBPKI	2	/* sts-webpki-invalid */
#define FETCH_ERR_INVALID	3	/* sts-policy-invalid */

#define FETCH_DETAIL_MAX	256

typedef struct FETCH_OPTS {
    int     connect_timeout_ms;
    int     timeout_ms;
    long long deadline_ms;		/* absolute clock_mono_ms(); 0 none */
    const char *ca_file;		/* null: system store */
    const char *ca_path;
    int     allow_private;
} FETCH_OPTS;

typedef struct FETCH_RESULT {
    int     reason;			/* FETCH_* */
    long    http_status;
    char    content_type[128];		/* sanitized */
    char    detail[FETCH_DETAIL_MAX];	/* sanitized */
    char    address[64];		/* the address used */
    char   *body;
    size_t  len;
    long    elapsed_ms;
} FETCH_RESULT;

#define FETCH_XFER_OK		0	/* the transfer completed */
#define FETCH_XFER_TOO_BIG	1	/* body over POLICY_BODY_MAX */
#define FETCH_XFER_WEBPKI	2	/* the certificate did not verify */
#define FETCH_XFER_ERROR	3	/* connect, timeout, TLS or HTTP error */

typedef struct FETCH_HTTP {
    int     transfer;			/* FETCH_XFER_* */
    const char *error;			/* libcurl's text when not OK */
    long    status;			/* HTTP status, 0 when none */
    const char *content_type;		/* null: no Content-Type */
    const char *body;			/* as collected; null when empty */
    size_t  len;
} FETCH_HTTP;

typedef struct FETCH_BODY {
    char   *buf;
    size_t  len;
    size_t  size;
    int     over;			/* passed POLICY_BODY_MAX */
} FETCH_BODY;

extern int fetch_init(WHY *);
extern int fetch_policy(const FETCH_OPTS *, const char *, const struct sockaddr_storage *, int,
			        FETCH_RESULT *);
extern void fetch_result_clear(FETCH_RESULT *);
extern int fetch_media_type_ok(const char *);
extern int fetch_response(const FETCH_HTTP *, FETCH_RESULT *);
extern size_t fetch_body_add(FETCH_BODY *, const char *, size_t);
extern const char *fetch_reason_name(int);

#endif
