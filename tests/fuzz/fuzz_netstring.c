/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_netstring 1
 * SUMMARY
 *	libFuzzer target for the netstring parser and formatter (netstring.h)
 * DESCRIPTION
 *	The input is read as a stream that starts at a netstring, as
 *	stsfilter-policyd reads a socketmap client:
 *
 *	netstring_parse() gets it with the request cap (NETSTRING_REQUEST_MAX)
 *	and with a small cap taken from the input. STATUS_OK: the data lies
 *	inside the input, is no longer than the cap, the netstring ends in
 *	',' at *consumed, and netstring_format() of the data gives back the
 *	same octets. NETSTRING_MORE: every shorter prefix is MORE too.
 *	STATUS_INVAL otherwise; no other status.
 *
 *	netstring_format() of the input as data, into an exact-size buffer
 *	and into a small one: when it fits, netstring_parse() of the result
 *	gives the input back, consuming all of it, and every proper prefix
 *	is NETSTRING_MORE (how a client's request arrives in pieces).
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 100020 (a request past NETSTRING_REQUEST_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"
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
    fprintf(stderr, "fuzz_netstring: property violated: %s\n", what);
    abort();
}

/* fuzz_parse - netstring_parse() with one cap, and its properties */

static void fuzz_parse(const char *buf, size_t len, size_t max)
{
    const char *data = 0;
    size_t  dlen = 0;
    size_t  used = 0;
    size_t  olen;
    char   *again;
    int     st;

    st = netstring_parse(buf, len, max, &data, &dlen, &used);
    if (st == STATUS_OK) {
	if (data < buf || data + dlen > buf + len || used > len || used < dlen + 3)
	    fuzz_fail("parsed data or length outside the input");
	if (dlen > max)
	    fuzz_fail("parsed data over the cap");
	if (buf[used - 1] != ',' || data + dlen != buf + used - 1)
	    fuzz_fail("netstring does not end in ',' where consumed says");
	if ((again = malloc(used + 1)) == 0)
	    return;
	if (netstring_format(again, used + 1, data, dlen, &olen) != STATUS_OK || olen != used
	    || memcmp(again, buf, used) != 0)
	    fuzz_fail("formatting the parsed data does not give the input back");
	free(again);
    } else if (st == NETSTRING_MORE) {
	if (len > 0 && netstring_parse(buf, len - 1, max, &data, &dlen, &used) != NETSTRING_MORE)
	    fuzz_fail("a prefix of a MORE input is not MORE");
    } else if (st != STATUS_INVAL) {
	fuzz_fail("netstring_parse returned an undocumented status");
    }
}

/* fuzz_round_trip - format the input as data, then parse it back in pieces */

static void fuzz_round_trip(const char *in, size_t len, size_t size)
{
    const char *data;
    size_t  dlen, used, olen = 0;
    size_t  cut;
    char   *out;
    int     st;

    if ((out = malloc(size ? size : 1)) == 0)
	return;
    st = netstring_format(out, size, in, len, &olen);
    if (st == STATUS_OK) {
	if (olen >= size || out[olen] != 0)
	    fuzz_fail("formatted netstring does not fit with its NUL");
	if (netstring_parse(out, olen, len, &data, &dlen, &used) != STATUS_OK || dlen != len
	    || used != olen || (len && memcmp(data, in, len) != 0))
	    fuzz_fail("a formatted netstring does not parse back");
	/* A request arriving in pieces: every proper prefix asks for more. */
	for (cut = 0; cut < olen; cut += 1 + cut / 4)
	    if (netstring_parse(out, cut, len, &data, &dlen, &used) != NETSTRING_MORE)
		fuzz_fail("a proper prefix of a netstring is not MORE");
    } else if (st != STATUS_INVAL || (size > 0 && out[0] != 0)) {
	fuzz_fail("netstring_format failed without an empty output");
    }
    free(out);
}

/* LLVMFuzzerTestOneInput - one input through every entry point */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *) data;

    fuzz_parse(in, size, NETSTRING_REQUEST_MAX);
    fuzz_parse(in, size, size ? data[0] % 40 : 0);
    fuzz_round_trip(in, size, size + NETSTRING_DIGITS_MAX + 2);
    fuzz_round_trip(in, size, size ? data[size - 1] % 48 : 0);
    return (0);
}
