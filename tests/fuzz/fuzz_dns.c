/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_dns 1
 * SUMMARY
 *	libFuzzer target for the conversion of DNS answers into TXT, MX,
 *	TLSA and address results, and for DNS names (dns_rr.h)
 * DESCRIPTION
 *	The input is an RRset as libunbound hands it over: records, each a
 *	length octet (255: a 16-bit big-endian length follows) and that
 *	many octets of RDATA, up to FUZZ_RR_MAX records (past DNS_LIST_MAX,
 *	so the caps are reached). Each RDATA is an exact-size allocation,
 *	so AddressSanitizer sees a read past it. The same RRset goes
 *	through dns_rr_txt(), dns_rr_mx(), dns_rr_tlsa() and dns_rr_addr()
 *	(as A and as AAAA); the whole input also goes through
 *	dns_rr_wire_name() and, as a string, dns_rr_name_norm().
 *
 *	Properties. TXT: STATUS_OK with 1..DNS_LIST_MAX strings, each
 *	NUL-terminated at its length and no longer than its RDATA, or
 *	STATUS_NOTFOUND with no result. MX: a null MX only for a single
 *	"0 ." record, with count 0; otherwise 1..DNS_LIST_MAX hosts in
 *	non-decreasing preference whose names are non-empty and already
 *	normalized (dns_rr_name_norm() gives them back), or STATUS_NOTFOUND.
 *	TLSA: STATUS_OK with at most DNS_LIST_MAX records, the input records
 *	of 3 octets or more, in order, with the first 3 octets split off. Addresses: at most DNS_LIST_MAX, of
 *	the family asked for. The DNS_INFO given is the one returned.
 *	Names: a decoded wire name consumes no more than it was given and
 *	is "" or a normalized name; a normalized name is lowercase, at most
 *	253 octets, without a trailing dot, normalizes to itself and is the
 *	same name as its input.
 *
 *	Malformed records are logged by the code under test: fuzz_log.c
 *	formats each message and drops it. A broken property
 *	calls abort(), which libFuzzer reports as a crash with the input
 *	saved. Nothing is leaked.
 *
 *	fuzz-max-len: 4096 (80 records and more; read by tests/fuzz/run)
 */

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "dns_rr.h"
#include "status.h"
#include "why.h"

#define FUZZ_RR_MAX	80		/* records per input */

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
    fprintf(stderr, "fuzz_dns: property violated: %s\n", what);
    abort();
}

/* fuzz_check_name - a normalized name, as dns_rr_name_norm() makes it */

static void fuzz_check_name(const char *name, const char *what)
{
    char    again[DNS_NAME_MAX + 1];
    size_t  len = strlen(name);
    const char *p;

    if (len == 0 || len > DNS_HOST_MAX || name[len - 1] == '.')
	fuzz_fail(what);
    for (p = name; *p; p++)
	if (*p >= 'A' && *p <= 'Z')
	    fuzz_fail(what);
    if (dns_rr_name_norm(name, again, sizeof(again), 0) != STATUS_OK
	|| strcmp(again, name) != 0)
	fuzz_fail(what);
}

/* fuzz_same_info - the answer's DNS_INFO is passed through */

static void fuzz_same_info(const DNS_INFO *a, const DNS_INFO *b)
{
    if (a->security != b->security || a->ttl != b->ttl || strcmp(a->cname, b->cname) != 0)
	fuzz_fail("result DNS_INFO differs from the answer's");
}

/* fuzz_txt - dns_rr_txt() */

