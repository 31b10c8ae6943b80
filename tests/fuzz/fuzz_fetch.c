/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_fetch 1
 * SUMMARY
 *	libFuzzer target for the handling of the HTTP response around an
 *	MTA-STS policy body (fetch.h: fetch_body_add(), fetch_response(),
 *	fetch_media_type_ok())
 * DESCRIPTION
 *	The input is what a policy host's answer gives libcurl: octet 0
 *	says how the transfer ended (FETCH_XFER_*), octets 1-2 the HTTP
 *	status (0-999), then a Content-Type line (the "-" line: no
 *	header), an error text line, and the body, which reaches
 *	fetch_body_add() in chunks whose sizes come from a generator seeded
 *	by the input (as libcurl's write callback gets it). Inputs are
 *	allowed past POLICY_BODY_MAX, so the cap is reached.
 *
 *	Properties. fetch_body_add(): the collected body is the input's
 *	body exactly when it fits POLICY_BODY_MAX, and otherwise over is
 *	set and what was collected is a prefix; buf stays NUL-terminated.
 *	fetch_response(): STATUS_OK with reason FETCH_OK, STATUS_RETRY with
 *	FETCH_ERR_FETCH, or STATUS_FAIL with FETCH_ERR_WEBPKI or
 *	FETCH_ERR_INVALID; STATUS_OK only for a completed transfer, status
 *	200, a text/plain Content-Type (RFC 8461 section 3.2; parameters
 *	allowed) and a body within the cap, whose copy is returned
 *	NUL-terminated; a 3xx is never followed (RFC 8461 section 3.3);
 *	detail and content_type are clean text in their fields.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 70000 (past POLICY_BODY_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "policy.h"
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
    fprintf(stderr, "fuzz_fetch: property violated: %s\n", what);
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

/* fuzz_line - the next LF-terminated line as a C string (allocated) */

static char *fuzz_line(const uint8_t *data, size_t size, size_t *pos)
{
    const uint8_t *nl = memchr(data + *pos, '\n', size - *pos);
    size_t  n = nl ? (size_t) (nl - (data + *pos)) : size - *pos;
    char   *line;

    if ((line = malloc(n + 1)) == 0)
	return (0);
    memcpy(line, data + *pos, n);
    line[n] = 0;
    *pos += nl ? n + 1 : n;
    return (line);
}

/* fuzz_collect - the body through fetch_body_add() in chunks */

static void fuzz_collect(const uint8_t *body, size_t len, unsigned seed, FETCH_BODY *out)
{
    size_t  pos = 0;
    size_t  n;
    char   *chunk;

    memset(out, 0, sizeof(*out));
    while (pos < len) {
	seed = seed * 1103515245u + 12345u;
	n = 1 + (seed >> 16) % 16384;
	if (n > len - pos)
	    n = len - pos;
	if ((chunk = malloc(n)) == 0)
	    return;
	memcpy(chunk, body + pos, n);
	if (fetch_body_add(out, chunk, n) != n) {
	    free(chunk);
	    if (!out->over)
		return;				/* out of memory */
	    if (len <= POLICY_BODY_MAX)
		fuzz_fail("fetch_body_add refused a body within the cap");
	    break;
	}
	free(chunk);
	pos += n;
    }
    if (!out->over && len > POLICY_BODY_MAX)
	fuzz_fail("fetch_body_add took a body over the cap");
    if (out->len > POLICY_BODY_MAX || (out->len && memcmp(out->buf, body, out->len) != 0))
	fuzz_fail("collected body is not a prefix of the body");
    if (!out->over && out->len != len)
	fuzz_fail("collected body is not the whole body");
    if (out->buf && out->buf[out->len] != 0)
	fuzz_fail("collected body not NUL-terminated");
}

/* LLVMFuzzerTestOneInput - one HTTP response */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FETCH_HTTP http;
    FETCH_RESULT res;
    FETCH_BODY body;
    char   *ctype = 0;
    char   *error = 0;
    size_t  pos = 3;
    int     status;

    if (size < 3)
	return (0);
    memset(&http, 0, sizeof(http));
    http.transfer = data[0] % 4;
    http.status = (((long) data[1] << 8) | data[2]) % 1000;
    if ((ctype = fuzz_line(data, size, &pos)) == 0 || (error = fuzz_line(data, size, &pos)) == 0)
	goto out;
    http.content_type = strcmp(ctype, "-") == 0 ? 0 : ctype;
    http.error = error[0] ? error : 0;
    fuzz_collect(data + pos, size - pos, data[0] | (unsigned) size << 8, &body);
    if (body.over && http.transfer == FETCH_XFER_OK)
	http.transfer = FETCH_XFER_TOO_BIG;	/* as fetch_policy() does */
    http.body = body.buf;
    http.len = body.len;

    memset(&res, 0, sizeof(res));
    status = fetch_response(&http, &res);
    switch (status) {
    case STATUS_OK:
	if (res.reason != FETCH_OK)
	    fuzz_fail("STATUS_OK without FETCH_OK");
	if (http.transfer != FETCH_XFER_OK || http.status != 200)
	    fuzz_fail("STATUS_OK for a failed transfer or a status other than 200");
	if (http.content_type == 0 || strncasecmp(http.content_type + strspn(http.content_type, " \t"),
						  "text/plain", 10) != 0
	    || !fetch_media_type_ok(http.content_type))
	    fuzz_fail("STATUS_OK without a text/plain Content-Type");
	if (res.body == 0 || res.len != http.len || res.body[res.len] != 0
	    || (res.len && memcmp(res.body, http.body, res.len) != 0))
	    fuzz_fail("STATUS_OK without an exact NUL-terminated copy of the body");
	break;
    case STATUS_RETRY:
	if (res.reason != FETCH_ERR_FETCH || res.body != 0)
	    fuzz_fail("STATUS_RETRY with another reason than sts-policy-fetch-error, or a body");
	break;
    case STATUS_FAIL:
	if ((res.reason != FETCH_ERR_WEBPKI && res.reason != FETCH_ERR_INVALID) || res.body != 0)
	    fuzz_fail("STATUS_FAIL with a fetch-error reason, or a body");
	break;
    default:
	fuzz_fail("fetch_response returned an undocumented status");
    }
    if (status != STATUS_OK && res.detail[0] == 0)
	fuzz_fail("failure without a detail");
    if (res.http_status != http.status)
	fuzz_fail("http_status not reported");
    fuzz_clean(res.detail, sizeof(res.detail), "detail not clean text");
    fuzz_clean(res.content_type, sizeof(res.content_type), "content_type not clean text");
    fetch_result_clear(&res);
    free(body.buf);

out:
    free(ctype);
    free(error);
    return (0);
}
