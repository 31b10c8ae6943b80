/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	benchnet 3
 * SUMMARY
 *	the bench clients' connect
 * DESCRIPTION
 *	See benchnet.h.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "benchnet.h"

int     benchnet_connect(const char *spec, char *err, size_t size)
{
    struct sockaddr_un sun;
    struct sockaddr_in sin;
    char    host[64];
    const char *port;
    const char *sep;
    int     fd = -1;
    int     one = 1;

    if (strncmp(spec, "unix:", 5) == 0) {
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void) snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", spec + 5);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0 || connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0)
	    goto fail;
	return (fd);
    }
    if (strncmp(spec, "inet:", 5) != 0) {
	(void) snprintf(err, size, "bad socket %s", spec);
	return (-1);
    }
    if ((sep = strchr(spec + 5, '@')) != 0) {	/* inet:PORT@HOST */
	port = spec + 5;
	(void) snprintf(host, sizeof(host), "%s", sep + 1);
    } else if ((sep = strrchr(spec + 5, ':')) != 0 && (size_t) (sep - spec - 5) < sizeof(host)) {
	port = sep + 1;				/* inet:HOST:PORT */
	(void) snprintf(host, sizeof(host), "%.*s", (int) (sep - spec - 5), spec + 5);
    } else {
	(void) snprintf(err, size, "bad socket %s", spec);
	return (-1);
    }
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons((unsigned short) strtol(port, 0, 10));
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
	(void) snprintf(err, size, "bad address %s", host);
	return (-1);
    }
    if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || connect(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0)
	goto fail;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return (fd);

fail:
    (void) snprintf(err, size, "connect %s: %s", spec, strerror(errno));
    if (fd >= 0)
	(void) close(fd);
    return (-1);
}
