/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	daemon 3
 * SUMMARY
 *	start-up helpers shared by the stsfilter daemons
 * DESCRIPTION
 *	See daemon.h.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>
#include <netinet/in.h>

#include "daemon.h"
#include "log.h"
#include "status.h"
#include "str.h"

#define DAEMON_BACKLOG	512
#define DAEMON_GROUPS_MAX	256

static int daemon_pid_fd = -1;		/* locked while we run */
static char daemon_pid_deferred[CONF_VALUE_MAX + 1];	/* write after setuid */

/* daemon_facility - syslog_facility to a LOG_* facility */

int     daemon_facility(const CONF *conf)
{
    static const int facilities[] = {
	LOG_MAIL, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1, LOG_LOCAL2,
	LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7,
    };
    int     i = conf_enum(conf, CONF_SYSLOG_FACILITY);

    return (i >= 0 && i < (int) (sizeof(facilities) / sizeof(facilities[0])) ? facilities[i] : LOG_MAIL);
}

/* daemon_socket_path - the file of a unix socket spec, or null */

const char *daemon_socket_path(const char *spec)
{
    if (strncmp(spec, "unix:", 5) == 0)
	return (spec + 5);
    if (strncmp(spec, "local:", 6) == 0)
	return (spec + 6);
    if (spec[0] == '/')
	return (spec);
    return (0);
}

/* daemon_listen_unix - bind a unix socket */

static int daemon_listen_unix(const char *path, int *fd, WHY *why)
{
    struct sockaddr_un sun;
    struct stat st;
    int     s = -1;
    int     ret = STATUS_FAIL;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) < 0) {
	why_set(why, "socket path too long: %s", path);
	goto out;
    }
    /* Remove a stale socket, never another kind of file. */
    if (lstat(path, &st) == 0) {
	if (!S_ISSOCK(st.st_mode)) {
	    why_set(why, "%s exists and is not a socket", path);
	    goto out;
	}
	(void) unlink(path);
    }
    if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	|| bind(s, (struct sockaddr *) &sun, sizeof(sun)) < 0
	|| chmod(path, 0600) < 0 || listen(s, DAEMON_BACKLOG) < 0) {
	why_set(why, "cannot listen on %s: %s", path, strerror(errno));
	goto out;
    }
    *fd = s;
    s = -1;
    ret = STATUS_OK;

out:
    if (s >= 0)
	(void) close(s);
    return (ret);
}

/* daemon_listen - open the listening socket of a spec */

int     daemon_listen(const char *spec, int *fd, WHY *why)
{
    char    buf[CONF_VALUE_MAX + 1];
    struct addrinfo hints;
    struct addrinfo *res = 0;
    const char *path;
    char   *port;
    char   *host = 0;
    char   *at;
    int     s = -1;
    int     on = 1;
    int     err;
    int     ret = STATUS_FAIL;

    *fd = -1;
    if ((path = daemon_socket_path(spec)) != 0)
	return (daemon_listen_unix(path, fd, why));
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (str_copy(buf, sizeof(buf), spec) < 0)
	goto bad;
    if (strncmp(buf, "inet:", 5) == 0) {
	hints.ai_family = AF_INET;
	port = buf + 5;
    } else if (strncmp(buf, "inet6:", 6) == 0) {
	hints.ai_family = AF_INET6;
	port = buf + 6;
    } else {
	goto bad;
    }
    if ((at = strchr(port, '@')) != 0) {
	*at = 0;
	host = at + 1;
    }
    if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
	why_set(why, "cannot resolve %s: %s", spec, gai_strerror(err));
	goto out;
    }
    if ((s = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0
	|| setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
	|| bind(s, res->ai_addr, res->ai_addrlen) < 0 || listen(s, DAEMON_BACKLOG) < 0) {
	why_set(why, "cannot listen on %s: %s", spec, strerror(errno));
	goto out;
    }
    *fd = s;
    s = -1;
    ret = STATUS_OK;
    goto out;

bad:
    why_set(why, "bad socket %s: expected unix:/path, inet:port or inet:port@host", spec);

out:
    if (res)
	freeaddrinfo(res);
    if (s >= 0)
	(void) close(s);
    return (ret);
}

