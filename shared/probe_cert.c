/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	probe_cert 3
 * SUMMARY
 *	certificate names and verification results of a probe
 * SYNOPSIS
 *	See probe_cert.h.
 * DESCRIPTION
 *	Split from probe.c, whose header describes the verification error
 *	mapping (RFC 8460 section 4.3.2). Names: RFC 6125 section 6.4.4 via
 *	RFC 8461 section 4.2, the DNS-IDs are the subjectAltName dNSName
 *	entries; the subject CN is recorded for display only. Certificate
 *	text is remote text: every string is sanitized. probe_cert_names()
 *	parses certificate bytes with OpenSSL (d2i_X509, PEM_read_bio_X509)
 *	and is what tests/fuzz/fuzz_cert.c drives.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "dns.h"
#include "probe_cert.h"
#include "status.h"
#include "str.h"
#include "text.h"

int     probe_cert_ex_index = -1;		/* SSL ex_data: the PROBE_VERIFY */

/* probe_cert_verify_cb - record every verification error, finish the handshake */

int     probe_cert_verify_cb(int ok, X509_STORE_CTX *sctx)
{
    SSL    *ssl;
    PROBE_VERIFY *pv;
    int     err;
    int     class;

    if (ok)
	return (1);
    ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    if (ssl == 0 || (pv = SSL_get_ex_data(ssl, probe_cert_ex_index)) == 0)
	return (0);				/* cannot record: fail closed */
    err = X509_STORE_CTX_get_error(sctx);
    switch (err) {
    case X509_V_ERR_DANE_NO_MATCH:
	class = PROBE_CLASS_DANE;
	break;
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
	class = PROBE_CLASS_TRUST;
	break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
	class = PROBE_CLASS_EXPIRED;
	break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
	class = PROBE_CLASS_NOTYET;
	break;
    case X509_V_ERR_HOSTNAME_MISMATCH:
	class = PROBE_CLASS_HOST;
	break;
    default:
	class = PROBE_CLASS_OTHER;
	break;
    }
    if (!pv->seen[class]) {
	pv->seen[class] = 1;
	pv->err[class] = err;
	pv->depth[class] = X509_STORE_CTX_get_error_depth(sctx);
    }
    return (1);
}

/* probe_cert_map_error - the RFC 8460 type for the recorded errors */

int     probe_cert_map_error(const PROBE_VERIFY *pv, int dane_failed, const char *mxname,
			           PROBE_RESULT *res)
{
    static const int reason[PROBE_CLASS_COUNT] = {
	PROBE_TLSA_INVALID, PROBE_CERT_NOT_TRUSTED, PROBE_VALIDATION_FAILURE,
	PROBE_CERT_EXPIRED, PROBE_VALIDATION_FAILURE, PROBE_CERT_HOST_MISMATCH,
    };
    const char *what;
    char    more[64];
    char    name[DNS_NAME_MAX + 1];
    int     class;
    int     others = 0;
    int     i;

    for (class = 0; class < PROBE_CLASS_COUNT; class++)
	if (pv->seen[class])
	    break;
    for (i = class + 1; i < PROBE_CLASS_COUNT; i++)
	others += pv->seen[i];
    more[0] = 0;
    if (others)
	(void) snprintf(more, sizeof(more), " (and %d more problem%s)", others,
			others > 1 ? "s" : "");

    /* RFC 8460 §4.3.2.2.1: DANE in use and no TLSA record matched. */
    if (dane_failed || class == PROBE_CLASS_DANE) {
	(void) snprintf(res->detail, sizeof(res->detail),
			"no TLSA record matches the certificate chain%s", more);
	return (PROBE_TLSA_INVALID);
    }
    if (class == PROBE_CLASS_COUNT)
	return (PROBE_OK);
    what = X509_verify_cert_error_string(pv->err[class]);
    if (class == PROBE_CLASS_HOST) {
	/* RFC 6125 §6.4: say which reference identifier was not found. */
	(void) text_sanitize(name, sizeof(name), mxname);
	(void) str_copy(res->detail, sizeof(res->detail),
			"no DNS name in the certificate's subjectAltName matches ");
	(void) str_append(res->detail, sizeof(res->detail), name);
	(void) str_append(res->detail, sizeof(res->detail), more);
    } else {
	(void) snprintf(res->detail, sizeof(res->detail), "%s at depth %d%s",
			what, pv->depth[class], more);
    }
    return (reason[class]);
}

