/* SPDX-License-Identifier: ISC */
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
 *	int	daemon_socket_access(const char *path, const char *mode,
 *			const char *group, const char *user, const char *param)
 *
 *	int	daemon_privileges(const CONF *conf, const char *spec)
 *
 *	int	daemon_pidfile(const CONF *conf, const char *path)
 *
 *	int	daemon_pidfile_update(void)
 *
 *	int	daemon_pidfile_locked(void)
 *
 *	int	daemon_args(int argc, char **argv, const char *progname,
 *			int with_foreground, DAEMON_ARGS *args)
 *
 *	int	daemon_load(const char *path, CONF **conf)
 *
 *	void	daemon_signals(sigset_t *set)
 * DESCRIPTION
 *	daemon_facility() maps syslog_facility to a LOG_* facility.
 *
 *	daemon_listen() opens a listening stream socket from the libmilter
 *	notation that milter_socket and socketmap_socket use (conf.c checks
 *	the syntax): unix:/path or local:/path (a stale socket file is
 *	removed first; mode 0600 until daemon_socket_access() gives it
 *	its owner, group and configured mode), inet:port (all IPv4
 *	addresses), inet:port@host and inet6:port@host (host is a numeric
 *	address or a name). Close-on-exec, SO_REUSEADDR. STATUS_OK, or
 *	STATUS_FAIL with why.
 *
 *	daemon_socket_path() returns the file name of a unix socket spec,
 *	or null for an inet one.
 *
 *	daemon_socket_access() gives the unix socket path the owner user,
 *	the group group (empty: user's group; a group that does not exist:
 *	user's group, logged as an error that names the parameter param)
 *	and the octal mode, then logs an error for each folder above it
 *	that group cannot search and when mode gives group no access: the
 *	MTA could not connect. A failed chown is logged; 0, or -1 when
 *	chmod fails (logged). Call it as root.
 *
 *	daemon_privileges() chowns a unix socket to the user parameter's
 *	user (spec may be null), then becomes that user (group list
 *	included), and writes a deferred pid file. It refuses (-1) a user
 *	with uid 0 unless allow_root is set. Not root: a warning unless
 *	already that user. 0 or -1 (logged).
 *
 *	daemon_pidfile() opens path (empty: nothing) without following a
 *	symbolic link, checks that it is a regular file with one link,
 *	locks it (flock; a lock held by another process is a copy already
 *	running: -1) and writes the process id; the descriptor stays open
 *	(close-on-exec) so the lock lasts while the process runs. Started
 *	as root, when the user parameter's user could write path's folder
 *	(or swap a parent folder without the sticky bit), it only records
 *	path, and daemon_privileges() writes it after the privilege drop.
 *	daemon_pidfile_update() writes the current pid again (after
 *	daemon(3) forked). 0 or -1 (logged). daemon_pidfile_locked()
 *	tells whether this process holds the pid file (and may remove it).
 *
 *	daemon_args() parses the options every daemon takes: -c/--config
 *	FILE, -n/--check-config (check the configuration and exit),
 *	-f/--foreground (only when with_foreground; DAEMON_FOREGROUND_LOG
 *	for a program that never forks, where -f only adds stderr to the
 *	log sinks, and says so in the help), -h/--help (the
 *	options, one line each, on stdout) and -V/--version. It returns
 *	DAEMON_ARGS_GO to carry on, or the exit status for main() (0 after
 *	-h or -V, 64 after a usage error, with the help on stderr).
 *
 *	daemon_load() loads the configuration, logging "FILE:LINE: ..." on
 *	failure; it returns the status of conf_load().
 *
 *	daemon_signals() blocks SIGHUP, SIGTERM and SIGINT in the calling
 *	thread (threads started later inherit the mask, so the main thread
 *	alone takes them with sigtimedwait() on *set) and ignores SIGPIPE.
 *
 *	Call all of them at start-up only.
 */

#include <signal.h>

#include "conf.h"
#include "why.h"

#define DAEMON_ARGS_GO	(-1)
#define DAEMON_FOREGROUND_LOG	2	/* daemon_args(): -f logs to stderr, no fork */

typedef struct DAEMON_ARGS {
    const char *conf_path;		/* -c; default CONF_DEFAULT_PATH */
    int     foreground;			/* -f */
    int     check_only;			/* -n */
} DAEMON_ARGS;

extern int daemon_facility(const CONF *);
extern int daemon_listen(const char *, int *, WHY *);
extern const char *daemon_socket_path(const char *);
extern int daemon_socket_access(const char *, const char *, const char *, const char *, const char *);
extern int daemon_privileges(const CONF *, const char *);
extern int daemon_pidfile(const CONF *, const char *);
extern int daemon_pidfile_update(void);
extern int daemon_pidfile_locked(void);
extern int daemon_args(int, char **, const char *, int, DAEMON_ARGS *);
extern int daemon_load(const char *, CONF **);
extern void daemon_signals(sigset_t *);

#endif
