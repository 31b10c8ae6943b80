/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fetch-policy 1
 * SUMMARY
 *	test driver for fetch.c
 * SYNOPSIS
 *	fetch-policy [--ca FILE] [--timeout-ms N] [--no-private] DOMAIN
 * DESCRIPTION
 *	Resolves mta-sts.DOMAIN with getaddrinfo() (inside the test world
 *	that is the world's DNS) and runs fetch_policy(). Prints
 *	"reason=NAME status=N http=N type=TEXT len=N" and "detail=TEXT", then
 *	the body on success. Exit 0 on a fetched policy, 1 otherwise.
 */

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "status.h"
#include "str.h"

int     main(int argc, char **argv)
{
    FETCH_OPTS opts = {.connect_timeout_ms = 3000, .timeout_ms = 5000, .allow_private = 1};
    FETCH_RESULT res;
    struct sockaddr_storage addr[8];
    struct addrinfo hints = {0}, *ai = 0, *p;
    char    host[300];
    long    n;
    int     count = 0;
    int     status;
    int     i;

    for (i = 1; i < argc - 1; i++) {
	if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc - 1)
	    opts.ca_file = argv[++i];
	else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc - 1
		 && str_to_long(argv[++i], 1, 600000, &n) == 0)
	    opts.timeout_ms = (int) n;
	else if (strcmp(argv[i], "--no-private") == 0)
	    opts.allow_private = 0;
	else {
	    fprintf(stderr, "usage: fetch-policy [--ca FILE] [--timeout-ms N] [--no-private] DOMAIN\n");
	    return (64);
	}
    }
    if (argc < 2) {
	fprintf(stderr, "usage: fetch-policy [--ca FILE] [--timeout-ms N] [--no-private] DOMAIN\n");
	return (64);
    }
    (void) snprintf(host, sizeof(host), "mta-sts.%s", argv[argc - 1]);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, "443", &hints, &ai) == 0) {
	for (p = ai; p && count < 8; p = p->ai_next) {
	    memset(&addr[count], 0, sizeof(addr[count]));
	    memcpy(&addr[count], p->ai_addr, p->ai_addrlen);
	    count++;
	}
	freeaddrinfo(ai);
    }
    status = fetch_policy(&opts, argv[argc - 1], addr, count, &res);
    printf("reason=%s status=%s http=%ld type=%s len=%zu\n", fetch_reason_name(res.reason),
	   status_name(status), res.http_status, res.content_type[0] ? res.content_type : "-", res.len);
    printf("detail=%s\n", res.detail);
    if (status == STATUS_OK)
	fwrite(res.body, 1, res.len, stdout);
    fetch_result_clear(&res);
    return (status == STATUS_OK ? 0 : 1);
}
