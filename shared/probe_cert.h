/* SPDX-License-Identifier: ISC */
#ifndef PROBE_CERT_H_INCLUDED
#define PROBE_CERT_H_INCLUDED

/*
 * NAME
 *	probe_cert 3h
 * SUMMARY
 *	certificate names and verification results of a probe (private to
 *	probe*.c, the unit tests and fuzz_cert)
 * SYNOPSIS
 *	#include "probe_cert.h"
 *
 *	int	probe_cert_verify_cb(int ok, X509_STORE_CTX *sctx)
 *	int	probe_cert_map_error(const PROBE_VERIFY *pv, int dane_failed,
 *			const char *mxname, PROBE_RESULT *res)
 *	void	probe_cert_info(X509 *cert, PROBE_RESULT *res)
 *	int	probe_cert_names(const unsigned char *buf, size_t len,
 *			PROBE_RESULT *res)
 *
 *	extern int probe_cert_ex_index;
 * DESCRIPTION
 *	probe_cert_verify_cb() is the SSL verify callback: it records each
 *	verification error in the PROBE_VERIFY found under
 *	probe_cert_ex_index in the SSL's ex_data (set by probe.c) and lets
 *	the handshake finish. probe_cert_map_error() maps the recorded
 *	errors to one RFC 8460 result type and writes res->detail (probe.c
 *	describes the mapping and the priority).
 *
 *	probe_cert_info() records the certificate's SAN DNS names (at most
 *	PROBE_NAMES_MAX), subject CN, issuer and notAfter in res, every
 *	string sanitized (text_sanitize()) and NUL-terminated in its field.
 *	probe_cert_names() does the same for a certificate given as bytes:
 *	DER, or PEM (the first CERTIFICATE block); it clears those fields
 *	first and returns STATUS_OK, or STATUS_INVAL when the bytes are not
 *	a certificate (len is capped at PROBE_CERT_MAX).
 */

#include <stddef.h>

#include <openssl/x509.h>

#include "probe.h"

#define PROBE_CERT_MAX		65536	/* octets of one certificate */

 /*
  * Verification errors, grouped by the RFC 8460 type they map to. The
  * order is the priority: the lowest class seen wins.
  */
#define PROBE_CLASS_DANE	0	/* tlsa-invalid */
#define PROBE_CLASS_TRUST	1	/* certificate-not-trusted */
#define PROBE_CLASS_OTHER	2	/* validation-failure */
#define PROBE_CLASS_EXPIRED	3	/* certificate-expired */
#define PROBE_CLASS_NOTYET	4	/* validation-failure */
#define PROBE_CLASS_HOST	5	/* certificate-host-mismatch */
#define PROBE_CLASS_COUNT	6

typedef struct PROBE_VERIFY {
    int     seen[PROBE_CLASS_COUNT];	/* error seen in this class */
    int     err[PROBE_CLASS_COUNT];	/* first X509_V_ERR_* per class */
    int     depth[PROBE_CLASS_COUNT];	/* its depth */
} PROBE_VERIFY;

extern int probe_cert_ex_index;
extern int probe_cert_verify_cb(int, X509_STORE_CTX *);
extern int probe_cert_map_error(const PROBE_VERIFY *, int, const char *, PROBE_RESULT *);
extern void probe_cert_info(X509 *, PROBE_RESULT *);
extern int probe_cert_names(const unsigned char *, size_t, PROBE_RESULT *);

#endif
