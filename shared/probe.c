/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	probe 3
 * SUMMARY
 *	SMTP STARTTLS probe of one MX host with PKIX or DANE verification
 * DESCRIPTION
 *	See probe.h. Implementation notes:
 *
 *	- One SSL_CTX for the process, built under a mutex by the first
 *	  probe_init() (or lazily by probe_mx()): TLS_client_method(),
 *	  at least TLS 1.2, the trust store, DANE enabled on the context
 *	  (SSL_CTX_dane_enable) so that any SSL may use it. SSL_CTX is
 *	  thread-safe for SSL_new(); nothing else is shared.
 *
 *	- Sockets are non-blocking from the start. Every wait is a poll()
 *	  bounded by a step deadline: the connect by connect_timeout_ms,
 *	  each SMTP reply, write and the TLS handshake by read_timeout_ms
 *	  (for the whole step, so a peer that drips one byte at a time
 *	  cannot stretch it), and all of them by the absolute deadline_ms.
 *	  TLS runs on the non-blocking socket; SSL_ERROR_WANT_READ and
 *	  SSL_ERROR_WANT_WRITE become poll() waits.
 *
 *	- The socket BIO is our own (probe_bio_*): it sends with
 *	  MSG_NOSIGNAL, so a peer that resets the connection cannot kill
 *	  the process with SIGPIPE, whatever the caller's signal setup.
 *
 *	- Certificate verification runs with SSL_VERIFY_PEER and a verify
 *	  callback that records every error and lets the handshake finish,
 *	  so that the certificate's names can be reported whatever the
 *	  outcome. The recorded errors are then mapped to one RFC 8460
 *	  result type (probe_map_error()).
 *
 *	- Error mapping, RFC 8460 §4.3.2.1 (negotiation failures) and
 *	  §4.3.2.2.1 (DANE):
 *	  X509_V_ERR_CERT_HAS_EXPIRED (any depth)	certificate-expired
 *	  X509_V_ERR_CERT_NOT_YET_VALID			validation-failure:
 *		RFC 8460 defines certificate-expired as "the certificate has
 *		expired", which a not-yet-valid certificate has not; the
 *		catch-all "validation-failure" is the honest type, and the
 *		detail says "not yet valid".
 *	  X509_V_ERR_HOSTNAME_MISMATCH			certificate-host-mismatch
 *	  self-signed, unknown or untrusted issuer	certificate-not-trusted
 *	  X509_V_ERR_DANE_NO_MATCH, or DANE in use and no TLSA record
 *		matched					tlsa-invalid
 *	  anything else (bad signature, bad extensions, TLS handshake
 *		failure)				validation-failure
 *	  When a chain has several errors, the most basic wins: no TLSA
 *	  match, then not trusted, then other errors, then expired, then
 *	  not yet valid, then the name. (A self-signed certificate for the
 *	  wrong name is reported as not trusted.)
 *
 *	- Files: probe.c (the TLS context, DANE set-up, the handshake, the
 *	  SMTP dialogue, the address loop), probe_io.c (bounded socket and
 *	  TLS I/O, SMTP replies and commands), probe_cert.c (the verify
 *	  callback, the error mapping, certificate names; the latter also
 *	  from bytes, for fuzz_cert).
 */

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "netguard.h"
#include "probe.h"
#include "probe_cert.h"
#include "probe_io.h"
#include "smtpreply.h"
#include "status.h"
#include "str.h"
#include "text.h"

#define PROBE_PORT_DEFAULT		25
#define PROBE_CONNECT_TIMEOUT_DEFAULT	5000	/* ms, when opts says 0 */
#define PROBE_READ_TIMEOUT_DEFAULT	10000	/* ms, when opts says 0 */
#define PROBE_ADDR_MAX			16	/* addresses tried per host */
#define PROBE_HELO_MAX			255	/* RFC 5321 §4.5.3.1.2 domain */
#define PROBE_PATH_MAX			4096
static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *probe_ctx;
static BIO_METHOD *probe_bio_method;
static char probe_ca_file[PROBE_PATH_MAX];
static char probe_ca_path[PROBE_PATH_MAX];