static void fuzz_txt(const DNS_RRSET *set, const DNS_INFO *info)
{
    DNS_TXT *out = (DNS_TXT *) 1;
    WHY     why;
    int     status;
    int     i;

    why.text[0] = 0;
    status = dns_rr_txt("txt.example", set, info, &out, &why);
    if (status == STATUS_NOTFOUND || status == STATUS_RETRY) {
	if (out != 0 || why.text[0] == 0)
	    fuzz_fail("TXT: failure with a result or without a reason");
	return;
    }
    if (status != STATUS_OK || out == 0)
	fuzz_fail("TXT: undocumented status or no result");
    if (out->count < 1 || out->count > DNS_LIST_MAX || out->count > set->count)
	fuzz_fail("TXT: count out of range");
    fuzz_same_info(info, &out->info);
    for (i = 0; i < out->count; i++) {
	if (out->text[i] == 0 || out->text[i][out->len[i]] != 0)
	    fuzz_fail("TXT: string missing or not NUL-terminated at its length");
	if (out->len[i] > 65535)
	    fuzz_fail("TXT: string longer than any RDATA");
    }
    dns_txt_free(&out);
    if (out != 0)
	fuzz_fail("dns_txt_free did not clear the pointer");
}

/* fuzz_mx - dns_rr_mx() */

static void fuzz_mx(const DNS_RRSET *set, const DNS_INFO *info)
{
    DNS_MX *out = (DNS_MX *) 1;
    WHY     why;
    int     status;
    int     i;

    why.text[0] = 0;
    status = dns_rr_mx("mx.example", set, info, &out, &why);
    if (status == STATUS_NOTFOUND || status == STATUS_RETRY) {
	if (out != 0 || why.text[0] == 0)
	    fuzz_fail("MX: failure with a result or without a reason");
	return;
    }
    if (status != STATUS_OK || out == 0)
	fuzz_fail("MX: undocumented status or no result");
    fuzz_same_info(info, &out->info);
    if (out->implicit)
	fuzz_fail("MX: implicit MX from an MX RRset");
    if (out->null_mx) {
	if (out->count != 0 || set->count != 1 || set->len[0] != 3
	    || memcmp(set->data[0], "\0\0\0", 3) != 0)
	    fuzz_fail("MX: null MX other than a single \"0 .\"");
    } else {
	if (out->count < 1 || out->count > DNS_LIST_MAX || out->count > set->count)
	    fuzz_fail("MX: count out of range");
	for (i = 0; i < out->count; i++) {
	    if (out->host[i].pref < 0 || out->host[i].pref > 65535)
		fuzz_fail("MX: preference out of 0..65535");
	    if (i > 0 && out->host[i].pref < out->host[i - 1].pref)
		fuzz_fail("MX: not sorted by preference");
	    fuzz_check_name(out->host[i].name, "MX: host name not normalized");
	}
    }
    dns_mx_free(&out);
    if (out != 0)
	fuzz_fail("dns_mx_free did not clear the pointer");
}

/* fuzz_tlsa - dns_rr_tlsa() */

static void fuzz_tlsa(const DNS_RRSET *set, const DNS_INFO *info)
{
    DNS_TLSA *out = (DNS_TLSA *) 1;
    WHY     why;
    int     status;
    int     i;
    int     j;

    why.text[0] = 0;
    status = dns_rr_tlsa("_25._tcp.mx.example", set, info, &out, &why);
    if (status == STATUS_RETRY) {
	if (out != 0)
	    fuzz_fail("TLSA: failure with a result");
	return;
    }
    if (status != STATUS_OK || out == 0)
	fuzz_fail("TLSA: undocumented status or no result");
    fuzz_same_info(info, &out->info);
    if (out->count < 0 || out->count > DNS_LIST_MAX || out->count > set->count)
	fuzz_fail("TLSA: count out of range");
    /* Records are kept in answer order: match them with one walk. */
    for (i = 0, j = 0; i < out->count; i++, j++) {
	if (out->rr[i].data == 0)
	    fuzz_fail("TLSA: record without data");
	while (j < set->count && set->len[j] < 3)
	    j++;
	if (j == set->count || (size_t) set->len[j] != out->rr[i].len + 3
	    || (unsigned char) set->data[j][0] != out->rr[i].usage
	    || (unsigned char) set->data[j][1] != out->rr[i].selector
	    || (unsigned char) set->data[j][2] != out->rr[i].mtype
	    || memcmp((const unsigned char *) set->data[j] + 3, out->rr[i].data,
		      out->rr[i].len) != 0)
	    fuzz_fail("TLSA: record differs from the input record");
    }
    dns_tlsa_free(&out);
    if (out != 0)
	fuzz_fail("dns_tlsa_free did not clear the pointer");
}

