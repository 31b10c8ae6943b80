/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_socketmap 1
 * SUMMARY
 *	libFuzzer target for the socketmap request and key parsers
 *	(socketmap.h)
 * DESCRIPTION
 *	socketmap_request() gets the input as the DATA of one request
 *	netstring (it may hold NUL bytes), with the documented buffers and
 *	with small exact-size ones taken from the input. STATUS_OK: name
 *	and key are non-empty, NUL-terminated, within their caps, free of
 *	control characters, "name key" is the input again, and
 *	socketmap_name_tlsrpt() is true exactly for a name ending in
 *	"tlsrpt" in any case. STATUS_INVAL:
 *	both are empty and why says why. No other status.
 *
 *	socketmap_key() gets the input after its first space (all of it
 *	when there is none) up to its first NUL, as the key a client sent. STATUS_OK: the domain is non-empty lowercase LDH (the
 *	A-label form), labels 1 to 63 octets, at most 253 octets, with no
 *	trailing dot, and it is its own key again (one domain, one cache
 *	entry). STATUS_NOTFOUND or STATUS_INVAL: the output is empty and
 *	why says why. Small exact-size output buffers are never overrun.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 1200 (a key past SOCKETMAP_KEY_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "socketmap.h"
#include "status.h"
#include "why.h"

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
    fprintf(stderr, "fuzz_socketmap: property violated: %s\n", what);
    abort();
}

/* fuzz_request - socketmap_request() into buffers of the given sizes */

static void fuzz_request(const char *in, size_t len, size_t nsize, size_t ksize)
{
    char   *name = malloc(nsize);
    char   *key = malloc(ksize);
    size_t  nlen, klen, i;
    WHY     why;
    int     st;

    if (name == 0 || key == 0)
	goto out;
    why.text[0] = 0;
    st = socketmap_request(in, len, name, nsize, key, ksize, &why);
    if (st == STATUS_OK) {
	nlen = strnlen(name, nsize);
	klen = strnlen(key, ksize);
	if (nlen == 0 || nlen >= nsize || nlen > SOCKETMAP_NAME_MAX || klen == 0 || klen >= ksize
	    || klen > SOCKETMAP_KEY_MAX)
	    fuzz_fail("request parts empty, unterminated or over their caps");
	if (nlen + 1 + klen != len || memcmp(in, name, nlen) != 0 || in[nlen] != ' '
	    || memcmp(in + nlen + 1, key, klen) != 0)
	    fuzz_fail("\"name key\" is not the request again");
	if (memchr(name, ' ', nlen) != 0)
	    fuzz_fail("map name holds a space");
	/* The TLS-RPT map names: those ending in "tlsrpt", in any case. */
	if (socketmap_name_tlsrpt(name) != (nlen >= 6 && strncasecmp(name + nlen - 6, "tlsrpt", 6) == 0))
	    fuzz_fail("socketmap_name_tlsrpt is not a case-blind \"tlsrpt\" suffix test");
	for (i = 0; i < len; i++)
	    if ((unsigned char) in[i] < 0x20 || in[i] == 0x7f)
		fuzz_fail("request with a control character accepted");
    } else if (st == STATUS_INVAL) {
	if (name[0] != 0 || key[0] != 0 || why.text[0] == 0)
	    fuzz_fail("rejected request left output or gave no reason");
    } else {
	fuzz_fail("socketmap_request returned an undocumented status");
    }

out:
    free(name);
    free(key);
}

/* fuzz_check_domain - lowercase LDH labels of 1-63, at most 253, no final dot */

static void fuzz_check_domain(const char *d)
{
    size_t  len = strlen(d);
    size_t  label = 0;
    size_t  i;

    if (len == 0 || len > 253 || d[len - 1] == '.' || d[0] == '.')
	fuzz_fail("domain empty, too long, or with a leading or trailing dot");
    for (i = 0; i <= len; i++) {
	if (d[i] == '.' || d[i] == 0) {
	    if (label == 0 || label > 63)
		fuzz_fail("domain label not 1 to 63 octets");
	    label = 0;
	    continue;
	}
	if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= '0' && d[i] <= '9') || d[i] == '-'))
	    fuzz_fail("domain is not lowercase LDH");
	label++;
    }
}

/* fuzz_key - socketmap_key() into an output of the given size */

static void fuzz_key(const char *key, size_t size)
{
    char   *out = malloc(size);
    char    again[DOMAIN_MAX + 1];
    WHY     why;
    int     st;

    if (out == 0)
	return;
    why.text[0] = 0;
    st = socketmap_key(key, out, size, &why);
    if (st == STATUS_OK) {
	if (strnlen(out, size) >= size)
	    fuzz_fail("domain not NUL-terminated within the buffer");
	fuzz_check_domain(out);
	if (socketmap_key(out, again, sizeof(again), 0) != STATUS_OK || strcmp(again, out) != 0)
	    fuzz_fail("a domain is not its own key");
    } else if (st == STATUS_NOTFOUND || st == STATUS_INVAL) {
	if (out[0] != 0 || why.text[0] == 0)
	    fuzz_fail("key not answered left output or gave no reason");
    } else {
	fuzz_fail("socketmap_key returned an undocumented status");
    }
    free(out);
}

/* LLVMFuzzerTestOneInput - one input through every entry point */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *) data;
    const uint8_t *sp;
    char   *key;

    fuzz_request(in, size, SOCKETMAP_NAME_MAX + 1, SOCKETMAP_KEY_MAX + 1);
    fuzz_request(in, size, size ? 1 + data[0] % 16 : 1, size ? 1 + data[size - 1] % 64 : 1);

    /* The key: after the first space when there is one ("name key"). */
    if ((sp = memchr(data, ' ', size)) != 0) {
	size -= (size_t) (sp + 1 - data);
	data = sp + 1;
    }
    if ((key = malloc(size + 1)) == 0)
	return (0);
    memcpy(key, data, size);
    key[size] = 0;
    fuzz_key(key, DOMAIN_MAX + 1);
    fuzz_key(key, 1 + (size ? data[0] % 48 : 0));
    free(key);
    return (0);
}