/* probe_reason_name - RFC 8460 result type or our reachability name */

const char *probe_reason_name(int reason)
{
    switch (reason) {
    case PROBE_OK:
	return ("ok");
    case PROBE_STARTTLS_NOT_SUPPORTED:
	return ("starttls-not-supported");
    case PROBE_CERT_HOST_MISMATCH:
	return ("certificate-host-mismatch");
    case PROBE_CERT_EXPIRED:
	return ("certificate-expired");
    case PROBE_CERT_NOT_TRUSTED:
	return ("certificate-not-trusted");
    case PROBE_VALIDATION_FAILURE:
	return ("validation-failure");
    case PROBE_TLSA_INVALID:
	return ("tlsa-invalid");
    case PROBE_UNREACHABLE:
	return ("unreachable");
    case PROBE_TIMEOUT:
	return ("timeout");
    case PROBE_PROTOCOL:
	return ("smtp-protocol-error");
    default:
	return ("unknown");
    }
}

/* probe_openssl_error - the last OpenSSL error as text (local text) */

static void probe_openssl_error(char *buf, size_t size)
{
    unsigned long e = ERR_peek_last_error();

    if (e == 0)
	(void) str_copy(buf, size, "no OpenSSL error reported");
    else
	ERR_error_string_n(e, buf, size);
    ERR_clear_error();
}

/* Socket BIO that never raises SIGPIPE. */

static int probe_bio_write(BIO *bio, const char *buf, int len)
{
    int     fd = (int) (intptr_t) BIO_get_data(bio);
    ssize_t n;

    BIO_clear_retry_flags(bio);
    if (len <= 0)
	return (0);
    n = send(fd, buf, (size_t) len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
	BIO_set_retry_write(bio);
    return ((int) n);
}

static int probe_bio_read(BIO *bio, char *buf, int len)
{
    int     fd = (int) (intptr_t) BIO_get_data(bio);
    ssize_t n;

    BIO_clear_retry_flags(bio);
    if (len <= 0)
	return (0);
    n = recv(fd, buf, (size_t) len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
	BIO_set_retry_read(bio);
    return ((int) n);
}

static int probe_bio_puts(BIO *bio, const char *str)
{
    return (probe_bio_write(bio, str, (int) strlen(str)));
}

static long probe_bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    return (cmd == BIO_CTRL_FLUSH ? 1 : 0);
}

static int probe_bio_create(BIO *bio)
{
    BIO_set_data(bio, 0);
    BIO_set_init(bio, 0);
    return (1);
}

static int probe_bio_destroy(BIO *bio)
{
    /* The socket belongs to PROBE_CONN, which closes it. */
    BIO_set_data(bio, 0);
    BIO_set_init(bio, 0);
    return (1);
}

/* probe_build_ctx - the shared SSL_CTX; called with probe_lock held */

/*
 * probe_warm_store - have OpenSSL cache each trusted certificate's
 * extensions now, in one thread: it fills that cache on first use, and
 * two probes verifying against the same CA certificate at once race on
 * it (TSan: ASN1_STRING_set against ASN1_STRING_cmp inside libcrypto).
 */

static void probe_warm_store(SSL_CTX *ctx)
{
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    X509   *x;
    int     i;

    for (i = 0; i < sk_X509_OBJECT_num(objs); i++)
	if ((x = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i))) != 0)
	    (void) X509_check_purpose(x, -1, 0);
}