/* fuzz_addr - dns_rr_addr() as A, then AAAA, into one result */

static void fuzz_addr(const DNS_RRSET *set)
{
    static struct sockaddr_storage addr[DNS_LIST_MAX];
    DNS_ADDR out;
    int     v4;
    int     i;

    memset(&out, 0, sizeof(out));
    out.addr = addr;
    dns_rr_addr(&out, "host.example", DNS_T_A, set);
    if (out.count < 0 || out.count > DNS_LIST_MAX)
	fuzz_fail("A: count out of range");
    v4 = out.count;
    dns_rr_addr(&out, "host.example", DNS_T_AAAA, set);
    if (out.count < v4 || out.count > DNS_LIST_MAX)
	fuzz_fail("AAAA: count out of range");
    for (i = 0; i < out.count; i++)
	if (addr[i].ss_family != (i < v4 ? AF_INET : AF_INET6))
	    fuzz_fail("address of the wrong family");
}

/* fuzz_names - dns_rr_wire_name() and dns_rr_name_norm() */

static void fuzz_names(const uint8_t *data, size_t size)
{
    char    out[DNS_NAME_MAX + 1];
    char   *text;
    size_t  used;
    WHY     why;

    used = dns_rr_wire_name(data, size, out, sizeof(out));
    if (used > size)
	fuzz_fail("wire name consumed more than it was given");
    if (used > 0 && out[0] != 0)
	fuzz_check_name(out, "wire name not normalized");
    used = dns_rr_wire_name(data, size, out, (size_t) (size ? data[0] % 16 : 0));

    if ((text = malloc(size + 1)) == 0)
	return;
    memcpy(text, data, size);
    text[size] = 0;
    why.text[0] = 0;
    if (dns_rr_name_norm(text, out, sizeof(out), &why) == STATUS_OK) {
	fuzz_check_name(out, "dns_rr_name_norm result not normalized");
	if (!dns_rr_same_name(text, out))
	    fuzz_fail("normalized name is not the same name as its input");
    } else if (why.text[0] == 0 || out[0] != 0) {
	fuzz_fail("dns_rr_name_norm rejected without a reason or left output");
    }
    (void) dns_rr_name_norm(text, out, size ? data[size - 1] % 32 : 0, 0);
    free(text);
}

/* LLVMFuzzerTestOneInput - one RRset through every conversion */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char   *rr[FUZZ_RR_MAX];
    int     len[FUZZ_RR_MAX];
    DNS_RRSET set;
    DNS_INFO info;
    size_t  pos = 0;
    size_t  n;
    int     count = 0;
    int     i;

    while (pos < size && count < FUZZ_RR_MAX) {
	n = data[pos++];
	if (n == 255) {
	    if (size - pos < 2)
		break;
	    n = ((size_t) data[pos] << 8) | data[pos + 1];
	    pos += 2;
	}
	if (n > size - pos)
	    n = size - pos;
	if ((rr[count] = malloc(n ? n : 1)) == 0)
	    break;
	memcpy(rr[count], data + pos, n);
	len[count++] = (int) n;
	pos += n;
    }
    set.data = rr;
    set.len = len;
    set.count = count;
    memset(&info, 0, sizeof(info));
    info.security = size ? data[0] % 3 : DNS_INSECURE;
    info.ttl = (int) size;
    if (size > 1 && (data[1] & 1))
	(void) snprintf(info.cname, sizeof(info.cname), "alias.example");

    fuzz_txt(&set, &info);
    fuzz_mx(&set, &info);
    fuzz_tlsa(&set, &info);
    fuzz_addr(&set);
    fuzz_names(data, size);

    for (i = 0; i < count; i++)
	free(rr[i]);
    return (0);
}