/* daemon_user_writes - may the user (uid, groups) write to st? */

static int daemon_user_writes(const struct stat *st, uid_t uid, const gid_t *groups, int ngroups)
{
    int     i;

    if (uid == 0)
	return (1);
    if (st->st_uid == uid)
	return ((st->st_mode & S_IWUSR) != 0);
    for (i = 0; i < ngroups; i++)
	if (groups[i] == st->st_gid)
	    return ((st->st_mode & S_IWGRP) != 0);
    return ((st->st_mode & S_IWOTH) != 0);
}

/* daemon_pid_dir_unsafe - could user replace path's directory entry? */

static int daemon_pid_dir_unsafe(const char *path, const struct passwd *pw, char *dir, size_t len)
{
    gid_t   groups[DAEMON_GROUPS_MAX];
    int     ngroups = DAEMON_GROUPS_MAX;
    struct stat st;
    char   *slash;
    int     first = 1;

    if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0)
	return (1);				/* too many groups: be careful */
    if (str_copy(dir, len, path) < 0)
	return (1);
    for (;;) {
	if ((slash = strrchr(dir, '/')) == 0)
	    (void) str_copy(dir, len, ".");	/* relative: the cwd */
	else if (slash == dir)
	    dir[1] = 0;
	else
	    *slash = 0;
	if (stat(dir, &st) < 0)
	    return (0);				/* open() will say why */
	/* Its own folder: any write access lets the user plant a link. */
	if (daemon_user_writes(&st, pw->pw_uid, groups, ngroups)
	    && (first || (st.st_mode & S_ISVTX) == 0))
	    return (1);
	/* A parent: without the sticky bit, the user could swap a child. */
	if (strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0)
	    return (0);
	first = 0;
    }
}

/* daemon_pidfile_open - open, check, lock and write the pid file */

static int daemon_pidfile_open(const char *path)
{
    struct stat st;
    char    buf[32];
    ssize_t n;
    int     fd = -1;
    int     ret = -1;

    /* No link followed; O_NONBLOCK: a planted FIFO cannot hang us. */
    if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644)) < 0) {
	log_error("cannot open pid file %s: %s%s", path, strerror(errno),
		  errno == ELOOP ? " (a symbolic link: refused)" : "");
	goto out;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
	log_error("pid file %s is not a regular file with one link: refused", path);
	goto out;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	log_error("pid file %s is locked: another copy (pid %s) is running", path,
		  *buf ? buf : "unknown");
	goto out;
    }
    daemon_pid_fd = fd;
    fd = -1;
    ret = daemon_pidfile_update();

out:
    if (fd >= 0)
	(void) close(fd);
    return (ret);
}

/*
 * daemon_pidfile_busy - is the pid file locked by a running copy? Read
 * only, no link followed, nothing created: safe as root in any folder.
 */

static int daemon_pidfile_busy(const char *path)
{
    struct stat st;
    char    buf[32];
    ssize_t n;
    int     fd;
    int     busy = 0;

    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
	return (0);				/* the write will say why */
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && flock(fd, LOCK_SH | LOCK_NB) < 0
	&& errno == EWOULDBLOCK) {
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	log_error("pid file %s is locked: another copy (pid %s) is running", path, *buf ? buf : "unknown");
	busy = 1;
    }
    (void) close(fd);
    return (busy);
}

/* daemon_pidfile - lock and write the pid file, or defer it */

int     daemon_pidfile(const CONF *conf, const char *path)
{
    const char *user = conf_str(conf, CONF_USER);
    struct passwd *pw;
    char    dir[CONF_VALUE_MAX + 1];

    if (*path == 0)
	return (0);
    if (geteuid() == 0 && (pw = getpwnam(user)) != 0 && pw->pw_uid != 0
	&& daemon_pid_dir_unsafe(path, pw, dir, sizeof(dir))) {
	/* Root must not open a name that user can replace. */
	log_info("%s is writable by user %s: the pid file is written after the privilege drop",
		 dir, user);
	if (daemon_pidfile_busy(path))
	    return (-1);
	return (str_copy(daemon_pid_deferred, sizeof(daemon_pid_deferred), path) < 0 ? -1 : 0);
    }
    return (daemon_pidfile_open(path));
}

