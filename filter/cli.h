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
 *	Exit statuses follow sysexits(3) where one applies; see
 *	stsfilter(1).
 */

#include <sysexits.h>

#define CLI_EX_OK	0
#define CLI_EX_INVALID	1		/* lint: the input is invalid */
#define CLI_EX_USAGE	EX_USAGE	/* 64 */
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

#endif
