/* SPDX-License-Identifier: ISC */
#ifndef PROBE_IO_H_INCLUDED
#define PROBE_IO_H_INCLUDED

/*
 * NAME
 *	probe_io 3h
 * SUMMARY
 *	bounded SMTP I/O of a probe, plaintext or TLS (private to probe*.c)
 * SYNOPSIS
 *	#include "probe_io.h"
 *
 *	long long probe_io_until(const PROBE_CONN *conn, int ms)
 *	int	probe_io_wait(int fd, short events, long long until)
 *	int	probe_io_ssl_wait(PROBE_CONN *conn, int rc, long long until)
 *	int	probe_io_send(PROBE_CONN *conn, const char *buf, size_t len,
 *			long long until)
 *	int	probe_io_recv(PROBE_CONN *conn, long long until)
 *	int	probe_io_fail(PROBE_RESULT *res, int io, const char *what)
 *	int	probe_io_reply(PROBE_CONN *conn, SMTPREPLY *reply,
 *			const char *what, PROBE_RESULT *res)
 *	void	probe_io_reply_text(const SMTPREPLY *reply, char *buf,
 *			size_t size)
 *	int	probe_io_command(PROBE_CONN *conn, const char *line,
 *			const char *what, PROBE_RESULT *res)
 *	void	probe_io_quit(PROBE_CONN *conn)
 *	int	probe_io_connect(const struct sockaddr *sa, socklen_t salen,
 *			long long until, int *timed_out, char *err,
 *			size_t errsize)
 * DESCRIPTION
 *	Every wait is a poll() bounded by an absolute clock_mono_ms() time
 *	(probe_io_until(): now + ms, never past conn->deadline). The wait
 *	and transfer functions return PROBE_IO_OK or PROBE_IO_TIMEOUT,
 *	PROBE_IO_EOF, PROBE_IO_ERROR; probe_io_fail() turns those into a
 *	PROBE_* reason and a detail. probe_io_reply() reads one SMTP reply
 *	(smtpreply.c, with its caps) within conn->read_timeout;
 *	probe_io_command() sends one line; both return PROBE_OK or a reason
 *	with res->detail set. probe_io_quit() sends QUIT and reads the
 *	answer, at most PROBE_QUIT_TIMEOUT, result ignored.
 *	probe_io_connect() connects a non-blocking socket; the fd, or -1
 *	with err set and *timed_out when the time ran out.
 *	Nothing raises SIGPIPE (MSG_NOSIGNAL, and probe.c's socket BIO).
 */

#include <sys/socket.h>

#include <openssl/ssl.h>

#include "probe.h"
#include "probe_cert.h"
#include "smtpreply.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#define PROBE_IO_MAX			(SMTPREPLY_SIZE_MAX + 1024)
#define PROBE_QUIT_TIMEOUT		1000	/* ms, best-effort QUIT */

typedef struct PROBE_CONN {
    int     fd;
    SSL    *ssl;			/* after STARTTLS */
    char    in[PROBE_IO_MAX];		/* received, not yet parsed */
    size_t  in_len;
    long long deadline;			/* absolute ms, 0 = none */
    int     read_timeout;		/* ms per step */
    PROBE_VERIFY verify;
} PROBE_CONN;

/* The I/O outcome of a wait or transfer. */
#define PROBE_IO_OK	0
#define PROBE_IO_TIMEOUT (-1)
#define PROBE_IO_EOF	(-2)
#define PROBE_IO_ERROR	(-3)

extern long long probe_io_until(const PROBE_CONN *, int);
extern int probe_io_wait(int, short, long long);
extern int probe_io_ssl_wait(PROBE_CONN *, int, long long);
extern int probe_io_send(PROBE_CONN *, const char *, size_t, long long);
extern int probe_io_recv(PROBE_CONN *, long long);
extern int probe_io_fail(PROBE_RESULT *, int, const char *);
extern int probe_io_reply(PROBE_CONN *, SMTPREPLY *, const char *, PROBE_RESULT *);
extern void probe_io_reply_text(const SMTPREPLY *, char *, size_t);
extern int probe_io_command(PROBE_CONN *, const char *, const char *, PROBE_RESULT *);
extern void probe_io_quit(PROBE_CONN *);
extern int probe_io_connect(const struct sockaddr *, socklen_t, long long, int *, char *, size_t);

#endif
