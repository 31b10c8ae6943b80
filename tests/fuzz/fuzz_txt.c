/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_txt 1
 * SUMMARY
 *	libFuzzer target for the MTA-STS TXT record parser (txt.h)
 * DESCRIPTION
 *	One input drives the three entry points:
 *
 *	txt_join_rdata() gets the input as wire-format TXT RDATA, into a
 *	buffer of the documented size and again into a small buffer whose
 *	size comes from the input; every buffer is allocated to its exact
 *	size so that AddressSanitizer sees a write past it. A joined
 *	length must fit the buffer with its NUL.
 *
 *	txt_parse() gets the input as one joined record (libFuzzer's buffer
 *	is exactly the input, so a read past len is caught). A parsed id
 *	must be 1-32 ALPHA/DIGIT (RFC 8461 section 3.1).
 *
 *	txt_select() gets the input split at LF into up to TXT_FUZZ_RECORDS
 *	records, each in its own exact-size allocation. When it returns
 *	STATUS_OK, exactly one record begins with "v=STSv1;" and
 *	txt_parse() of that record gives the same id.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 4200 (past TXT_RECORD_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status.h"
#include "txt.h"
#include "why.h"

#define TXT_FUZZ_RECORDS	16	/* records handed to txt_select() */

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
    fprintf(stderr, "fuzz_txt: property violated: %s\n", what);
    abort();
}

/* fuzz_check_id - a parsed id is 1*32 ( ALPHA / DIGIT ) */

static void fuzz_check_id(const TXT_RECORD *rec)
{
    size_t  len = strnlen(rec->id, sizeof(rec->id));
    size_t  i;

    if (len == 0 || len > TXT_ID_MAX)
	fuzz_fail("txt id length not in 1..32");
    for (i = 0; i < len; i++) {
	unsigned char c = (unsigned char) rec->id[i];

	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
	      || (c >= '0' && c <= '9')))
	    fuzz_fail("txt id has a character outside ALPHA / DIGIT");
    }
}

/* fuzz_join - txt_join_rdata() into an exact-size buffer */

static void fuzz_join(const uint8_t *data, size_t size, size_t outsize)
{
    char   *out;
    size_t  n;

    if ((out = malloc(outsize ? outsize : 1)) == 0)
	return;
    n = txt_join_rdata(data, size, out, outsize);
    if (n != (size_t) -1) {
	if (n >= outsize)
	    fuzz_fail("txt_join_rdata length does not fit the buffer");
	if (out[n] != 0)
	    fuzz_fail("txt_join_rdata result not NUL-terminated");
	if (n > size)
	    fuzz_fail("txt_join_rdata produced more octets than it was given");
    }
    free(out);
}

/* fuzz_select - split at LF and run txt_select() */

static void fuzz_select(const uint8_t *data, size_t size)
{
    char   *rec[TXT_FUZZ_RECORDS];
    size_t  lens[TXT_FUZZ_RECORDS];
    size_t  count = 0;
    size_t  pos = 0;
    size_t  i;
    size_t  candidates = 0;
    size_t  which = 0;
    TXT_RECORD out;
    TXT_RECORD again;
    WHY     why;
    int     status;

    while (pos <= size && count < TXT_FUZZ_RECORDS) {
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
    status = txt_select((const char *const *) rec, lens, count, &out, &why);
    if (strnlen(why.text, sizeof(why.text)) >= sizeof(why.text))
	fuzz_fail("txt_select reason not NUL-terminated");
    if (status != STATUS_OK && status != STATUS_NOTFOUND && status != STATUS_INVAL)
	fuzz_fail("txt_select returned an undocumented status");
    if (status == STATUS_OK) {
	fuzz_check_id(&out);
	for (i = 0; i < count; i++) {
	    if (lens[i] >= 8 && memcmp(rec[i], "v=STSv1;", 8) == 0) {
		candidates++;
		which = i;
	    }
	}
	if (candidates != 1)
	    fuzz_fail("txt_select accepted with other than one v=STSv1; record");
	if (txt_parse(rec[which], lens[which], &again, 0) != STATUS_OK)
	    fuzz_fail("txt_select accepted a record txt_parse rejects");
	if (strcmp(again.id, out.id) != 0)
	    fuzz_fail("txt_select and txt_parse disagree on the id");
    }

out:
    for (i = 0; i < count; i++)
	free(rec[i]);
}

/* LLVMFuzzerTestOneInput - one input through every entry point */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    TXT_RECORD rec;
    WHY     why;
    int     status;

    /* RDATA: the documented buffer size, then a small one. */
    fuzz_join(data, size, TXT_RECORD_MAX + 1);
    fuzz_join(data, size, size ? data[0] % 64 : 0);

    /* One joined record. */
    memset(&rec, 0, sizeof(rec));
    why.text[0] = 0;
    status = txt_parse((const char *) data, size, &rec, &why);
    if (status == STATUS_OK)
	fuzz_check_id(&rec);
    else if (status != STATUS_INVAL)
	fuzz_fail("txt_parse returned an undocumented status");
    else if (why.text[0] == 0)
	fuzz_fail("txt_parse rejected without a reason");

    /* Several records. */
    fuzz_select(data, size);
    return (0);
}
