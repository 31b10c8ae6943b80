/* SPDX-License-Identifier: ISC */
#ifndef CLI_H_INCLUDED
#define CLI_H_INCLUDED

/*
 * NAME
 *	cli 3h
 * SUMMARY
 *	the stsfilter command-line tool (thin glue over the engine)
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	extern const char cli_progname[];
 *
 *	int	cli_lint(int argc, char **argv)
 *
 *	void	cli_error(const char *fmt, ...)
 *
 *	int	cli_check_print(const VERDICT *v, int json, FILE *fp)
 *
 *	int	cli_check_exit(int verdict)
 * DESCRIPTION
 *	cli.c holds main(): global options (-c FILE, -h/--help,
 *	--version), command dispatch and the "config" command.
 *	cli_lint.c holds the "lint" command, the only user of jansson
 *	(JSON output) in the front end.
 *
 *	cli_lint() runs "lint txt RECORD [--json]" or "lint policy FILE
 *	[--mx HOST]... [--json]"; argv[0] is "lint". It returns the exit
 *	status: CLI_EX_OK (valid), CLI_EX_INVALID (invalid input),
 *	CLI_EX_USAGE, CLI_EX_NOINPUT (FILE cannot be opened), CLI_EX_IOERR
 *	(output failed) or CLI_EX_SOFTWARE (out of memory).
 *
 *	cli_error() writes "stsfilter: message" and a newline to stderr.
 *
 *	cli_load_conf() loads path into *conf, falling back to the
 *	defaults when path is the default and does not exist (given is
 *	zero); on error it prints "FILE:LINE: ..." and returns CLI_EX_CONFIG.
 *
 *	cli_sample() (cli_sample.c) writes the sample configuration of
 *	"config --sample".
 *
 *	cli_audit() (cli_audit.c) runs "audit": the recipient domains of
 *	mail logs (audit_log.c, audit_table.c), checked.
 *
 *	cli_check.c (the "check" command's output) provides
 *	cli_check_print() and cli_check_exit(); see that file.
 *
 *	Exit statuses follow sysexits(3) where one applies; see
 *	stsfilter(1).
 */

#include <stdio.h>
#include <sysexits.h>

struct VERDICT;					/* verdict.h */
struct CONF;					/* conf.h */

#define CLI_EX_OK	0
#define CLI_EX_INVALID	1		/* lint: the input is invalid */
#define CLI_EX_USAGE	EX_USAGE	/* 64 */
#define CLI_EX_DATAERR	EX_DATAERR	/* 65: an invalid domain */
#define CLI_EX_UNAVAILABLE EX_UNAVAILABLE	/* 69: the engine cannot start */
#define CLI_EX_NOINPUT	EX_NOINPUT	/* 66 */
#define CLI_EX_SOFTWARE	EX_SOFTWARE	/* 70 */
#define CLI_EX_IOERR	EX_IOERR	/* 74 */
#define CLI_EX_CONFIG	EX_CONFIG	/* 78 */

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

extern const char cli_progname[];
extern int cli_lint(int, char **);
extern void cli_error(const char *,...) CLI_PRINTF(1, 2);
extern int cli_check_print(const struct VERDICT *, int, FILE *);
extern int cli_check_exit(int);
extern int cli_check(int, char **, const char *, int);
extern int cli_cache(int, char **, const char *, int);	/* cli_cache.c */
extern int cli_audit(int, char **, const char *, int);	/* cli_audit.c */
extern int cli_load_conf(const char *, int, struct CONF **);
extern int cli_sample(FILE *);			/* cli_sample.c */

#endif
