/* SPDX-License-Identifier: ISC */
#ifndef PROBE_H_INCLUDED
#define PROBE_H_INCLUDED

/*
 * NAME
 *	probe 3h
 * SUMMARY
 *	SMTP STARTTLS probe of one MX host with PKIX or DANE verification
 * SYNOPSIS
 *	#include "probe.h"
 *
 *	int	probe_init(const PROBE_OPTS *opts, WHY *why)
 *
 *	int	probe_mx(const PROBE_OPTS *opts, const char *mxname,
 *			const struct sockaddr_storage *addr, int addr_count,
 *			const DNS_TLSA *tlsa, PROBE_RESULT *result)
 *
 *	const char *probe_reason_name(int reason)
 * DESCRIPTION
 *	The only module that calls OpenSSL (and the only one that opens
 *	SMTP connections). Thread-safe; no global state except the
 *	SSL_CTX built by probe_init() (call it once before threads start;
 *	probe_mx() calls it lazily otherwise). Nothing is allocated for
 *	the caller: opts, addr, tlsa and result belong to the caller, and
 *	probe_mx() keeps no pointer into them after it returns.
 *
 *	probe_init() builds the shared SSL_CTX with the trust store of
 *	opts->ca_file / opts->ca_path (null or "": the system default). The
 *	trust store is fixed by the first call: a later probe_init() or
 *	probe_mx() naming another one fails with STATUS_INVAL rather than
 *	verify against the wrong CAs. Other fields of opts are not used.
 *
 *	probe_mx() tries at most 16 addresses in order until one accepts
 *	the TCP connection; addresses that netguard refuses (unless
 *	opts->allow_private), that refuse the connection or that do not
 *	answer within opts->connect_timeout_ms are skipped and named in the
 *	detail. Once connected, that address gives the result (a tarpit
 *	that accepts and never speaks is PROBE_TIMEOUT). The port of each
 *	address is ignored; opts->port is used. For that address it does
 *	what RFC 8461 section 4.2 and RFC 7672 section 3 ask of a sender:
 *	1. connect to port opts->port within opts->connect_timeout_ms,
 *	   read the 220 banner (anything else, e.g. 554: PROBE_PROTOCOL),
 *	   send EHLO opts->helo_name;
 *	2. require STARTTLS in the EHLO reply (RFC 3207); a 500/502 reply
 *	   to EHLO also means no STARTTLS; a 4xx reply to STARTTLS is
 *	   PROBE_PROTOCOL (temporary), a 5xx one starttls-not-supported;
 *	3. TLS 1.2 or later, SNI set to mxname;
 *	4. when tlsa is non-null, DNSSEC-secure and has usable records
 *	   (usages 2 and 3, selector 0/1, matching type 0/1/2 with the right
 *	   digest length; RFC 7672 section 3.1: usages 0 and 1 are
 *	   unusable), verify with OpenSSL's DANE API (SSL_dane_enable,
 *	   SSL_dane_tlsa_add) and ignore the WebPKI: DANE-EE(3) ignores
 *	   names and dates (RFC 7672 section 3.1.1), DANE-TA(2) checks the
 *	   name against mxname (section 3.2.2). An insecure TLSA RRset, or
 *	   one with no usable record (RFC 7672 section 2.2), falls back to
 *	   PKIX and the detail says so. Otherwise verify the chain against
 *	   the trust store, checking mxname against SAN DNS-IDs only (never
 *	   the subject CN; RFC 8461 section 4.2 via RFC 6125; "*" only as
 *	   the whole leftmost label) and the validity dates;
 *	5. send QUIT (best effort, at most one second).
 *	Every step (connect, each reply, each write, the TLS handshake) is
 *	bounded as a whole by its timeout (opts->connect_timeout_ms or
 *	opts->read_timeout_ms; 0 means 5000 and 10000) and by the absolute
 *	deadline opts->deadline_ms (clock_mono_ms(); 0 = none), so a peer
 *	that drips bytes cannot stretch it; replies are parsed by
 *	smtpreply.c with hard line and reply caps. No peer behaviour makes
 *	it exit, abort or raise SIGPIPE.
 *
 *	Verification errors map to RFC 8460 section 4.3.2 result types:
 *	expired (any depth): certificate-expired; not yet valid:
 *	validation-failure (RFC 8460 defines certificate-expired as "has
 *	expired", which does not fit; the detail says "not yet valid");
 *	name: certificate-host-mismatch; self-signed, unknown issuer,
 *	missing intermediate: certificate-not-trusted; no TLSA match:
 *	tlsa-invalid; anything else, including a failed TLS handshake:
 *	validation-failure. With several errors the most basic one wins
 *	(TLSA, trust, other, expiry, not yet valid, name).
 *
 *	The result is cleared first and then holds the reason (PROBE_OK or
 *	a PROBE_* code named after the RFC 8460 result types), a one-line
 *	sanitized detail (on success: how the host was verified), the
 *	address used, the TLS version, and the certificate's SAN DNS names,
 *	subject CN, issuer and notAfter for `stsfilter check` (recorded
 *	whenever a handshake completed, also on failure), and the time
 *	taken. Every string in it is sanitized (text_sanitize()).
 *
 *	Returns STATUS_OK when the host passed, STATUS_FAIL when it failed
 *	verification or lacks STARTTLS (result->reason says why),
 *	STATUS_RETRY when it could not be reached, timed out or broke the
 *	SMTP protocol (reason PROBE_UNREACHABLE, PROBE_TIMEOUT or
 *	PROBE_PROTOCOL), STATUS_INVAL for bad arguments (null pointers, an
 *	empty or over-long mxname, a HELO name that is not a domain or
 *	address literal, another trust store; reason PROBE_PROTOCOL), and
 *	STATUS_FAIL when the trust store cannot be loaded.
 *
 *	probe_reason_name() returns the RFC 8460 result type of a reason,
 *	or "unreachable", "timeout", "smtp-protocol-error".
 */

