/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_smtpreply 1
 * SUMMARY
 *	libFuzzer target for the SMTP reply parser (smtpreply.h)
 * DESCRIPTION
 *	The input is what a server sends: one or more replies, as a
 *	pipelining server would send them. It is parsed reply after reply
 *	(up to FUZZ_REPLIES_MAX), first with each reply fed whole, then
 *	again in chunks whose sizes come from a generator seeded by the
 *	input's first byte (1 to 64 octets, so lines and CRLFs are cut
 *	everywhere). Each chunk is an exact-size copy, so AddressSanitizer
 *	sees a read past it.
 *
 *	Properties: the chunked run gives the same status, code, line
 *	count, line texts, keywords and consumed octets as the whole run
 *	(smtpreply.h: split input gives the same result); SMTPREPLY_MORE
 *	consumes everything it is given; a complete reply has a code in
 *	200..559 and 1..SMTPREPLY_LINES_MAX lines each at most
 *	SMTPREPLY_LINE_MAX - 2 octets; after completion or an error,
 *	further calls return the same status and consume nothing; an error
 *	has a reason.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is allocated by the parser.
 *
 *	fuzz-max-len: 20000 (past SMTPREPLY_SIZE_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtpreply.h"
#include "status.h"

#define FUZZ_REPLIES_MAX	8	/* replies parsed per input */

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

typedef struct FUZZ_RUN {
    int     count;			/* replies seen */
    int     status[FUZZ_REPLIES_MAX];
    size_t  consumed[FUZZ_REPLIES_MAX];
    SMTPREPLY reply[FUZZ_REPLIES_MAX];
} FUZZ_RUN;

static const char *fuzz_keywords[] = {
    "STARTTLS", "starttls", "PIPELINING", "SIZE", "8BITMIME", "", 0,
};

/* __ubsan_default_options - make UBSan findings fatal, so libFuzzer saves them */

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

/* fuzz_fail - report a broken property; libFuzzer saves the input */

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_smtpreply: property violated: %s\n", what);
    abort();
}

/* fuzz_feed - feed an exact-size copy of buf */

static int fuzz_feed(SMTPREPLY *reply, const uint8_t *buf, size_t len,
		             size_t *consumed)
{
    char   *copy;
    int     status;

    if ((copy = malloc(len ? len : 1)) == 0)
	abort();
    memcpy(copy, buf, len);
    *consumed = (size_t) -1;
    status = smtpreply_feed(reply, copy, len, consumed);
    free(copy);
    if (*consumed > len)
	fuzz_fail("consumed more than was given");
    if (status == SMTPREPLY_MORE && *consumed != len)
	fuzz_fail("SMTPREPLY_MORE without consuming everything");
    if (status != SMTPREPLY_MORE && status != STATUS_OK && status != STATUS_INVAL)
	fuzz_fail("undocumented status");
    return (status);
}

/* fuzz_check_final - a finished reply stays finished */

static void fuzz_check_final(SMTPREPLY *reply, int status)
{
    size_t  consumed;
    int     i;

    if (fuzz_feed(reply, (const uint8_t *) "250 x\r\n", 7, &consumed) != status
	|| consumed != 0)
	fuzz_fail("a finished reply took more input");
    if (fuzz_feed(reply, (const uint8_t *) "", 0, &consumed) != status || consumed != 0)
	fuzz_fail("a finished reply changed on empty input");
    if (smtpreply_feed(reply, "x", 1, 0) != status)
	fuzz_fail("a finished reply changed with a null consumed");
    if (status == STATUS_INVAL) {
	if (strnlen(reply->error, sizeof(reply->error)) >= sizeof(reply->error))
	    fuzz_fail("error text not NUL-terminated");
	if (reply->error[0] == 0)
	    fuzz_fail("STATUS_INVAL without a reason");
	return;
    }
    if (reply->code < 200 || reply->code > 559)
	fuzz_fail("reply code out of 200..559");
    if (reply->line_count < 1 || reply->line_count > SMTPREPLY_LINES_MAX)
	fuzz_fail("line count out of range");
    for (i = 0; i < reply->line_count; i++)
	if (strlen(smtpreply_line(reply, i)) > SMTPREPLY_LINE_MAX - 2)
	    fuzz_fail("line text longer than a line can be");
    if (*smtpreply_line(reply, -1) != 0 || *smtpreply_line(reply, reply->line_count) != 0)
	fuzz_fail("out-of-range line index not \"\"");
}

