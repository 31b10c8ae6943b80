/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_rcpt 1
 * SUMMARY
 *	libFuzzer target for the recipient's domain (rcpt.h), what the
 *	milter and the OpenSMTPD filter take from RCPT TO
 * DESCRIPTION
 *	The input, up to its first NUL, is a raw recipient given to
 *	rcpt_domain() and rcpt_show(). Output buffers are allocated to
 *	their exact size, so AddressSanitizer sees a write past them.
 *
 *	Properties:
 *	- the status is STATUS_OK, STATUS_NOTFOUND or STATUS_INVAL; INVAL
 *	  has a reason and an empty domain;
 *	- OK: the domain is lowercase LDH, at most DOMAIN_MAX octets, and
 *	  domain_normalize() gives it back unchanged (it is the cache key);
 *	- NOTFOUND: the domain is "" (postmaster) or an address literal
 *	  "[...]";
 *	- the angle brackets are optional: "<X>" and X give the same answer
 *	  (X not itself starting with "<": one pair is stripped);
 *	- the local part's length never changes the domain (issue 11,
 *	  defect 1): when X is OK and starts with atext, 300 more octets
 *	  of atext in front give the same domain;
 *	- a small output size is respected (error, not overflow);
 *	- rcpt_show() output fits its size and holds only printable ASCII.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 4200 (past RCPT_INPUT_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "rcpt.h"
#include "status.h"
#include "why.h"

#define FUZZ_INPUT_MAX	(RCPT_INPUT_MAX + 16)	/* a little past the cap */
#define FUZZ_PAD	300

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

static void fuzz_fail(const char *what)
{
    fprintf(stderr, "fuzz_rcpt: property violated: %s\n", what);
    abort();
}

/* fuzz_domain - rcpt_domain into an exact-size buffer */

static int fuzz_domain(const char *in, char *out, size_t size)
{
    char   *buf;
    WHY     why;
    int     st;

    if ((buf = malloc(size)) == 0)
	abort();
    why.text[0] = 0;
    st = rcpt_domain(in, buf, size, &why);
    if (st != STATUS_OK && st != STATUS_NOTFOUND && st != STATUS_INVAL)
	fuzz_fail("undocumented status");
    if (strnlen(buf, size) >= size)
	fuzz_fail("result not NUL-terminated inside the buffer");
    if (st == STATUS_INVAL && (why.text[0] == 0 || buf[0] != 0))
	fuzz_fail("refused without a reason, or with a domain");
    if (out)
	memcpy(out, buf, strlen(buf) + 1);
    free(buf);
    return (st);
}

static void fuzz_check_ok(const char *dom)
{
    char    again[DOMAIN_MAX + 1];
    const char *p;

    if (*dom == 0 || strlen(dom) > DOMAIN_MAX)
	fuzz_fail("empty or overlong domain");
    for (p = dom; *p; p++)
	if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
	    fuzz_fail("domain outside lowercase LDH");
    if (domain_normalize(dom, again, sizeof(again), 0) != STATUS_OK || strcmp(again, dom) != 0)
	fuzz_fail("domain is not its own normal form");
}

static int fuzz_atext(unsigned char c)
{
    return (c >= 0x80 || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
	    || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != 0));
}

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *in;
    char   *alt;
    char    dom[DOMAIN_MAX + 1];
    char    dom2[DOMAIN_MAX + 1];
    char   *show;
    size_t  len = size < FUZZ_INPUT_MAX ? size : FUZZ_INPUT_MAX;
    size_t  small = size ? 1 + data[0] % 24 : 1;
    size_t  ssize = size ? 1 + data[size - 1] % 300 : 1;
    size_t  n;
    size_t  i;
    int     st;
    int     st2;

    if ((in = malloc(len + 1)) == 0 || (alt = malloc(len + FUZZ_PAD + 3)) == 0)
	abort();
    memcpy(in, data, len);
    in[len] = 0;
    n = strlen(in);

    st = fuzz_domain(in, dom, DOMAIN_MAX + 1);
    if (st == STATUS_OK)
	fuzz_check_ok(dom);
    if (st == STATUS_NOTFOUND && dom[0] && (dom[0] != '[' || dom[strlen(dom) - 1] != ']'))
	fuzz_fail("no-domain result that is neither empty nor a literal");

    /* The brackets are optional. */
    if (n >= 2 && in[0] == '<' && in[1] != '<' && in[n - 1] == '>') {
	memcpy(alt, in + 1, n - 2);
	alt[n - 2] = 0;
	st2 = fuzz_domain(alt, dom2, DOMAIN_MAX + 1);
	if (st2 != st || strcmp(dom, dom2) != 0)
	    fuzz_fail("<X> and X differ");
    }

    /* The local part's length never changes the domain. */
    if (st == STATUS_OK && n > 0 && fuzz_atext((unsigned char) in[0]) && n + FUZZ_PAD <= RCPT_INPUT_MAX) {
	memset(alt, 'x', FUZZ_PAD);
	memcpy(alt + FUZZ_PAD, in, n + 1);
	st2 = fuzz_domain(alt, dom2, DOMAIN_MAX + 1);
	if (st2 != STATUS_OK || strcmp(dom, dom2) != 0)
	    fuzz_fail("a longer local part changes the domain");
    }

    /* A small buffer: an error or a result that fits. */
    (void) fuzz_domain(in, 0, small);

    if ((show = malloc(ssize)) == 0)
	abort();
    n = rcpt_show(show, ssize, in);
    if (n >= ssize || strlen(show) != n)
	fuzz_fail("rcpt_show result does not fit or has the wrong length");
    for (i = 0; i < n; i++)
	if ((unsigned char) show[i] < 0x20 || (unsigned char) show[i] >= 0x7f)
	    fuzz_fail("rcpt_show left a control or 8-bit byte");
    free(show);
    free(alt);
    free(in);
    return (0);
}