#include <sys/socket.h>

#include "dns.h"
#include "why.h"

/* Reason codes: RFC 8460 section 4.3 result types, plus reachability. */
#define PROBE_OK			0
#define PROBE_STARTTLS_NOT_SUPPORTED	1	/* starttls-not-supported */
#define PROBE_CERT_HOST_MISMATCH	2	/* certificate-host-mismatch */
#define PROBE_CERT_EXPIRED		3	/* certificate-expired */
#define PROBE_CERT_NOT_TRUSTED		4	/* certificate-not-trusted */
#define PROBE_VALIDATION_FAILURE	5	/* validation-failure */
#define PROBE_TLSA_INVALID		6	/* tlsa-invalid */
#define PROBE_UNREACHABLE		7	/* connect failed / refused */
#define PROBE_TIMEOUT			8	/* no answer in time */
#define PROBE_PROTOCOL			9	/* bad SMTP reply / banner 554 */

#define PROBE_NAMES_MAX	16
#define PROBE_DETAIL_MAX 256

typedef struct PROBE_OPTS {
    int     port;			/* 25 */
    int     connect_timeout_ms;
    int     read_timeout_ms;
    long long deadline_ms;		/* absolute, clock_mono_ms(); 0 = none */
    const char *helo_name;		/* EHLO argument */
    const char *ca_file;		/* null: system default */
    const char *ca_path;
    int     allow_private;		/* probe private/loopback addresses */
} PROBE_OPTS;

typedef struct PROBE_RESULT {
    int     reason;			/* PROBE_* */
    char    detail[PROBE_DETAIL_MAX];	/* sanitized one-liner */
    char    address[64];		/* address:port used */
    int     dane;			/* verified with DANE */
    char    tls_version[16];
    char    banner[128];		/* sanitized first banner line */
    int     name_count;
    char    names[PROBE_NAMES_MAX][256];/* SAN DNS names */
    char    subject_cn[256];
    char    issuer[256];
    long long not_after;		/* time_t of notAfter, 0 unknown */
    long    elapsed_ms;
} PROBE_RESULT;

extern int probe_init(const PROBE_OPTS *, WHY *);
extern int probe_mx(const PROBE_OPTS *, const char *, const struct sockaddr_storage *, int,
		            const DNS_TLSA *, PROBE_RESULT *);
extern const char *probe_reason_name(int);
extern int probe_tlsa_usable(const DNS_TLSA_RR *);

#endif
