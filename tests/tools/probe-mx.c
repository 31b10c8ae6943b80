/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	probe-mx 1
 * SUMMARY
 *	test driver for probe.c
 * SYNOPSIS
 *	probe-mx [--ca FILE] [--tlsa 'U S M HEX']... [--tlsa-insecure]
 *		[--timeout-ms N] [--port N] [--helo NAME] [--no-private]
 *		MXNAME ADDRESS...
 * DESCRIPTION
 *	Runs probe_mx() for MXNAME on the given addresses (numeric, or a
 *	host name resolved with getaddrinfo(), which inside the test world
 *	asks the world's DNS). Each --tlsa adds one TLSA record (usage,
 *	selector, matching type, hex data) to a DNS_TLSA marked DNS_SECURE,
 *	or DNS_INSECURE with --tlsa-insecure. --timeout-ms sets the read
 *	timeout and the overall deadline (default 10000); the connect
 *	timeout is the smaller of it and 5000.
 *
 *	Prints one "key=value" line each for reason, status, dane,
 *	elapsed_ms, detail, address, tls, banner, names (comma-separated),
 *	cn, issuer and not_after. Exit 0 when the probe passed, 1 when it
 *	did not, 64 on a usage error.
 */

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "dns.h"
#include "probe.h"
#include "status.h"
#include "str.h"

#define PROBE_MX_ADDR_MAX	16
#define PROBE_MX_TLSA_MAX	16

static void probe_mx_usage(void)
{
    fprintf(stderr, "usage: probe-mx [--ca FILE] [--tlsa 'U S M HEX']... [--tlsa-insecure]\n"
	    "\t[--timeout-ms N] [--port N] [--helo NAME] [--no-private] MXNAME ADDRESS...\n");
    exit(64);
}

static int probe_mx_hex(int c)
{
    if (c >= '0' && c <= '9')
	return (c - '0');
    if (c >= 'a' && c <= 'f')
	return (c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
	return (c - 'A' + 10);
    return (-1);
}

/* probe_mx_tlsa - parse "U S M HEX" into rr (data allocated) */

static int probe_mx_tlsa(const char *text, DNS_TLSA_RR *rr)
{
    char    buf[1024];
    char   *field[4];
    char   *p;
    long    n[3];
    size_t  len;
    size_t  i;
    int     k = 0;

    if (str_copy(buf, sizeof(buf), text) != 0)
	return (-1);
    for (p = buf; k < 4;) {
	while (*p == ' ')
	    p++;
	if (*p == 0)
	    break;
	field[k++] = p;
	while (*p && *p != ' ')
	    p++;
	if (*p)
	    *p++ = 0;
    }
    if (k != 4)
	return (-1);
    for (i = 0; i < 3; i++)
	if (str_to_long(field[i], 0, 255, &n[i]) != 0)
	    return (-1);
    len = strlen(field[3]);
    if (len == 0 || len % 2 != 0)
	return (-1);
    rr->usage = (unsigned char) n[0];
    rr->selector = (unsigned char) n[1];
    rr->mtype = (unsigned char) n[2];
    rr->len = len / 2;
    if ((rr->data = malloc(rr->len)) == 0)
	return (-1);
    for (i = 0; i < rr->len; i++) {
	int     hi = probe_mx_hex((unsigned char) field[3][2 * i]);
	int     lo = probe_mx_hex((unsigned char) field[3][2 * i + 1]);

	if (hi < 0 || lo < 0)
	    return (-1);
	rr->data[i] = (unsigned char) (hi * 16 + lo);
    }
    return (0);
}

/* probe_mx_addr - numeric address or host name into addr[] */

static int probe_mx_addr(const char *text, struct sockaddr_storage *addr, int count)
{
    struct addrinfo hints, *ai = 0, *p;
    struct sockaddr_in *sin;
    struct sockaddr_in6 *sin6;

    if (count >= PROBE_MX_ADDR_MAX)
	return (count);
    memset(&addr[count], 0, sizeof(addr[count]));
    sin = (struct sockaddr_in *) &addr[count];
    sin6 = (struct sockaddr_in6 *) &addr[count];
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
	sin->sin_family = AF_INET;
	return (count + 1);
    }
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
	sin6->sin6_family = AF_INET6;
	return (count + 1);
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(text, "25", &hints, &ai) != 0) {
	fprintf(stderr, "probe-mx: cannot resolve %s\n", text);
	return (count);
    }
    for (p = ai; p && count < PROBE_MX_ADDR_MAX; p = p->ai_next) {
	memset(&addr[count], 0, sizeof(addr[count]));
	memcpy(&addr[count], p->ai_addr, p->ai_addrlen);
	count++;
    }
    freeaddrinfo(ai);
    return (count);
}