static int probe_build_ctx(const char *ca_file, const char *ca_path, WHY *why)
{
    SSL_CTX *ctx = 0;
    BIO_METHOD *meth = 0;
    char    err[200];
    int     status = STATUS_FAIL;

    if ((ctx = SSL_CTX_new(TLS_client_method())) == 0) {
	probe_openssl_error(err, sizeof(err));
	why_set(why, "cannot create TLS context: %s", err);
	goto done;
    }
    /* RFC 8996 deprecates TLS 1.0 and 1.1; RFC 8461 §4.2 asks for TLS 1.2+. */
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
	probe_openssl_error(err, sizeof(err));
	why_set(why, "cannot require TLS 1.2: %s", err);
	goto done;
    }
    if (ca_file || ca_path) {
	if (SSL_CTX_load_verify_locations(ctx, ca_file, ca_path) != 1) {
	    probe_openssl_error(err, sizeof(err));
	    why_set(why, "cannot load CA certificates from %s: %s",
		    ca_file ? ca_file : ca_path, err);
	    goto done;
	}
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
	probe_openssl_error(err, sizeof(err));
	why_set(why, "cannot load the system CA certificates: %s", err);
	goto done;
    }
    probe_warm_store(ctx);
    /* RFC 7672 §3: DANE; enabled per SSL only when usable TLSA exist. */
    if (SSL_CTX_dane_enable(ctx) <= 0) {
	probe_openssl_error(err, sizeof(err));
	why_set(why, "cannot enable DANE: %s", err);
	goto done;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, 0);	/* callback set per SSL */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);

    if (probe_cert_ex_index < 0
	&& (probe_cert_ex_index = SSL_get_ex_new_index(0, "probe", 0, 0, 0)) < 0) {
	why_set(why, "cannot allocate an SSL ex_data index");
	goto done;
    }
    if ((meth = BIO_meth_new(BIO_TYPE_SOURCE_SINK | BIO_get_new_index(),
			     "stsfilter probe socket")) == 0
	|| BIO_meth_set_write(meth, probe_bio_write) != 1
	|| BIO_meth_set_read(meth, probe_bio_read) != 1
	|| BIO_meth_set_puts(meth, probe_bio_puts) != 1
	|| BIO_meth_set_ctrl(meth, probe_bio_ctrl) != 1
	|| BIO_meth_set_create(meth, probe_bio_create) != 1
	|| BIO_meth_set_destroy(meth, probe_bio_destroy) != 1) {
	why_set(why, "cannot create the socket BIO method");
	goto done;
    }
    (void) str_copy(probe_ca_file, sizeof(probe_ca_file), ca_file ? ca_file : "");
    (void) str_copy(probe_ca_path, sizeof(probe_ca_path), ca_path ? ca_path : "");
    probe_ctx = ctx;
    probe_bio_method = meth;
    ctx = 0;
    meth = 0;
    status = STATUS_OK;

done:
    SSL_CTX_free(ctx);
    if (meth)
	BIO_meth_free(meth);
    return (status);
}

/* probe_init - build the shared TLS context once */

int     probe_init(const PROBE_OPTS *opts, WHY *why)
{
    const char *ca_file = 0;
    const char *ca_path = 0;
    int     status = STATUS_OK;

    if (opts && opts->ca_file && *opts->ca_file)
	ca_file = opts->ca_file;
    if (opts && opts->ca_path && *opts->ca_path)
	ca_path = opts->ca_path;
    if ((ca_file && strlen(ca_file) >= PROBE_PATH_MAX)
	|| (ca_path && strlen(ca_path) >= PROBE_PATH_MAX)) {
	why_set(why, "CA file or path name too long");
	return (STATUS_INVAL);
    }
    (void) pthread_mutex_lock(&probe_lock);
    if (probe_ctx == 0) {
	status = probe_build_ctx(ca_file, ca_path, why);
    } else if (strcmp(probe_ca_file, ca_file ? ca_file : "") != 0
	       || strcmp(probe_ca_path, ca_path ? ca_path : "") != 0) {
	/* One trust store per process; never verify against the wrong one. */
	why_set(why, "the probe trust store is already loaded from \"%s\"",
		probe_ca_file[0] ? probe_ca_file :
		probe_ca_path[0] ? probe_ca_path : "the system default");
	status = STATUS_INVAL;
    }
    (void) pthread_mutex_unlock(&probe_lock);
    return (status);
}

