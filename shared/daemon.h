#ifndef DAEMON_H_INCLUDED
#define DAEMON_H_INCLUDED

/*
 * NAME
 *	daemon 3h
 * SUMMARY
 *	start-up helpers shared by the stsfilter daemons
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	int	daemon_facility(const CONF *conf)
 *
 *	int	daemon_listen(const char *spec, int *fd, WHY *why)
 *
 *	const char *daemon_socket_path(const char *spec)
 *
 *	int	daemon_privileges(const CONF *conf, const char *spec)
 *
 *	int	daemon_pidfile(const char *path)
 * DESCRIPTION
 *	daemon_facility() maps syslog_facility to a LOG_* facility.
 *
 *	daemon_listen() opens a listening stream socket from the libmilter
 *	notation that milter_socket and socketmap_socket use (conf.c checks
 *	the syntax): unix:/path or local:/path (a stale socket file is
 *	removed first; mode 0666, so that unprivileged MTA processes can
 *	connect: the directory controls access), inet:port (all IPv4
 *	addresses), inet:port@host and inet6:port@host (host is a numeric
 *	address or a name). Close-on-exec, SO_REUSEADDR. STATUS_OK, or
 *	STATUS_FAIL with why.
 *
 *	daemon_socket_path() returns the file name of a unix socket spec,
 *	or null for an inet one.
 *
 *	daemon_privileges() chowns a unix socket to the user parameter's
 *	user, then becomes that user (group list included). Not root:
 *	a warning unless already that user. 0 or -1 (logged).
 *
 *	daemon_pidfile() writes the process id to path (empty: nothing).
 *	0 or -1 (logged).
 *
 *	Call all of them at start-up only.
 */

#include "conf.h"
#include "why.h"

extern int daemon_facility(const CONF *);
extern int daemon_listen(const char *, int *, WHY *);
extern const char *daemon_socket_path(const char *);
extern int daemon_privileges(const CONF *, const char *);
extern int daemon_pidfile(const char *);

#endif
