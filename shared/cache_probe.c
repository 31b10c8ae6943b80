/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache_probe 3
 * SUMMARY
 *	the body of a cached probe record
 * DESCRIPTION
 *	See cache_probe.h and cache.h (PROBE BODY). The body is text so
 *	that `stsfilter cache` and redis-cli show it as it is; it is parsed
 *	strictly because backend data is untrusted.
 */

#include <stdio.h>
#include <string.h>

#include "cache.h"
#include "cache_probe.h"
#include "status.h"
#include "str.h"
#include "text.h"

#define CACHE_PROBE_REASON_MAX	99
#define CACHE_PROBE_MS_MAX	86400000L

int     cache_probe_encode(const VERDICT_HOST *h, int probe_reason, int secure, char *buf, size_t size)
{
    size_t  cap = size < CACHE_PROBE_BODY_MAX + 1 ? size : CACHE_PROBE_BODY_MAX + 1;
    int     status = STATUS_INVAL;
    int     i;

    if (cap == 0)
	goto done;
    buf[0] = 0;
    if (probe_reason < 0 || probe_reason > CACHE_PROBE_REASON_MAX)
	goto done;
    if (str_appendf(buf, cap, "v=1\npassed=%d\nreason=%d\nsecure=%d\nms=%ld\n", h->passed ? 1 : 0,
		    probe_reason, secure ? 1 : 0, h->probe_ms < 0 ? 0L : h->probe_ms) != 0)
	goto done;
    if (h->address[0] && str_appendf(buf, cap, "address=%s\n", h->address) != 0)
	goto done;
    if (h->tls_version[0] && str_appendf(buf, cap, "tls=%s\n", h->tls_version) != 0)
	goto done;
    if (h->cert_issuer[0] && str_appendf(buf, cap, "issuer=%s\n", h->cert_issuer) != 0)
	goto done;
    if (h->cert_not_after > 0 && str_appendf(buf, cap, "not_after=%lld\n", (long long) h->cert_not_after) != 0)
	goto done;
    if (h->cname[0] && str_appendf(buf, cap, "cname=%s\n", h->cname) != 0)
	goto done;
    if (h->detail[0] && str_appendf(buf, cap, "detail=%s\n", h->detail) != 0)
	goto done;
    for (i = 0; i < h->cert_name_count && i < 8; i++)
	if (str_appendf(buf, cap, "name=%s\n", h->cert_names[i]) != 0)
	    goto done;
    status = STATUS_OK;

done:
    if (status != STATUS_OK && cap > 0)
	buf[0] = 0;
    return (status);
}

/* Copy a value into a field: printable text that fits, or failure. */

static int cache_probe_text(char *dst, size_t size, const char *val)
{
    const char *p;

    for (p = val; *p; p++)
	if ((unsigned char) *p < 0x20 || *p == 0x7f)
	    return (-1);
    return (str_copy(dst, size, val) == 0 && strlen(val) < size ? 0 : -1);
}

int     cache_probe_decode(const char *body, VERDICT_HOST *h, int *probe_reason, int *secure)
{
    char    copy[CACHE_PROBE_BODY_MAX + 1];
    char   *line, *next, *eq;
    long    n;
    int     have_v = 0, have_passed = 0, have_reason = 0, have_secure = 0;
    int     status = STATUS_INVAL;

    *probe_reason = 0;
    *secure = 0;
    if (body == 0 || strlen(body) > CACHE_PROBE_BODY_MAX || str_copy(copy, sizeof(copy), body) != 0)
	goto done;
    h->passed = 0;
    h->detail[0] = h->address[0] = h->tls_version[0] = h->cert_issuer[0] = h->cname[0] = 0;
    h->cert_name_count = 0;
    h->cert_not_after = 0;
    h->probe_ms = 0;
    for (line = copy; *line; line = next) {
	if ((next = strchr(line, '\n')) == 0)
	    goto done;				/* every line ends with a newline */
	*next++ = 0;
	if ((eq = strchr(line, '=')) == 0)
	    goto done;
	*eq++ = 0;
	if (strcmp(line, "v") == 0) {
	    if (have_v++ || line != copy || strcmp(eq, "1") != 0)
		goto done;
	} else if (!have_v) {
	    goto done;
	} else if (strcmp(line, "passed") == 0) {
	    if (have_passed++ || str_to_long(eq, 0, 1, &n) != 0)
		goto done;
	    h->passed = (int) n;
	} else if (strcmp(line, "reason") == 0) {
	    if (have_reason++ || str_to_long(eq, 0, CACHE_PROBE_REASON_MAX, &n) != 0)
		goto done;
	    *probe_reason = (int) n;
	} else if (strcmp(line, "secure") == 0) {
	    if (have_secure++ || str_to_long(eq, 0, 1, &n) != 0)
		goto done;
	    *secure = (int) n;
	} else if (strcmp(line, "ms") == 0) {
	    if (str_to_long(eq, 0, CACHE_PROBE_MS_MAX, &n) != 0)
		goto done;
	    h->probe_ms = n;
	} else if (strcmp(line, "not_after") == 0) {
	    if (str_to_long(eq, 0, 1L << 40, &n) != 0)
		goto done;
	    h->cert_not_after = (time_t) n;
	} else if (strcmp(line, "address") == 0) {
	    if (cache_probe_text(h->address, sizeof(h->address), eq) != 0)
		goto done;
	} else if (strcmp(line, "tls") == 0) {
	    if (cache_probe_text(h->tls_version, sizeof(h->tls_version), eq) != 0)
		goto done;
	} else if (strcmp(line, "issuer") == 0) {
	    if (cache_probe_text(h->cert_issuer, sizeof(h->cert_issuer), eq) != 0)
		goto done;
	} else if (strcmp(line, "cname") == 0) {
	    if (cache_probe_text(h->cname, sizeof(h->cname), eq) != 0)
		goto done;
	} else if (strcmp(line, "detail") == 0) {
	    if (cache_probe_text(h->detail, sizeof(h->detail), eq) != 0)
		goto done;
	} else if (strcmp(line, "name") == 0) {
	    if (h->cert_name_count >= 8
		|| cache_probe_text(h->cert_names[h->cert_name_count], sizeof(h->cert_names[0]), eq) != 0)
		goto done;
	    h->cert_name_count++;
	} else {
	    goto done;
	}
    }
    /* A pass has no failure reason; a failure has one. */
    if (have_v && have_passed && have_reason && have_secure && (h->passed == (*probe_reason == 0)))
	status = STATUS_OK;

done:
    return (status);
}
