/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	socketmap-floor 1
 * SUMMARY
 *	bench server: the socketmap protocol's floor on this machine
 * SYNOPSIS
 *	socketmap-floor PATH REPLY
 * DESCRIPTION
 *	Listens on the unix socket PATH and answers every netstring
 *	request on every connection with the netstring REPLY, on a thread
 *	per connection, looking at nothing: what a socketmap server costs
 *	when it does no work at all (a read and a write per request, and
 *	the context switches between the client and the server). bench/run
 *	runs it beside stsfilter-policyd and postfix-mta-sts-resolver, so
 *	that their rates can be read against the rate nothing can beat.
 *	Runs until killed.
 *
 *	Used by bench/run; not part of the test suite.
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define FLOOR_BUF	4096

static char floor_reply[1200];
static size_t floor_reply_len;

static void *floor_conn(void *arg)
{
    char    buf[FLOOR_BUF];
    size_t  have = 0;
    size_t  need;
    char   *colon;
    ssize_t n;
    int     fd = (int) (long) arg;

    for (;;) {
	while ((colon = memchr(buf, ':', have)) != 0
	       && have >= (need = (size_t) strtol(buf, 0, 10) + (size_t) (colon - buf) + 2)) {
	    if (write(fd, floor_reply, floor_reply_len) != (ssize_t) floor_reply_len)
		goto done;
	    memmove(buf, buf + need, have - need);
	    have -= need;
	}
	if (have >= sizeof(buf) || (n = read(fd, buf + have, sizeof(buf) - have)) <= 0)
	    goto done;
	have += (size_t) n;
    }

done:
    (void) close(fd);
    return (0);
}

int     main(int argc, char **argv)
{
    struct sockaddr_un sun;
    pthread_attr_t attr;
    pthread_t tid;
    int     lfd, fd;

    if (argc != 3 || strlen(argv[2]) > 1000) {
	fprintf(stderr, "usage: socketmap-floor PATH REPLY\n");
	return (2);
    }
    floor_reply_len = (size_t) snprintf(floor_reply, sizeof(floor_reply), "%zu:%s,", strlen(argv[2]), argv[2]);
    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    (void) snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", argv[1]);
    (void) unlink(argv[1]);
    if ((lfd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 || bind(lfd, (struct sockaddr *) &sun, sizeof(sun)) < 0
	|| listen(lfd, 128) < 0) {
	perror("socketmap-floor");
	return (1);
    }
    (void) pthread_attr_init(&attr);
    (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (;;) {
	if ((fd = accept(lfd, 0, 0)) < 0)
	    continue;
	if (pthread_create(&tid, &attr, floor_conn, (void *) (long) fd) != 0)
	    (void) close(fd);
    }
}