/* daemon_pidfile_update - write the current pid (after fork) */

int     daemon_pidfile_update(void)
{
    char    buf[32];
    int     len;

    if (daemon_pid_fd < 0)
	return (0);
    len = snprintf(buf, sizeof(buf), "%ld\n", (long) getpid());
    if (ftruncate(daemon_pid_fd, 0) < 0 || pwrite(daemon_pid_fd, buf, (size_t) len, 0) != len) {
	log_error("cannot write the pid file: %s", strerror(errno));
	return (-1);
    }
    return (0);
}

/* daemon_pidfile_locked - do we hold the pid file? */

int     daemon_pidfile_locked(void)
{
    return (daemon_pid_fd >= 0);
}

/* daemon_socket_access - owner, group and mode of a unix socket */

int     daemon_socket_access(const char *path, const char *mode, const char *group, const char *user,
			             const char *param)
{
    struct passwd *pw;
    struct group *gr = 0;
    struct stat st;
    char    dir[CONF_VALUE_MAX + 1];
    char   *slash;
    mode_t  m = (mode_t) strtol(mode, 0, 8);
    gid_t   gid;
    int     ret = -1;

    if ((pw = getpwnam(user)) == 0) {
	log_error("unknown user %s (parameter user)", user);
	goto out;
    }
    gid = pw->pw_gid;
    if (*group && (gr = getgrnam(group)) == 0)
	log_error("group %s does not exist: %s gets the group of user %s, and the MTA cannot connect "
		  "unless it runs as %s; set %s to the MTA's group", group, path, user, user, param);
    else if (gr)
	gid = gr->gr_gid;
    if (chown(path, geteuid() == 0 ? pw->pw_uid : (uid_t) -1, gid) < 0)
	log_error("cannot give %s the owner %s and group %s: %s; the MTA may not be able to connect",
		  path, user, gr ? group : "(user's)", strerror(errno));
    if (chmod(path, m) < 0) {
	log_error("cannot set mode %s on %s: %s", mode, path, strerror(errno));
	goto out;
    }
    ret = 0;
    if (gr == 0)
	goto out;
    if ((m & 0060) != 0060 && (m & 0006) != 0006)
	log_error("%s: mode %s gives group %s no access: the MTA cannot connect", path, mode, group);
    /* Every folder above must be searchable by the group (or others). */
    if (str_copy(dir, sizeof(dir), path) < 0)
	goto out;
    while ((slash = strrchr(dir, '/')) != 0 && slash != dir) {
	*slash = 0;
	if (stat(dir, &st) < 0)
	    break;
	if (!((st.st_mode & S_IXOTH) || (st.st_gid == gid && (st.st_mode & S_IXGRP))))
	    log_error("folder %s is not searchable by group %s: the MTA cannot reach %s", dir, group, path);
    }

out:
    return (ret);
}

/* daemon_privileges - chown a unix socket, then become user */

int     daemon_privileges(const CONF *conf, const char *spec)
{
    const char *user = conf_str(conf, CONF_USER);
    const char *path = spec ? daemon_socket_path(spec) : 0;
    struct passwd *pw;

    if (geteuid() != 0) {
	if ((pw = getpwuid(geteuid())) == 0 || strcmp(pw->pw_name, user) != 0)
	    log_warn("not running as root: cannot become user %s", user);
	return (daemon_pid_deferred[0] ? daemon_pidfile_open(daemon_pid_deferred) : 0);
    }
    if ((pw = getpwnam(user)) == 0) {
	log_error("unknown user %s (parameter user)", user);
	return (-1);
    }
    if (pw->pw_uid == 0 && !conf_bool(conf, CONF_ALLOW_ROOT)) {
	log_error("refusing to run as root: user = %s has uid 0; set user to an unprivileged account "
		  "(allow_root = yes is for test setups only)", user);
	return (-1);
    }
    if (path && chown(path, pw->pw_uid, pw->pw_gid) < 0)
	log_warn("cannot chown %s to %s: %s", path, user, strerror(errno));
    if (setgid(pw->pw_gid) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
	log_error("cannot become user %s: %s", user, strerror(errno));
	return (-1);
    }
    /* A pid folder that user can write: only now, as user. */
    if (daemon_pid_deferred[0] && daemon_pidfile_open(daemon_pid_deferred) < 0)
	return (-1);
    return (0);
}