/* fuzz_whole - each reply fed whole */

static void fuzz_whole(const uint8_t *data, size_t size, FUZZ_RUN *run)
{
    size_t  pos = 0;
    size_t  consumed;
    int     status;

    run->count = 0;
    while (pos < size && run->count < FUZZ_REPLIES_MAX) {
	SMTPREPLY *reply = run->reply + run->count;

	smtpreply_init(reply);
	status = fuzz_feed(reply, data + pos, size - pos, &consumed);
	run->status[run->count] = status;
	run->consumed[run->count++] = consumed;
	pos += consumed;
	if (status != STATUS_OK)
	    break;
    }
}

/* fuzz_chunked - the same, in small chunks */

static void fuzz_chunked(const uint8_t *data, size_t size, FUZZ_RUN *run)
{
    uint32_t rng = size ? 0x9e3779b9u ^ data[0] : 1;
    size_t  pos = 0;
    size_t  chunk;
    size_t  consumed;
    int     status = SMTPREPLY_MORE;
    SMTPREPLY *reply;

    run->count = 0;
    while (pos < size && run->count < FUZZ_REPLIES_MAX) {
	reply = run->reply + run->count;
	smtpreply_init(reply);
	run->consumed[run->count] = 0;
	status = SMTPREPLY_MORE;
	while (pos < size && status == SMTPREPLY_MORE) {
	    rng = rng * 1103515245u + 12345u;
	    chunk = 1 + (rng >> 16) % 64;
	    if (chunk > size - pos)
		chunk = size - pos;
	    status = fuzz_feed(reply, data + pos, chunk, &consumed);
	    run->consumed[run->count] += consumed;
	    pos += consumed;
	}
	run->status[run->count++] = status;
	if (status != STATUS_OK)
	    break;
    }
}

/* fuzz_compare - whole and chunked runs agree */

static void fuzz_compare(FUZZ_RUN *a, FUZZ_RUN *b)
{
    int     r;
    int     i;

    if (a->count != b->count)
	fuzz_fail("whole and chunked runs see a different number of replies");
    for (r = 0; r < a->count; r++) {
	SMTPREPLY *x = a->reply + r;
	SMTPREPLY *y = b->reply + r;

	if (a->status[r] != b->status[r])
	    fuzz_fail("whole and chunked status differ");
	if (a->consumed[r] != b->consumed[r])
	    fuzz_fail("whole and chunked consumed octets differ");
	if (a->status[r] == SMTPREPLY_MORE)
	    continue;
	fuzz_check_final(x, a->status[r]);
	fuzz_check_final(y, b->status[r]);
	if (a->status[r] == STATUS_INVAL) {
	    if (strcmp(x->error, y->error) != 0)
		fuzz_fail("whole and chunked error texts differ");
	    continue;
	}
	if (x->code != y->code || x->line_count != y->line_count)
	    fuzz_fail("whole and chunked code or line count differ");
	for (i = 0; i < x->line_count; i++)
	    if (strcmp(smtpreply_line(x, i), smtpreply_line(y, i)) != 0)
		fuzz_fail("whole and chunked line texts differ");
	for (i = 0; fuzz_keywords[i]; i++)
	    if (smtpreply_has_keyword(x, fuzz_keywords[i])
		!= smtpreply_has_keyword(y, fuzz_keywords[i]))
		fuzz_fail("whole and chunked keywords differ");
	/* Each line's first word, as a keyword, is found (but line 0). */
	for (i = 1; i < x->line_count; i++) {
	    char    word[SMTPREPLY_LINE_MAX];
	    const char *line = smtpreply_line(x, i);
	    size_t  n = strcspn(line, " \t");

	    if (n == 0 || n >= sizeof(word))
		continue;
	    memcpy(word, line, n);
	    word[n] = 0;
	    if (!smtpreply_has_keyword(x, word))
		fuzz_fail("first word of an EHLO line not found as a keyword");
	}
    }
}

/* LLVMFuzzerTestOneInput - whole, then chunked, then compare */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FUZZ_RUN whole;
    static FUZZ_RUN chunked;

    fuzz_whole(data, size, &whole);
    fuzz_chunked(data, size, &chunked);
    fuzz_compare(&whole, &chunked);
    return (0);
}