/* probe_cert_asn1_text - an ASN1 string as sanitized text */

static void probe_cert_asn1_text(const ASN1_STRING *s, char *buf, size_t size)
{
    unsigned char *utf8 = 0;
    int     len;

    buf[0] = 0;
    if (s == 0)
	return;
    if ((len = ASN1_STRING_to_UTF8(&utf8, s)) >= 0) {
	(void) text_sanitize_len(buf, size, (const char *) utf8, (size_t) len);
	OPENSSL_free(utf8);
    } else {
	(void) text_sanitize_len(buf, size, (const char *) ASN1_STRING_get0_data(s),
				 (size_t) ASN1_STRING_length(s));
	ERR_clear_error();
    }
}

/* probe_cert_info - names, CN, issuer, notAfter of the peer certificate */

void    probe_cert_info(X509 *cert, PROBE_RESULT *res)
{
    GENERAL_NAMES *gens = 0;
    const GENERAL_NAME *gen;
    X509_NAME *subject;
    X509_NAME_ENTRY *entry;
    BIO    *mem = 0;
    char   *data;
    long    len;
    struct tm tm;
    int     idx;
    int     i;

    /* RFC 6125 §6.4.4 via RFC 8461 §4.2: the DNS-IDs are in the SAN. */
    gens = X509_get_ext_d2i(cert, NID_subject_alt_name, 0, 0);
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens) && res->name_count < PROBE_NAMES_MAX; i++) {
	gen = sk_GENERAL_NAME_value(gens, i);
	if (gen->type != GEN_DNS)
	    continue;
	probe_cert_asn1_text(gen->d.dNSName, res->names[res->name_count],
			sizeof(res->names[0]));
	res->name_count++;
    }
    GENERAL_NAMES_free(gens);

    subject = X509_get_subject_name(cert);
    if ((idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1)) >= 0
	&& (entry = X509_NAME_get_entry(subject, idx)) != 0)
	probe_cert_asn1_text(X509_NAME_ENTRY_get_data(entry), res->subject_cn,
			sizeof(res->subject_cn));

    if ((mem = BIO_new(BIO_s_mem())) != 0
	&& X509_NAME_print_ex(mem, X509_get_issuer_name(cert), 0,
			      XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB) >= 0
	&& (len = BIO_get_mem_data(mem, &data)) > 0)
	(void) text_sanitize_len(res->issuer, sizeof(res->issuer), data, (size_t) len);
    BIO_free(mem);

    memset(&tm, 0, sizeof(tm));
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
	res->not_after = (long long) timegm(&tm);
    ERR_clear_error();
}

/* probe_cert_names - names, CN, issuer, notAfter of a DER or PEM certificate */

int     probe_cert_names(const unsigned char *buf, size_t len, PROBE_RESULT *res)
{
    static const char pem[] = "-----BEGIN";
    const unsigned char *p = buf;
    const unsigned char *q;
    X509   *cert = 0;
    BIO    *mem = 0;
    int     result = STATUS_INVAL;

    res->name_count = 0;
    memset(res->names, 0, sizeof(res->names));
    res->subject_cn[0] = res->issuer[0] = 0;
    res->not_after = 0;
    if (buf == 0 || len == 0 || len > PROBE_CERT_MAX)
	goto done;
    /* PEM when "-----BEGIN" occurs (text may precede it), else DER. */
    for (q = buf; (q = memchr(q, '-', len - (size_t) (q - buf))) != 0; q++)
	if (len - (size_t) (q - buf) >= sizeof(pem) - 1 && memcmp(q, pem, sizeof(pem) - 1) == 0)
	    break;
    if (q != 0 && (mem = BIO_new_mem_buf(buf, (int) len)) != 0)
	cert = PEM_read_bio_X509(mem, 0, 0, 0);
    if (cert == 0)
	cert = d2i_X509(0, &p, (long) len);
    if (cert == 0)
	goto done;
    probe_cert_info(cert, res);
    result = STATUS_OK;

done:
    X509_free(cert);
    BIO_free(mem);
    ERR_clear_error();
    return (result);
}
