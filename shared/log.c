/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	log 3
 * SUMMARY
 *	logging with Postfix severities
 * DESCRIPTION
 *	See log.h.
 */

#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "str.h"
#include "text.h"

static const char *log_progname = "stsfilter";
static int log_flags = LOG_TO_STDERR;
static void (*log_hook) (int, const char *);

static const char *log_prefix[] = {
    "", "warning: ", "error: ", "fatal: ", "panic: ",
};

static const int log_priority[] = {
    LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_CRIT,
};

/* log_stderr_is_journal - is stderr the journal stream systemd gave us? */

static int log_stderr_is_journal(void)
{
    const char *env = getenv("JOURNAL_STREAM");
    unsigned long long dev;
    unsigned long long ino;
    char   *end;
    struct stat st;
    int     result = 0;

    /* systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of stderr's stream. */
    if (env == 0 || *env == 0)
	goto cleanup;
    errno = 0;
    dev = strtoull(env, &end, 10);
    if (errno != 0 || end == env || *end != ':')
	goto cleanup;
    env = end + 1;
    ino = strtoull(env, &end, 10);
    if (errno != 0 || end == env || *end != 0)
	goto cleanup;
    if (fstat(STDERR_FILENO, &st) != 0)
	goto cleanup;
    result = ((unsigned long long) st.st_dev == dev
	      && (unsigned long long) st.st_ino == ino);
cleanup:
    return (result);
}

void    log_init(const char *progname, int flags)
{
    log_progname = progname;
    /* Under systemd both sinks end in the journal: keep syslog's (LOG_MAIL). */
    if ((flags & LOG_TO_SYSLOG) && (flags & LOG_TO_STDERR) && log_stderr_is_journal())
	flags &= ~LOG_TO_STDERR;
    log_flags = flags;
    if (flags & LOG_TO_SYSLOG)
	openlog(progname, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void    log_set_hook(void (*hook) (int, const char *))
{
    log_hook = hook;
}

static void log_vemit(int, const char *, va_list) LOG_PRINTF(2, 0);

static void log_vemit(int sev, const char *fmt, va_list ap)
{
    char    raw[LOG_LINE_MAX];
    char    line[LOG_LINE_MAX];

    raw[0] = 0;
    (void) str_copy(raw, sizeof(raw), log_prefix[sev]);
    (void) vsnprintf(raw + strlen(raw), sizeof(raw) - strlen(raw), fmt, ap);
    (void) text_sanitize(line, sizeof(line), raw);
    if (log_hook) {
	log_hook(sev, line);
	return;
    }
    if (log_flags & LOG_TO_SYSLOG)
	syslog(log_priority[sev], "%s", line);
    if (log_flags & LOG_TO_STDERR)
	(void) fprintf(stderr, "%s: %s\n", log_progname, line);
}

#define LOG_FN(name, sev) \
void name(const char *fmt,...) \
{ \
    va_list ap; \
    va_start(ap, fmt); \
    log_vemit(sev, fmt, ap); \
    va_end(ap); \
}

LOG_FN(log_info, LOG_SEV_INFO)
LOG_FN(log_warn, LOG_SEV_WARN)
LOG_FN(log_error, LOG_SEV_ERROR)

void    log_fatal(const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vemit(LOG_SEV_FATAL, fmt, ap);
    va_end(ap);
    exit(1);
}

void    log_panic(const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vemit(LOG_SEV_PANIC, fmt, ap);
    va_end(ap);
    abort();
}