/* probe_tlsa_usable - RFC 7672 §3.1: DANE-TA(2)/DANE-EE(3), known params */

int     probe_tlsa_usable(const DNS_TLSA_RR *rr)
{
    if (rr->usage != 2 && rr->usage != 3)	/* RFC 7672 §3.1.3: not 0, 1 */
	return (0);
    if (rr->selector > 1 || rr->mtype > 2 || rr->data == 0)	/* RFC 6698 §2.1 */
	return (0);
    /* RFC 6698 §2.1.3: SHA2-256 and SHA2-512 digests have fixed sizes. */
    if ((rr->mtype == 1 && rr->len != 32) || (rr->mtype == 2 && rr->len != 64))
	return (0);
    return (rr->len > 0);
}

/* probe_dane_setup - enable DANE on ssl; returns records added, or -1 */

static int probe_dane_setup(SSL *ssl, const char *mxname, const DNS_TLSA *tlsa,
			            PROBE_RESULT *res)
{
    char    err[200];
    int     added = 0;
    int     rc;
    int     i;

    /* RFC 7672 §3.2.2: the reference identifier is the MX host name. */
    if (SSL_dane_enable(ssl, mxname) <= 0) {
	probe_openssl_error(err, sizeof(err));
	(void) snprintf(res->detail, sizeof(res->detail), "cannot enable DANE: %s", err);
	return (-1);
    }
    /* RFC 7672 §3.1.1: DANE-EE(3) authenticates the key; names are ignored. */
    (void) SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    for (i = 0; i < tlsa->count; i++) {
	if (!probe_tlsa_usable(&tlsa->rr[i]))
	    continue;
	rc = SSL_dane_tlsa_add(ssl, tlsa->rr[i].usage, tlsa->rr[i].selector,
			       tlsa->rr[i].mtype, tlsa->rr[i].data, tlsa->rr[i].len);
	if (rc > 0)
	    added++;
	else if (rc < 0) {
	    probe_openssl_error(err, sizeof(err));
	    (void) snprintf(res->detail, sizeof(res->detail),
			    "cannot add a TLSA record: %s", err);
	    return (-1);
	}
	ERR_clear_error();			/* rc == 0: unusable (RFC 7672 §2.2) */
    }
    return (added);
}

/* probe_tls - STARTTLS handshake and verification on an SMTP connection */