int     main(int argc, char **argv)
{
    PROBE_OPTS opts;
    PROBE_RESULT res;
    struct sockaddr_storage addr[PROBE_MX_ADDR_MAX];
    DNS_TLSA_RR rr[PROBE_MX_TLSA_MAX];
    DNS_TLSA tlsa;
    const char *mxname;
    long    timeout = 10000;
    long    n;
    int     count = 0;
    int     status;
    int     i;

    memset(&opts, 0, sizeof(opts));
    memset(&tlsa, 0, sizeof(tlsa));
    memset(rr, 0, sizeof(rr));
    tlsa.info.security = DNS_SECURE;
    tlsa.rr = rr;
    opts.port = 25;
    opts.helo_name = "probe-mx.stsfilter.test";
    opts.allow_private = 1;
    for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
	if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc)
	    opts.ca_file = argv[++i];
	else if (strcmp(argv[i], "--tlsa") == 0 && i + 1 < argc
		 && tlsa.count < PROBE_MX_TLSA_MAX) {
	    if (probe_mx_tlsa(argv[++i], &rr[tlsa.count]) != 0) {
		fprintf(stderr, "probe-mx: bad TLSA record: %s\n", argv[i]);
		return (64);
	    }
	    tlsa.count++;
	} else if (strcmp(argv[i], "--tlsa-insecure") == 0)
	    tlsa.info.security = DNS_INSECURE;
	else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc
		 && str_to_long(argv[++i], 1, 600000, &timeout) == 0)
	     /* void */ ;
	else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc
		 && str_to_long(argv[++i], 1, 65535, &n) == 0)
	    opts.port = (int) n;
	else if (strcmp(argv[i], "--helo") == 0 && i + 1 < argc)
	    opts.helo_name = argv[++i];
	else if (strcmp(argv[i], "--no-private") == 0)
	    opts.allow_private = 0;
	else
	    probe_mx_usage();
    }
    if (argc - i < 2)
	probe_mx_usage();
    mxname = argv[i++];
    for (; i < argc; i++)
	count = probe_mx_addr(argv[i], addr, count);

    opts.read_timeout_ms = (int) timeout;
    opts.connect_timeout_ms = timeout < 5000 ? (int) timeout : 5000;
    opts.deadline_ms = clock_mono_ms() + timeout;
    status = probe_mx(&opts, mxname, addr, count, tlsa.count ? &tlsa : 0, &res);

    printf("reason=%s status=%s dane=%d elapsed_ms=%ld\n", probe_reason_name(res.reason),
	   status_name(status), res.dane, res.elapsed_ms);
    printf("detail=%s\n", res.detail);
    printf("address=%s\n", res.address);
    printf("tls=%s\n", res.tls_version);
    printf("banner=%s\n", res.banner);
    printf("names=");
    for (i = 0; i < res.name_count; i++)
	printf("%s%s", i ? "," : "", res.names[i]);
    printf("\ncn=%s\n", res.subject_cn);
    printf("issuer=%s\n", res.issuer);
    printf("not_after=%lld\n", res.not_after);
    for (i = 0; i < tlsa.count; i++)
	free(rr[i].data);
    return (status == STATUS_OK ? 0 : 1);
}