/* daemon_help - the options, one line each */

static void daemon_help(FILE *fp, const char *progname, int with_foreground)
{
    (void) fprintf(fp, "usage: %s [-c FILE] %s[-n] | -h | -V\n", progname,
		   with_foreground ? "[-f] " : "");
    (void) fprintf(fp, "  -c, --config FILE   configuration file (default %s)\n", CONF_DEFAULT_PATH);
    if (with_foreground == DAEMON_FOREGROUND_LOG)
	(void) fputs("  -f, --foreground    log to stderr too, beside syslog\n", fp);
    else if (with_foreground)
	(void) fputs("  -f, --foreground    do not become a daemon; log to stderr too\n", fp);
    (void) fputs("  -n, --check-config  check the configuration file and exit\n", fp);
    (void) fputs("  -h, --help          print this help and exit\n", fp);
    (void) fputs("  -V, --version       print the version and exit\n", fp);
}

/* daemon_args - the options every daemon takes */

int     daemon_args(int argc, char **argv, const char *progname, int with_foreground,
		            DAEMON_ARGS *args)
{
    static const struct option longopts[] = {
	{"config", required_argument, 0, 'c'},
	{"foreground", no_argument, 0, 'f'},
	{"check-config", no_argument, 0, 'n'},
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, 'V'},
	{0, 0, 0, 0},
    };
    int     ch;
    int     ret = DAEMON_ARGS_GO;

    args->conf_path = CONF_DEFAULT_PATH;
    args->foreground = 0;
    args->check_only = 0;
    while (ret == DAEMON_ARGS_GO
	   && (ch = getopt_long(argc, argv, "c:fnhV", longopts, 0)) != -1) {
	switch (ch) {
	case 'c':
	    args->conf_path = optarg;
	    break;
	case 'f':
	    if (!with_foreground) {
		(void) fprintf(stderr, "%s: option -f is not supported (it always runs in the foreground)\n",
			       progname);
		ret = 64;
		break;
	    }
	    args->foreground = 1;
	    break;
	case 'n':
	    args->check_only = 1;
	    break;
	case 'V':
	    (void) printf("%s %s\n", progname, PACKAGE_VERSION);
	    ret = 0;
	    break;
	case 'h':
	    daemon_help(stdout, progname, with_foreground);
	    ret = 0;
	    break;
	default:				/* getopt printed why */
	    ret = 64;
	    break;
	}
    }
    if (ret == DAEMON_ARGS_GO && optind != argc) {
	(void) fprintf(stderr, "%s: unexpected argument \"%s\"\n", progname, argv[optind]);
	ret = 64;
    }
    if (ret == 64)
	daemon_help(stderr, progname, with_foreground);
    return (ret);
}

int     daemon_load(const char *path, CONF **conf)
{
    WHY     why;
    int     status;

    why.text[0] = 0;
    if ((status = conf_load(path, conf, &why)) != STATUS_OK)
	log_error("%s", *why.text ? why.text : "cannot load the configuration");
    return (status);
}

void    daemon_signals(sigset_t *set)
{
    (void) sigemptyset(set);
    (void) sigaddset(set, SIGHUP);
    (void) sigaddset(set, SIGTERM);
    (void) sigaddset(set, SIGINT);
    (void) pthread_sigmask(SIG_BLOCK, set, 0);
    (void) signal(SIGPIPE, SIG_IGN);
}
