/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_domain 1
 * SUMMARY
 *	libFuzzer target for recipient domain normalization (domain.h)
 * DESCRIPTION
 *	The input, up to its first NUL, is a C string given to
 *	domain_normalize() and domain_from_address(). Output buffers are
 *	allocated to their exact size, so AddressSanitizer sees a write past
 *	them; besides the documented DOMAIN_MAX + 1 a small size taken from
 *	the input is tried (the function must stay inside any size it is
 *	told; a result that does not fit is an error, not a crash).
 *
 *	Properties of a STATUS_OK result: at most DOMAIN_MAX octets, no
 *	trailing dot, only lowercase LDH and dots, no empty label, no label
 *	over 63 octets; normalizing it again gives it back unchanged (it is
 *	the cache key: one name, one key); domain_from_address() of
 *	"<user@RESULT>" gives it back too.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 600 (past any address or domain; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "status.h"
#include "why.h"

#define FUZZ_INPUT_MAX	4096		/* longer inputs are cut here */

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

/* __ubsan_default_options - make UBSan findings fatal, so libFuzzer saves them */

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

/* fuzz_fail - report a broken property; libFuzzer saves the input */

static void fuzz_fail(const char *fn, const char *what)
{
    fprintf(stderr, "fuzz_domain: %s: property violated: %s\n", fn, what);
    abort();
}

/* fuzz_check_name - the form of a normalized domain */

static void fuzz_check_name(const char *fn, const char *name)
{
    size_t  len = strlen(name);
    size_t  label = 0;
    const char *cp;

    if (len == 0)
	fuzz_fail(fn, "empty result");
    if (len > DOMAIN_MAX)
	fuzz_fail(fn, "result longer than DOMAIN_MAX");
    if (name[len - 1] == '.')
	fuzz_fail(fn, "result keeps a trailing dot");
    for (cp = name; *cp; cp++) {
	if (*cp == '.') {
	    if (label == 0)
		fuzz_fail(fn, "result has an empty label");
	    label = 0;
	    continue;
	}
	if (!((*cp >= 'a' && *cp <= 'z') || (*cp >= '0' && *cp <= '9')
	      || *cp == '-'))
	    fuzz_fail(fn, "result has a character outside lowercase LDH");
	if (++label > 63)
	    fuzz_fail(fn, "result has a label over 63 octets");
    }
}

/* fuzz_stable - normalizing a result again changes nothing */

static void fuzz_stable(const char *fn, const char *name)
{
    char    again[DOMAIN_MAX + 1];
    char    addr[DOMAIN_MAX + 16];
    WHY     why;

    if (domain_normalize(name, again, sizeof(again), &why) != STATUS_OK)
	fuzz_fail(fn, "domain_normalize rejects its own result");
    if (strcmp(again, name) != 0)
	fuzz_fail(fn, "domain_normalize of the result differs from it");
    (void) snprintf(addr, sizeof(addr), "<user@%s>", name);
    if (domain_from_address(addr, again, sizeof(again), &why) != STATUS_OK)
	fuzz_fail(fn, "domain_from_address rejects <user@RESULT>");
    if (strcmp(again, name) != 0)
	fuzz_fail(fn, "domain_from_address of <user@RESULT> differs");
}

/* fuzz_one - one function, one output size */

static void fuzz_one(int which, const char *in, size_t outsize, int check)
{
    const char *fn = which ? "domain_from_address" : "domain_normalize";
    char   *out;
    WHY     why;
    int     status;

    if ((out = malloc(outsize ? outsize : 1)) == 0)
	return;
    why.text[0] = 0;
    status = which ? domain_from_address(in, out, outsize, &why)
	: domain_normalize(in, out, outsize, &why);
    if (status == STATUS_OK) {
	if (strnlen(out, outsize) >= outsize)
	    fuzz_fail(fn, "result not NUL-terminated inside the buffer");
	if (check) {
	    fuzz_check_name(fn, out);
	    fuzz_stable(fn, out);
	}
    } else if (status != STATUS_INVAL) {
	fuzz_fail(fn, "undocumented status");
    } else if (why.text[0] == 0) {
	fuzz_fail(fn, "rejected without a reason");
    }
    free(out);
}

/* LLVMFuzzerTestOneInput - one string through both functions */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *in;
    size_t  len = size < FUZZ_INPUT_MAX ? size : FUZZ_INPUT_MAX;
    size_t  small = size ? 1 + data[size - 1] % 32 : 1;

    if ((in = malloc(len + 1)) == 0)
	return (0);
    memcpy(in, data, len);
    in[len] = 0;

    fuzz_one(0, in, DOMAIN_MAX + 1, 1);
    fuzz_one(1, in, DOMAIN_MAX + 1, 1);
    fuzz_one(0, in, small, 0);
    fuzz_one(1, in, small, 0);

    free(in);
    return (0);
}
