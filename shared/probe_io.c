/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	probe_io 3
 * SUMMARY
 *	bounded SMTP I/O of a probe, plaintext or TLS
 * SYNOPSIS
 *	See probe_io.h.
 * DESCRIPTION
 *	Split from probe.c (see its header: non-blocking sockets, every
 *	wait a poll() bounded by a step deadline and the absolute one, TLS
 *	on the non-blocking socket with SSL_ERROR_WANT_* turned into
 *	waits). RFC 5321 for the replies and QUIT.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "clock.h"
#include "probe_io.h"
#include "status.h"
#include "text.h"

/* probe_io_until - end of a step of ms milliseconds, within the deadline */

long long probe_io_until(const PROBE_CONN *conn, int ms)
{
    long long until = clock_mono_ms() + ms;

    if (conn->deadline > 0 && conn->deadline < until)
	until = conn->deadline;
    return (until);
}

/* probe_io_wait - poll one fd until ready or until (absolute ms) */

int     probe_io_wait(int fd, short events, long long until)
{
    struct pollfd pfd;
    long long left;
    int     rc;

    for (;;) {
	left = until - clock_mono_ms();
	if (left <= 0)
	    return (PROBE_IO_TIMEOUT);
	pfd.fd = fd;
	pfd.events = events;
	pfd.revents = 0;
	rc = poll(&pfd, 1, left > 60000 ? 60000 : (int) left);
	if (rc > 0)
	    return (PROBE_IO_OK);	/* ready, hangup or error: try the I/O */
	if (rc < 0 && errno != EINTR)
	    return (PROBE_IO_ERROR);
    }
}

/* probe_io_ssl_wait - turn SSL_get_error() into a wait; <0 when not a retry */

int     probe_io_ssl_wait(PROBE_CONN *conn, int rc, long long until)
{
    switch (SSL_get_error(conn->ssl, rc)) {
    case SSL_ERROR_WANT_READ:
	return (probe_io_wait(conn->fd, POLLIN, until));
    case SSL_ERROR_WANT_WRITE:
	return (probe_io_wait(conn->fd, POLLOUT, until));
    case SSL_ERROR_ZERO_RETURN:
	return (PROBE_IO_EOF);
    case SSL_ERROR_SYSCALL:
	return (ERR_peek_error() == 0 && errno == 0 ? PROBE_IO_EOF : PROBE_IO_ERROR);
    default:
	return (PROBE_IO_ERROR);
    }
}

/* probe_io_send - write all of buf (plaintext or TLS) before until */

int     probe_io_send(PROBE_CONN *conn, const char *buf, size_t len, long long until)
{
    size_t  off = 0;
    ssize_t n;
    int     rc;

    while (off < len) {
	if (conn->ssl) {
	    ERR_clear_error();
	    errno = 0;
	    n = SSL_write(conn->ssl, buf + off, (int) (len - off));
	    if (n > 0) {
		off += (size_t) n;
		continue;
	    }
	    if ((rc = probe_io_ssl_wait(conn, (int) n, until)) != PROBE_IO_OK)
		return (rc);
	} else {
	    n = send(conn->fd, buf + off, len - off, MSG_NOSIGNAL);
	    if (n > 0) {
		off += (size_t) n;
		continue;
	    }
	    if (n < 0 && errno == EINTR)
		continue;
	    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
		return (PROBE_IO_ERROR);
	    if ((rc = probe_io_wait(conn->fd, POLLOUT, until)) != PROBE_IO_OK)
		return (rc);
	}
    }
    return (PROBE_IO_OK);
}

/* probe_io_recv - read what is there (at least one byte) before until */

int     probe_io_recv(PROBE_CONN *conn, long long until)
{
    size_t  room = sizeof(conn->in) - conn->in_len;
    ssize_t n;
    int     rc;

    if (room == 0)
	return (PROBE_IO_ERROR);		/* cannot happen: parser caps */
    for (;;) {
	if (conn->ssl) {
	    ERR_clear_error();
	    errno = 0;
	    n = SSL_read(conn->ssl, conn->in + conn->in_len, (int) room);
	    if (n > 0) {
		conn->in_len += (size_t) n;
		return (PROBE_IO_OK);
	    }
	    if ((rc = probe_io_ssl_wait(conn, (int) n, until)) != PROBE_IO_OK)
		return (rc);
	} else {
	    n = recv(conn->fd, conn->in + conn->in_len, room, 0);
	    if (n > 0) {
		conn->in_len += (size_t) n;
		return (PROBE_IO_OK);
	    }
	    if (n == 0)
		return (PROBE_IO_EOF);
	    if (errno == EINTR)
		continue;
	    if (errno != EAGAIN && errno != EWOULDBLOCK)
		return (PROBE_IO_ERROR);
	    if ((rc = probe_io_wait(conn->fd, POLLIN, until)) != PROBE_IO_OK)
		return (rc);
	}
    }
}

/* probe_io_fail - reason and detail for a failed transfer */