static int probe_tls(PROBE_CONN *conn, const char *mxname, const DNS_TLSA *tlsa,
		             PROBE_RESULT *res)
{
    BIO    *bio = 0;
    X509   *cert = 0;
    long long until;
    char    err[200];
    char    note[128];
    int     dane = 0;
    int     reason = PROBE_VALIDATION_FAILURE;
    int     usable = 0;
    int     rc;
    int     io;
    int     i;

    note[0] = 0;
    ERR_clear_error();
    if ((conn->ssl = SSL_new(probe_ctx)) == 0
	|| (bio = BIO_new(probe_bio_method)) == 0
	|| SSL_set_ex_data(conn->ssl, probe_cert_ex_index, &conn->verify) != 1) {
	probe_openssl_error(err, sizeof(err));
	(void) snprintf(res->detail, sizeof(res->detail), "cannot set up TLS: %s", err);
	BIO_free(bio);
	goto done;
    }
    BIO_set_data(bio, (void *) (intptr_t) conn->fd);
    BIO_set_init(bio, 1);
    SSL_set_bio(conn->ssl, bio, bio);		/* the SSL owns the BIO now */
    SSL_set_verify(conn->ssl, SSL_VERIFY_PEER, probe_cert_verify_cb);

    /* RFC 8461 §4.2 via RFC 6125, RFC 7672 §3.2.3: SAN DNS-IDs only; "*" only
     * as the complete leftmost label. */
    SSL_set_hostflags(conn->ssl, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT
		      | X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    /* RFC 6066 §3, RFC 7672 §8.1: SNI is the MX host name. */
    if (SSL_set_tlsext_host_name(conn->ssl, mxname) != 1) {
	probe_openssl_error(err, sizeof(err));
	(void) snprintf(res->detail, sizeof(res->detail), "cannot set SNI: %s", err);
	goto done;
    }

    /*
     * RFC 7672 §2.2: TLSA records count only when DNSSEC-secure; with no
     * usable record the host has no usable TLSA RRset. RFC 7672 would then
     * allow unauthenticated TLS; we fall back to PKIX (the caller decides
     * what a PKIX result means) and say so.
     */
    if (tlsa && tlsa->info.security == DNS_SECURE)
	for (i = 0; i < tlsa->count; i++)
	    usable += probe_tlsa_usable(&tlsa->rr[i]);
    if (tlsa && tlsa->info.security != DNS_SECURE)
	(void) str_copy(note, sizeof(note), "TLSA records are not DNSSEC-secure; verified with PKIX");
    else if (tlsa && usable > 0) {
	if ((rc = probe_dane_setup(conn->ssl, mxname, tlsa, res)) < 0) {
	    reason = PROBE_TLSA_INVALID;
	    goto done;
	}
	dane = rc > 0;
    }
    if (tlsa && tlsa->info.security == DNS_SECURE && !dane)
	(void) str_copy(note, sizeof(note),
			"no usable TLSA record (RFC 7672 section 2.2); verified with PKIX");
    if (!dane && SSL_set1_host(conn->ssl, mxname) != 1) {
	probe_openssl_error(err, sizeof(err));
	(void) snprintf(res->detail, sizeof(res->detail), "cannot set the host name: %s", err);
	goto done;
    }

    /* The handshake, bounded as one step. */
    until = probe_io_until(conn, conn->read_timeout);
    for (;;) {
	ERR_clear_error();
	errno = 0;
	if ((rc = SSL_connect(conn->ssl)) == 1)
	    break;
	io = probe_io_ssl_wait(conn, rc, until);
	if (io == PROBE_IO_OK)
	    continue;
	if (io == PROBE_IO_TIMEOUT) {
	    reason = PROBE_TIMEOUT;
	    (void) snprintf(res->detail, sizeof(res->detail), "timeout in the TLS handshake");
	} else {
	    /* RFC 8460 §4.3.2.1: validation-failure covers failed negotiation. */
	    probe_openssl_error(err, sizeof(err));
	    reason = PROBE_VALIDATION_FAILURE;
	    (void) snprintf(res->detail, sizeof(res->detail), "TLS handshake failed: %s",
			    io == PROBE_IO_EOF ? "connection closed by the server" : err);
	}
	goto done;
    }
    (void) str_copy(res->tls_version, sizeof(res->tls_version), SSL_get_version(conn->ssl));

#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    cert = SSL_get1_peer_certificate(conn->ssl);
#else
    cert = SSL_get_peer_certificate(conn->ssl);
#endif
    if (cert == 0) {
	(void) snprintf(res->detail, sizeof(res->detail), "the server sent no certificate");
	reason = PROBE_VALIDATION_FAILURE;
	goto done;
    }
    probe_cert_info(cert, res);

    /* A result the callback did not see (it sees all) still counts. */
    if (SSL_get_verify_result(conn->ssl) != X509_V_OK) {
	for (i = 0; i < PROBE_CLASS_COUNT && !conn->verify.seen[i]; i++)
	     /* void */ ;
	if (i == PROBE_CLASS_COUNT) {
	    conn->verify.seen[PROBE_CLASS_OTHER] = 1;
	    conn->verify.err[PROBE_CLASS_OTHER] = (int) SSL_get_verify_result(conn->ssl);
	}
    }
    /*
     * With DANE, OpenSSL reports X509_V_ERR_DANE_NO_MATCH when no record
     * matched; an error-free result without an authority fails closed.
     */
    for (i = 0; i < PROBE_CLASS_COUNT && !conn->verify.seen[i]; i++)
	 /* void */ ;
    reason = probe_cert_map_error(&conn->verify, dane && i == PROBE_CLASS_COUNT
			     && SSL_get0_dane_authority(conn->ssl, 0, 0) < 0, mxname, res);
    if (reason == PROBE_OK && dane) {
	uint8_t u, s, m;

	res->dane = 1;
	rc = SSL_get0_dane_tlsa(conn->ssl, &u, &s, &m, 0, 0);
	(void) snprintf(res->detail, sizeof(res->detail),
			"verified with DANE: TLSA %u %u %u matched at depth %d",
			(unsigned) u, (unsigned) s, (unsigned) m, rc);
    } else if (reason == PROBE_OK) {
	(void) snprintf(res->detail, sizeof(res->detail), "%s",
			note[0] ? note : "verified with PKIX");
    } else if (note[0]) {
	(void) str_append(res->detail, sizeof(res->detail), "; ");
	(void) str_append(res->detail, sizeof(res->detail), note);
    }

done:
    X509_free(cert);
    ERR_clear_error();
    return (reason);
}

/* probe_session - SMTP dialogue on a connected socket */

static int probe_session(PROBE_CONN *conn, const PROBE_OPTS *opts, const char *mxname,
			         const DNS_TLSA *tlsa, PROBE_RESULT *res)
{
    SMTPREPLY *reply = 0;
    char    line[PROBE_HELO_MAX + 16];
    char    text[200];
    int     reason;

    if ((reply = malloc(sizeof(*reply))) == 0) {
	(void) snprintf(res->detail, sizeof(res->detail), "out of memory");
	reason = PROBE_PROTOCOL;
	goto done;
    }
    /* RFC 5321 §4.3.1, §3.1: the greeting; 554 means no service here. */
    if ((reason = probe_io_reply(conn, reply, "server greeting", res)) != PROBE_OK)
	goto done;
    (void) text_sanitize(res->banner, sizeof(res->banner), smtpreply_line(reply, 0));
    if (reply->code != 220) {
	probe_io_reply_text(reply, text, sizeof(text));
	(void) snprintf(res->detail, sizeof(res->detail), "server greeting: %s", text);
	reason = PROBE_PROTOCOL;
	goto done;
    }

    /* RFC 5321 §4.1.1.1: EHLO; RFC 3207 §4: STARTTLS is an EHLO keyword. */
    (void) snprintf(line, sizeof(line), "EHLO %s\r\n", opts->helo_name);
    if ((reason = probe_io_command(conn, line, "EHLO", res)) != PROBE_OK
	|| (reason = probe_io_reply(conn, reply, "reply to EHLO", res)) != PROBE_OK)
	goto done;
    if (reply->code != 250) {
	probe_io_reply_text(reply, text, sizeof(text));
	/* RFC 5321 §4.1.4: 500/502 means no EHLO, so no extensions at all. */
	if (reply->code == 500 || reply->code == 502) {
	    (void) snprintf(res->detail, sizeof(res->detail),
			    "EHLO not supported, so no STARTTLS: %s", text);
	    reason = PROBE_STARTTLS_NOT_SUPPORTED;
	} else {
	    (void) snprintf(res->detail, sizeof(res->detail), "EHLO rejected: %s", text);
	    reason = PROBE_PROTOCOL;
	}
	probe_io_quit(conn);
	goto done;
    }
    if (!smtpreply_has_keyword(reply, "STARTTLS")) {
	(void) snprintf(res->detail, sizeof(res->detail), "STARTTLS not offered in the EHLO reply");
	reason = PROBE_STARTTLS_NOT_SUPPORTED;
	probe_io_quit(conn);
	goto done;
    }
    if ((reason = probe_io_command(conn, "STARTTLS\r\n", "STARTTLS", res)) != PROBE_OK
	|| (reason = probe_io_reply(conn, reply, "reply to STARTTLS", res)) != PROBE_OK)
	goto done;
    if (reply->code != 220) {
	probe_io_reply_text(reply, text, sizeof(text));
	(void) snprintf(res->detail, sizeof(res->detail), "STARTTLS refused: %s", text);
	/* RFC 3207 §4: 454 is temporary; a 5xx means no TLS here. */
	reason = reply->code >= 500 ? PROBE_STARTTLS_NOT_SUPPORTED : PROBE_PROTOCOL;
	probe_io_quit(conn);
	goto done;
    }

    /*
     * RFC 3207 §4.2 and §6: nothing may be accepted from before the
     * handshake; plaintext after the 220 would be injected into the
     * TLS session (CVE-2011-0411 in reverse).
     */
    if (conn->in_len > 0) {
	(void) snprintf(res->detail, sizeof(res->detail),
			"server sent %zu bytes after its reply to STARTTLS", conn->in_len);
	reason = PROBE_PROTOCOL;
	goto done;
    }
    reason = probe_tls(conn, mxname, tlsa, res);
    /* RFC 3207 §4.2: the session would restart with EHLO; we only QUIT. */
    if (reason != PROBE_TIMEOUT && conn->ssl && SSL_is_init_finished(conn->ssl))
	probe_io_quit(conn);

done:
    free(reply);
    return (reason);
}

/* probe_helo_ok - RFC 5321 §4.1.1.1: a domain or an address literal */

static int probe_helo_ok(const char *helo)
{
    const char *p;

    if (helo == 0 || *helo == 0 || strlen(helo) > PROBE_HELO_MAX)
	return (0);
    for (p = helo; *p; p++)
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')
	      || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'
	      || *p == '[' || *p == ']' || *p == ':'))
	    return (0);
    return (1);
}

