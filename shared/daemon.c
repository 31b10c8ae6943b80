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
#include <string.h>
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
	|| chmod(path, 0666) < 0 || listen(s, DAEMON_BACKLOG) < 0) {
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

/* daemon_privileges - chown a unix socket, then become user */

int     daemon_privileges(const CONF *conf, const char *spec)
{
    const char *user = conf_str(conf, CONF_USER);
    const char *path = spec ? daemon_socket_path(spec) : 0;
    struct passwd *pw;

    if (geteuid() != 0) {
	if ((pw = getpwuid(geteuid())) == 0 || strcmp(pw->pw_name, user) != 0)
	    log_warn("not running as root: cannot become user %s", user);
	return (0);
    }
    if ((pw = getpwnam(user)) == 0) {
	log_error("unknown user %s (parameter user)", user);
	return (-1);
    }
    if (path && chown(path, pw->pw_uid, pw->pw_gid) < 0)
	log_warn("cannot chown %s to %s: %s", path, user, strerror(errno));
    if (setgid(pw->pw_gid) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
	log_error("cannot become user %s: %s", user, strerror(errno));
	return (-1);
    }
    return (0);
}

/* daemon_pidfile - write the pid file (empty name: none) */

int     daemon_pidfile(const char *path)
{
    FILE   *fp;
    int     ret = -1;

    if (*path == 0)
	return (0);
    if ((fp = fopen(path, "w")) == 0)
	goto out;
    (void) fprintf(fp, "%ld\n", (long) getpid());
    if (fclose(fp) != 0)
	goto out;
    ret = 0;

out:
    if (ret < 0)
	log_error("cannot write pid file %s: %s", path, strerror(errno));
    return (ret);
}

/* daemon_help - the options, one line each */

static void daemon_help(FILE *fp, const char *progname, int with_foreground)
{
    (void) fprintf(fp, "usage: %s [-c FILE] %s[-n] | -h | -V\n", progname,
		   with_foreground ? "[-f] " : "");
    (void) fprintf(fp, "  -c, --config FILE   configuration file (default %s)\n", CONF_DEFAULT_PATH);
    if (with_foreground)
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
