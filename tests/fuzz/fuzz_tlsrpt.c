/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_tlsrpt 1
 * SUMMARY
 *	libFuzzer target for the TLS-RPT TXT record parser (tlsrpt.h)
 * DESCRIPTION
 *	One input drives both entry points:
 *
 *	tlsrpt_parse() gets the input as one joined record (libFuzzer's
 *	buffer is exactly the input, so a read past len is caught). On
 *	STATUS_OK there are 1..TLSRPT_RUA_MAX URIs, each NUL-terminated
 *	within TLSRPT_URI_MAX, of kind TLSRPT_MAILTO or TLSRPT_HTTPS, its
 *	scheme matching its kind, and each one a substring of the input
 *	(URIs are stored as published). On failure rua_count is 0 and a
 *	reason is given.
 *
 *	tlsrpt_select() gets the input split at LF into up to
 *	TLSRPT_FUZZ_RECORDS records, each in its own exact-size
 *	allocation. When it returns STATUS_OK, exactly one record begins
 *	with "v=TLSRPTv1;" and tlsrpt_parse() of that record gives the
 *	same URIs.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 4200 (past TLSRPT_RECORD_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "status.h"
#include "tlsrpt.h"
#include "why.h"

#define TLSRPT_FUZZ_RECORDS	16	/* records handed to tlsrpt_select() */

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
    fprintf(stderr, "fuzz_tlsrpt: property violated: %s\n", what);
    abort();
}

/* fuzz_contains - needle occurs in the haystack */

static int fuzz_contains(const uint8_t *hay, size_t size, const char *needle, size_t n)
{
    size_t  i;

    for (i = 0; i + n <= size; i++)
	if (memcmp(hay + i, needle, n) == 0)
	    return (1);
    return (0);
}

/* fuzz_check - the properties of a parsed record */

static void fuzz_check(const TLSRPT_RECORD *rec, const uint8_t *data, size_t size)
{
    int     i;
    size_t  n;

    if (rec->rua_count < 1 || rec->rua_count > TLSRPT_RUA_MAX)
	fuzz_fail("rua_count not in 1..TLSRPT_RUA_MAX");
    for (i = 0; i < rec->rua_count; i++) {
	const TLSRPT_RUA *r = &rec->rua[i];

	if ((n = strnlen(r->uri, sizeof(r->uri))) >= sizeof(r->uri) || n == 0)
	    fuzz_fail("URI empty or not NUL-terminated");
	if (r->kind == TLSRPT_MAILTO) {
	    if (strncasecmp(r->uri, "mailto:", 7) != 0 || strchr(r->uri, '@') == 0)
		fuzz_fail("mailto URI without its scheme or an @");
	} else if (r->kind == TLSRPT_HTTPS) {
	    if (strncasecmp(r->uri, "https:", 6) != 0)
		fuzz_fail("https URI without its scheme");
	} else {
	    fuzz_fail("URI of an undocumented kind");
	}
	if (strpbrk(r->uri, " \t,;!") != 0)
	    fuzz_fail("URI contains a delimiter or an unencoded '!'");
	if (data != 0 && !fuzz_contains(data, size, r->uri, n))
	    fuzz_fail("URI is not a substring of the record");
    }
}

/* fuzz_same - two parsed records are equal */

static int fuzz_same(const TLSRPT_RECORD *a, const TLSRPT_RECORD *b)
{
    int     i;

    if (a->rua_count != b->rua_count)
	return (0);
    for (i = 0; i < a->rua_count; i++)
	if (a->rua[i].kind != b->rua[i].kind || strcmp(a->rua[i].uri, b->rua[i].uri) != 0)
	    return (0);
    return (1);
}

/* fuzz_select - split at LF and run tlsrpt_select() */

static void fuzz_select(const uint8_t *data, size_t size)
{
    static TLSRPT_RECORD out;
    static TLSRPT_RECORD again;
    char   *rec[TLSRPT_FUZZ_RECORDS];
    size_t  lens[TLSRPT_FUZZ_RECORDS];
    size_t  count = 0;
    size_t  pos = 0;
    size_t  i;
    size_t  candidates = 0;
    size_t  which = 0;
    WHY     why;
    int     status;

    while (pos <= size && count < TLSRPT_FUZZ_RECORDS) {
	const uint8_t *nl = memchr(data + pos, '\n', size - pos);
	size_t  n = nl ? (size_t) (nl - (data + pos)) : size - pos;

	if ((rec[count] = malloc(n ? n : 1)) == 0)
	    goto out;
	memcpy(rec[count], data + pos, n);
	lens[count++] = n;
	if (nl == 0)
	    break;
	pos += n + 1;
    }
    memset(&out, 0, sizeof(out));
    why.text[0] = 0;
    status = tlsrpt_select((const char *const *) rec, lens, count, &out, &why);
    if (strnlen(why.text, sizeof(why.text)) >= sizeof(why.text))
	fuzz_fail("tlsrpt_select reason not NUL-terminated");
    if (status != STATUS_OK && status != STATUS_NOTFOUND && status != STATUS_INVAL)
	fuzz_fail("tlsrpt_select returned an undocumented status");
    if (status != STATUS_OK && out.rua_count != 0)
	fuzz_fail("tlsrpt_select failed but left URIs");
    if (status == STATUS_OK) {
	fuzz_check(&out, data, size);
	for (i = 0; i < count; i++) {
	    if (lens[i] >= 11 && memcmp(rec[i], "v=TLSRPTv1;", 11) == 0) {
		candidates++;
		which = i;
	    }
	}
	if (candidates != 1)
	    fuzz_fail("tlsrpt_select accepted with other than one v=TLSRPTv1; record");
	if (tlsrpt_parse(rec[which], lens[which], &again, 0) != STATUS_OK)
	    fuzz_fail("tlsrpt_select accepted a record tlsrpt_parse rejects");
	if (!fuzz_same(&out, &again))
	    fuzz_fail("tlsrpt_select and tlsrpt_parse disagree on the URIs");
    }

out:
    for (i = 0; i < count; i++)
	free(rec[i]);
}

/* LLVMFuzzerTestOneInput - one input through both entry points */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static TLSRPT_RECORD rec;
    WHY     why;
    int     status;

    memset(&rec, 0, sizeof(rec));
    why.text[0] = 0;
    status = tlsrpt_parse((const char *) data, size, &rec, &why);
    if (status == STATUS_OK)
	fuzz_check(&rec, data, size);
    else if (status != STATUS_INVAL)
	fuzz_fail("tlsrpt_parse returned an undocumented status");
    else if (why.text[0] == 0 || rec.rua_count != 0)
	fuzz_fail("tlsrpt_parse rejected without a reason, or left URIs");

    fuzz_select(data, size);
    return (0);
}