int     probe_io_fail(PROBE_RESULT *res, int io, const char *what)
{
    switch (io) {
    case PROBE_IO_TIMEOUT:
	(void) snprintf(res->detail, sizeof(res->detail), "timeout %s", what);
	return (PROBE_TIMEOUT);
    case PROBE_IO_EOF:
	(void) snprintf(res->detail, sizeof(res->detail),
			"connection closed by the server %s", what);
	return (PROBE_PROTOCOL);
    default:
	(void) snprintf(res->detail, sizeof(res->detail), "%s %s",
			errno ? strerror(errno) : "I/O error", what);
	return (PROBE_PROTOCOL);
    }
}

/* probe_io_reply - read one SMTP reply; PROBE_OK or a reason with detail */

int     probe_io_reply(PROBE_CONN *conn, SMTPREPLY *reply, const char *what,
		               PROBE_RESULT *res)
{
    long long until = probe_io_until(conn, conn->read_timeout);
    char    where[64];
    size_t  used;
    int     st;
    int     io;

    smtpreply_init(reply);
    (void) snprintf(where, sizeof(where), "waiting for the %s", what);
    for (;;) {
	if (conn->in_len > 0) {
	    st = smtpreply_feed(reply, conn->in, conn->in_len, &used);
	    memmove(conn->in, conn->in + used, conn->in_len - used);
	    conn->in_len -= used;
	    if (st == STATUS_OK)
		return (PROBE_OK);
	    if (st == STATUS_INVAL) {
		/* RFC 5321 §4.2; the parser's text quotes no remote bytes. */
		(void) snprintf(res->detail, sizeof(res->detail), "invalid %s: %s",
				what, reply->error);
		return (PROBE_PROTOCOL);
	    }
	}
	if ((io = probe_io_recv(conn, until)) != PROBE_IO_OK)
	    return (probe_io_fail(res, io, where));
    }
}

/* probe_io_reply_text - "CODE text" of a reply's first line, sanitized */

void    probe_io_reply_text(const SMTPREPLY *reply, char *buf, size_t size)
{
    char    text[180];

    (void) text_sanitize(text, sizeof(text), smtpreply_line(reply, 0));
    (void) snprintf(buf, size, "%d %s", reply->code, text);
}

/* probe_io_command - send one command line; PROBE_OK or a reason */

int     probe_io_command(PROBE_CONN *conn, const char *line, const char *what,
			         PROBE_RESULT *res)
{
    char    where[64];
    int     io;

    io = probe_io_send(conn, line, strlen(line), probe_io_until(conn, conn->read_timeout));
    if (io == PROBE_IO_OK)
	return (PROBE_OK);
    (void) snprintf(where, sizeof(where), "sending %s", what);
    return (probe_io_fail(res, io, where));
}

/* probe_io_quit - best effort, bounded, result ignored */

void    probe_io_quit(PROBE_CONN *conn)
{
    SMTPREPLY reply;
    PROBE_RESULT scratch;
    int     saved = conn->read_timeout;

    if (conn->deadline > 0 && clock_mono_ms() >= conn->deadline)
	return;
    conn->read_timeout = saved < PROBE_QUIT_TIMEOUT ? saved : PROBE_QUIT_TIMEOUT;
    memset(&scratch, 0, sizeof(scratch));
    /* RFC 5321 §4.1.1.10: QUIT, answered with 221. */
    if (probe_io_command(conn, "QUIT\r\n", "QUIT", &scratch) == PROBE_OK)
	(void) probe_io_reply(conn, &reply, "reply to QUIT", &scratch);
    conn->read_timeout = saved;
}

/* probe_io_connect - non-blocking connect; fd or -1 with *timed_out set */

int     probe_io_connect(const struct sockaddr *sa, socklen_t salen, long long until,
			         int *timed_out, char *err, size_t errsize)
{
    int     fd = -1;
    int     flags;
    int     soerr = 0;
    socklen_t len = sizeof(soerr);
    int     io;
    int     result = -1;

    *timed_out = 0;
    if ((fd = socket(sa->sa_family, SOCK_STREAM, 0)) < 0) {
	(void) snprintf(err, errsize, "socket: %s", strerror(errno));
	goto done;
    }
    if ((flags = fcntl(fd, F_GETFL, 0)) < 0
	|| fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0
	|| fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
	(void) snprintf(err, errsize, "fcntl: %s", strerror(errno));
	goto done;
    }
    if (connect(fd, sa, salen) == 0) {
	result = fd;
	goto done;
    }
    if (errno != EINPROGRESS && errno != EINTR) {
	(void) snprintf(err, errsize, "%s", strerror(errno));
	goto done;
    }
    if ((io = probe_io_wait(fd, POLLOUT, until)) != PROBE_IO_OK) {
	*timed_out = (io == PROBE_IO_TIMEOUT);
	(void) snprintf(err, errsize, "%s", *timed_out ? "connection timed out" : strerror(errno));
	goto done;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0) {
	(void) snprintf(err, errsize, "%s", strerror(soerr ? soerr : errno));
	goto done;
    }
    result = fd;

done:
    if (result < 0 && fd >= 0)
	(void) close(fd);
    return (result);
}