/* probe_mx - probe one MX host over its addresses */

int     probe_mx(const PROBE_OPTS *opts, const char *mxname,
		         const struct sockaddr_storage *addr, int addr_count,
		         const DNS_TLSA *tlsa, PROBE_RESULT *res)
{
    PROBE_CONN *conn = 0;
    struct sockaddr_storage ss;
    socklen_t salen;
    long long start = clock_mono_ms();
    long long until;
    WHY     why;
    char    host[48];			/* INET6_ADDRSTRLEN */
    char    err[128];
    char    note[PROBE_DETAIL_MAX];
    int     port;
    int     connect_ms;
    int     timed_out;
    int     refused = 0;
    int     timeouts = 0;
    int     failures = 0;
    int     deadline_hit = 0;
    int     status = STATUS_INVAL;
    int     fd;
    int     i;

    if (res == 0)
	return (STATUS_INVAL);
    memset(res, 0, sizeof(*res));
    res->reason = PROBE_PROTOCOL;
    note[0] = 0;
    if (opts == 0 || mxname == 0 || *mxname == 0 || strlen(mxname) > DNS_NAME_MAX
	|| addr == 0 || addr_count < 0 || !probe_helo_ok(opts->helo_name)) {
	(void) snprintf(res->detail, sizeof(res->detail), "invalid probe arguments%s",
			opts && !probe_helo_ok(opts->helo_name) ? " (HELO name)" : "");
	goto done;
    }
    why.text[0] = 0;
    if ((status = probe_init(opts, &why)) != STATUS_OK) {
	(void) text_sanitize(res->detail, sizeof(res->detail), why_text(&why));
	goto done;
    }
    port = opts->port > 0 && opts->port < 65536 ? opts->port : PROBE_PORT_DEFAULT;
    connect_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
	: PROBE_CONNECT_TIMEOUT_DEFAULT;
    if ((conn = calloc(1, sizeof(*conn))) == 0) {
	(void) snprintf(res->detail, sizeof(res->detail), "out of memory");
	status = STATUS_RETRY;
	goto done;
    }
    conn->fd = -1;
    conn->deadline = opts->deadline_ms;
    conn->read_timeout = opts->read_timeout_ms > 0 ? opts->read_timeout_ms
	: PROBE_READ_TIMEOUT_DEFAULT;

    for (i = 0; i < addr_count && i < PROBE_ADDR_MAX; i++) {
	if (conn->deadline > 0 && clock_mono_ms() >= conn->deadline) {
	    timeouts++;
	    deadline_hit = 1;
	    (void) str_append(note, sizeof(note), note[0] ? "; " : "");
	    (void) str_append(note, sizeof(note), "deadline reached");
	    break;
	}
	memcpy(&ss, &addr[i], sizeof(ss));
	if (netguard_format((struct sockaddr *) &ss, host, sizeof(host)) != 0)
	    (void) str_copy(host, sizeof(host), "?");
	if (ss.ss_family == AF_INET) {
	    ((struct sockaddr_in *) &ss)->sin_port = htons((unsigned short) port);
	    salen = sizeof(struct sockaddr_in);
	    (void) snprintf(res->address, sizeof(res->address), "%s:%d", host, port);
	} else if (ss.ss_family == AF_INET6) {
	    ((struct sockaddr_in6 *) &ss)->sin6_port = htons((unsigned short) port);
	    salen = sizeof(struct sockaddr_in6);
	    (void) snprintf(res->address, sizeof(res->address), "[%s]:%d", host, port);
	} else {
	    salen = 0;
	}
	/* DEVELOPERS.md: never probe private or reserved addresses by default. */
	why.text[0] = 0;
	if (salen == 0
	    || netguard_allowed((struct sockaddr *) &ss, opts->allow_private, &why) != STATUS_OK) {
	    refused++;
	    (void) str_append(note, sizeof(note), note[0] ? "; " : "");
	    (void) str_append(note, sizeof(note), salen ? why_text(&why) : "unsupported address family");
	    continue;
	}
	until = clock_mono_ms() + connect_ms;
	if (conn->deadline > 0 && conn->deadline < until)
	    until = conn->deadline;
	if ((fd = probe_io_connect((struct sockaddr *) &ss, salen, until, &timed_out,
				err, sizeof(err))) < 0) {
	    failures++;
	    timeouts += timed_out;
	    (void) str_append(note, sizeof(note), note[0] ? "; " : "");
	    (void) str_appendf(note, sizeof(note), "%s: %s", res->address, err);
	    continue;
	}
	/* Connected: this address gives the result. */
	conn->fd = fd;
	res->reason = probe_session(conn, opts, mxname, tlsa, res);
	break;
    }
    if (conn->fd < 0) {
	/* No connection: a timeout only when every failure was one. */
	res->reason = (timeouts > 0 && timeouts == failures + deadline_hit && refused == 0)
	    ? PROBE_TIMEOUT : PROBE_UNREACHABLE;
	if (addr_count == 0)
	    (void) str_copy(note, sizeof(note), "no addresses");
	(void) text_sanitize(res->detail, sizeof(res->detail), note);
    }
    status = res->reason == PROBE_OK ? STATUS_OK
	: (res->reason == PROBE_UNREACHABLE || res->reason == PROBE_TIMEOUT
	   || res->reason == PROBE_PROTOCOL) ? STATUS_RETRY : STATUS_FAIL;

done:
    if (conn) {
	SSL_free(conn->ssl);
	if (conn->fd >= 0)
	    (void) close(conn->fd);
	free(conn);
    }
    res->elapsed_ms = (long) (clock_mono_ms() - start);
    return (status);
}
