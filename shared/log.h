/* SPDX-License-Identifier: ISC */
#ifndef LOG_H_INCLUDED
#define LOG_H_INCLUDED

/*
 * NAME
 *	log 3h
 * SUMMARY
 *	logging with Postfix severities
 * SYNOPSIS
 *	#include "log.h"
 *
 *	void	log_init(const char *progname, int flags)
 *
 *	void	log_info(const char *fmt, ...)
 *	void	log_warn(const char *fmt, ...)
 *	void	log_error(const char *fmt, ...)
 *	void	log_fatal(const char *fmt, ...)
 *	void	log_panic(const char *fmt, ...)
 *
 *	void	log_set_hook(void (*hook)(int severity, const char *line))
 * DESCRIPTION
 *	log_init() names the program and selects sinks: LOG_TO_SYSLOG
 *	(facility LOG_MAIL), LOG_TO_STDERR, or both. Before log_init()
 *	everything goes to stderr. When both are asked for and stderr is
 *	systemd's journal stream (JOURNAL_STREAM names its device and
 *	inode, systemd.exec(5)), only syslog is used: both would reach the
 *	journal, and every line would be there twice.
 *
 *	Severities follow Postfix:
 *	log_info	normal operation, one line per decision.
 *	log_warn	bad remote input or a recoverable problem.
 *	log_error	a local problem the admin must fix; processing goes on.
 *	log_fatal	a start-up problem (bad config, cannot bind); logs and
 *			exits with status 1. Never call on the per-message path.
 *	log_panic	a broken internal invariant; logs and aborts.
 *
 *	Every formatted line is passed through text_sanitize() before it
 *	reaches a sink, so remote text cannot forge log lines. Lines are
 *	capped at LOG_LINE_MAX bytes. Thread-safe.
 *
 *	log_set_hook() lets unit tests capture lines (null restores).
 */

#define LOG_TO_SYSLOG	(1<<0)
#define LOG_TO_STDERR	(1<<1)

#define LOG_SEV_INFO	0
#define LOG_SEV_WARN	1
#define LOG_SEV_ERROR	2
#define LOG_SEV_FATAL	3
#define LOG_SEV_PANIC	4

#define LOG_LINE_MAX	2048

#if defined(__GNUC__)
#define LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LOG_NORETURN __attribute__((noreturn))
#else
#define LOG_PRINTF(a, b)
#define LOG_NORETURN
#endif

extern void log_init(const char *, int);
extern void log_info(const char *,...) LOG_PRINTF(1, 2);
extern void log_warn(const char *,...) LOG_PRINTF(1, 2);
extern void log_error(const char *,...) LOG_PRINTF(1, 2);
extern void log_fatal(const char *,...) LOG_PRINTF(1, 2) LOG_NORETURN;
extern void log_panic(const char *,...) LOG_PRINTF(1, 2) LOG_NORETURN;
extern void log_set_hook(void (*) (int, const char *));

#endif
