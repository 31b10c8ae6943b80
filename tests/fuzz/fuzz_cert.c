/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_cert 1
 * SUMMARY
 *	libFuzzer target for certificate name extraction and the mapping
 *	of verification errors (probe_cert.h)
 * DESCRIPTION
 *	The input is a certificate as an MX host could send it: DER, or
 *	PEM. probe_cert_names() parses it with OpenSSL and records the SAN
 *	DNS names, subject CN, issuer and notAfter; these reach `stsfilter
 *	check`, logs and the probe cache, so they must be clean text.
 *	The last octets of the input also make a PROBE_VERIFY (error
 *	classes seen, X509_V_ERR codes, depths) for probe_cert_map_error(),
 *	with a host name taken from the input.
 *
 *	Properties. probe_cert_names(): STATUS_OK or STATUS_INVAL; at most
 *	PROBE_NAMES_MAX names; every recorded string NUL-terminated in its
 *	field and made only of octets 0x20-0x7e; after STATUS_INVAL no
 *	name, CN, issuer or date is left. probe_cert_map_error(): a
 *	documented reason (PROBE_OK only when no error was recorded and
 *	DANE did not fail, PROBE_TLSA_INVALID whenever DANE failed), and a
 *	detail that is clean text in its field.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 8192 (larger than real certificates; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509_vfy.h>

#include "probe.h"
#include "probe_cert.h"
#include "status.h"

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

/* __ubsan_default_options - make UBSan findings fatal, so libFuzzer saves them */

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

/* fuzz_fail - report a broken property; libFuzzer saves the input */

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_cert: property violated: %s\n", what);
    abort();
}

/* fuzz_clean - NUL-terminated in size, octets 0x20-0x7e only */

static void fuzz_clean(const char *s, size_t size, const char *what)
{
    size_t  n = strnlen(s, size);
    size_t  i;

    if (n >= size)
	fuzz_fail(what);
    for (i = 0; i < n; i++)
	if ((unsigned char) s[i] < 0x20 || (unsigned char) s[i] > 0x7e)
	    fuzz_fail(what);
}

/* fuzz_names - probe_cert_names() */

static void fuzz_names(const uint8_t *data, size_t size)
{
    static PROBE_RESULT res;
    int     status;
    int     i;

    memset(&res, 'x', sizeof(res));
    res.name_count = 3;
    res.not_after = 7;
    status = probe_cert_names(data, size, &res);
    if (status == STATUS_INVAL) {
	if (res.name_count != 0 || res.subject_cn[0] || res.issuer[0] || res.not_after != 0)
	    fuzz_fail("probe_cert_names left data after STATUS_INVAL");
	return;
    }
    if (status != STATUS_OK)
	fuzz_fail("probe_cert_names returned an undocumented status");
    if (res.name_count < 0 || res.name_count > PROBE_NAMES_MAX)
	fuzz_fail("name count out of 0..PROBE_NAMES_MAX");
    for (i = 0; i < res.name_count; i++)
	fuzz_clean(res.names[i], sizeof(res.names[i]), "SAN name not clean text");
    fuzz_clean(res.subject_cn, sizeof(res.subject_cn), "subject CN not clean text");
    fuzz_clean(res.issuer, sizeof(res.issuer), "issuer not clean text");
}

/* fuzz_map - probe_cert_map_error() over a PROBE_VERIFY from the input */

static void fuzz_map(const uint8_t *data, size_t size)
{
    static const int errs[] = {
	X509_V_ERR_DANE_NO_MATCH, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
	X509_V_ERR_CERT_HAS_EXPIRED, X509_V_ERR_CERT_NOT_YET_VALID,
	X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
	X509_V_ERR_CERT_SIGNATURE_FAILURE, 0, -1, 100000,
    };
    PROBE_VERIFY pv;
    PROBE_RESULT res;
    const uint8_t *tail;
    char    host[64];
    size_t  n;
    int     dane_failed;
    int     any = 0;
    int     reason;
    int     i;

    if (size < PROBE_CLASS_COUNT + 2)
	return;
    tail = data + size - (PROBE_CLASS_COUNT + 2);
    memset(&pv, 0, sizeof(pv));
    for (i = 0; i < PROBE_CLASS_COUNT; i++) {
	pv.seen[i] = tail[i] & 1;
	pv.err[i] = errs[(tail[i] >> 1) % (sizeof(errs) / sizeof(errs[0]))];
	pv.depth[i] = tail[i] >> 5;
	any += pv.seen[i];
    }
    dane_failed = tail[PROBE_CLASS_COUNT] & 1;
    n = tail[PROBE_CLASS_COUNT + 1] % sizeof(host);
    if (n > size)
	n = size;
    memcpy(host, data, n);
    host[n] = 0;
    memset(&res, 0, sizeof(res));
    reason = probe_cert_map_error(&pv, dane_failed, host, &res);
    if (reason < PROBE_OK || reason > PROBE_TLSA_INVALID)
	fuzz_fail("probe_cert_map_error: reason out of range");
    if ((reason == PROBE_OK) != (!any && !dane_failed))
	fuzz_fail("probe_cert_map_error: PROBE_OK does not mean no error");
    if (dane_failed && reason != PROBE_TLSA_INVALID)
	fuzz_fail("probe_cert_map_error: DANE failure not tlsa-invalid");
    fuzz_clean(res.detail, sizeof(res.detail), "probe_cert_map_error: detail not clean text");
}

/* LLVMFuzzerTestOneInput - one certificate */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_names(data, size);
    fuzz_map(data, size);
    return (0);
}
