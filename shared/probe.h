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
 * DESCRIPTION
 *	The only module that calls OpenSSL (and the only one that opens
 *	SMTP connections). Thread-safe; no global state except the
 *	SSL_CTX built by probe_init() (call it once before threads start;
 *	probe_mx() calls it lazily otherwise).
 *
 *	probe_mx() tries the addresses in order until one gives a result
 *	that is not a connection failure, and for that address does what
 *	RFC 8461 section 4.2 and RFC 7672 section 3 ask of a sender:
 *	1. connect to port opts->port within opts->connect_timeout_ms,
 *	   read the 220 banner, send EHLO opts->helo_name;
 *	2. require STARTTLS in the EHLO reply (RFC 3207);
 *	3. TLS 1.2 or later, SNI set to mxname;
 *	4. when tlsa is non-null, secure and has usable records (usages 2
 *	   and 3; RFC 7672 section 3.1: usages 0 and 1 are unusable),
 *	   verify with OpenSSL's DANE API (SSL_dane_enable,
 *	   SSL_dane_tlsa_add) and ignore the WebPKI; otherwise verify the
 *	   chain against opts->ca_file / opts->ca_path or the system store,
 *	   checking mxname against SAN DNS-IDs only (never the subject CN;
 *	   RFC 8461 section 4.2 via RFC 6125) and the validity dates;
 *	5. send QUIT.
 *	Every read is bounded by opts->read_timeout_ms and by the absolute
 *	deadline opts->deadline_ms (clock_mono_ms()); replies are parsed by
 *	smtpreply.c with hard line and reply caps.
 *
 *	The result holds the reason (PROBE_OK or a PROBE_* code named after
 *	the RFC 8460 result types), a one-line sanitized detail, the
 *	address used, the TLS version, and the certificate's SAN DNS names,
 *	subject CN, issuer and notAfter for `stsfilter check`.
 *
 *	Returns STATUS_OK when the host passed, STATUS_FAIL when it failed
 *	verification or lacks STARTTLS (result->reason says why),
 *	STATUS_RETRY when it could not be reached or timed out (reason
 *	PROBE_UNREACHABLE or PROBE_TIMEOUT), STATUS_INVAL for bad arguments.
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

#endif
