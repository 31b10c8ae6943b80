/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cli 1
 * SUMMARY
 *	stsfilter - MTA-STS and DANE route diagnosis, linting, configuration
 * SYNOPSIS
 *	stsfilter [-c FILE] config [-n] [NAME...]
 *
 *	stsfilter config --sample
 *
 *	stsfilter [-c FILE] audit [--json] [--concurrency N] [--rate N/s]
 *		[--format postfix|sendmail|domains] [FILE...]
 *
 *	stsfilter lint txt RECORD [--json]
 *
 *	stsfilter lint policy FILE [--mx HOST]... [--json]
 *
 *	stsfilter -h | --help | --version
 * DESCRIPTION
 *	main() of the command-line tool: global options, command dispatch
 *	and the config command. Glue only: conf.c parses and prints the
 *	configuration; the lint command is in cli_lint.c,
 *	the audit command in cli_audit.c. See stsfilter(1)
 *	and cli.h.
 *
 *	The configuration file is read only by commands that use it. A
 *	missing default file means all defaults; a missing -c file, or any
 *	error in the file, is a configuration error: the message
 *	("FILE:LINE: ...") goes to stderr, the exit status is 78.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "log.h"
#include "status.h"
#include "why.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

const char cli_progname[] = "stsfilter";

static const char cli_usage_text[] =
"usage: stsfilter [-c FILE] COMMAND [ARGS]\n"
"       stsfilter -h | --help | --version\n"
"\n"
"commands:\n"
"  check [--json] [--ca-file FILE] [--resolver IP[@PORT]] [--trust-anchor FILE] DOMAIN...\n"
"                                         diagnose delivery over TLS to each domain\n"
"  audit [--json] [--concurrency N] [--rate N/s] [--format postfix|sendmail|domains]\n"
"        [--max-domains N] [FILE...]\n"
"                                         check every recipient domain of mail logs\n"
"  cache show DOMAIN | purge DOMAIN|--all | stats\n"
"                                         look at or clear the policy cache\n"
"  config [-n] [NAME...]                  print the configuration in effect\n"
"                                         (-n: only parameters set in the file)\n"
"  config --sample                        print a sample file: every parameter\n"
"                                         commented out with its default\n"
"  lint txt RECORD [--json]               check an _mta-sts TXT record\n"
"  lint policy FILE [--mx HOST]... [--json]\n"
"                                         check an MTA-STS policy file (- = stdin)\n"
"\n"
"options:\n"
"  -c FILE    configuration file (default " CONF_DEFAULT_PATH ")\n"
"  -h, --help print this help\n"
"  --version  print the version\n";

/* cli_error - print "stsfilter: message" to stderr */

void    cli_error(const char *fmt,...)
{
    va_list ap;

    (void) fprintf(stderr, "%s: ", cli_progname);
    va_start(ap, fmt);
    (void) vfprintf(stderr, fmt, ap);
    va_end(ap);
    (void) fputc('\n', stderr);
}

/* cli_usage - usage to stderr, EX_USAGE */

static int cli_usage(void)
{
    (void) fputs("usage: stsfilter [-c FILE] COMMAND [ARGS]"
		 " (stsfilter --help lists the commands)\n", stderr);
    return (CLI_EX_USAGE);
}

/* cli_load_conf - load the file, or defaults when the default is absent */

int     cli_load_conf(const char *path, int given, CONF **conf)
{
    WHY     why;
    int     status;
    int     ret = CLI_EX_CONFIG;

    why.text[0] = 0;
    status = conf_load(path, conf, &why);
    if (status == STATUS_NOTFOUND && !given)
	status = conf_defaults(conf);
    if (status != STATUS_OK) {
	/* Compiler style: the message starts with "FILE:LINE: ". */
	(void) fprintf(stderr, "%s\n", *why.text ? why.text : "out of memory");
	goto out;
    }
    ret = CLI_EX_OK;

out:
    return (ret);
}

/* cli_config - stsfilter config [-n] [NAME...] */

static int cli_config(int argc, char **argv, const char *path, int given)
{
    static const struct option longopts[] = {
	{"help", no_argument, 0, 'h'},
	{"sample", no_argument, 0, 's'},
	{0, 0, 0, 0},
    };
    CONF   *conf = 0;
    int     only_set = 0;
    int     ret = CLI_EX_USAGE;
    int     id;
    int     ch;
    int     i;

    optind = 0;					/* glibc: full reset */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+nh", longopts, 0)) != -1) {
	switch (ch) {
	case 'n':
	    only_set = 1;
	    break;
	case 'h':
	    (void) fputs("usage: stsfilter [-c FILE] config [-n] [NAME...]\n"
			 "       stsfilter config --sample\n", stdout);
	    ret = CLI_EX_OK;
	    goto out;
	case 's':				/* no file read: the table */
	    ret = (optind == argc) ? cli_sample(stdout) : CLI_EX_USAGE;
	    if (ret == CLI_EX_USAGE)
		cli_error("config: --sample takes no parameter names");
	    goto out;
	default:
	    cli_error("config: unknown option \"%s\"", argv[optind - 1]);
	    (void) cli_usage();
	    goto out;
	}
    }
    for (i = optind; i < argc; i++) {
	if (conf_lookup_name(argv[i]) < 0) {
	    cli_error("config: unknown parameter \"%s\"", argv[i]);
	    goto out;
	}
    }
    if ((ret = cli_load_conf(path, given, &conf)) != CLI_EX_OK)
	goto out;
    if (optind == argc) {
	if (conf_print(conf, stdout, only_set) < 0)
	    ret = CLI_EX_IOERR;
	goto out;
    }
    /* Named parameters, in the order given (like postconf NAME). */
    for (i = optind; i < argc; i++) {
	id = conf_lookup_name(argv[i]);
	if (only_set && !conf_is_set(conf, id))
	    continue;
	if (*conf_str(conf, id))
	    (void) printf("%s = %s\n", argv[i], conf_str(conf, id));
	else
	    (void) printf("%s =\n", argv[i]);
    }
    if (fflush(stdout) != 0 || ferror(stdout))
	ret = CLI_EX_IOERR;

out:
    if (ret == CLI_EX_IOERR)
	cli_error("config: write error");
    conf_unref(&conf);
    return (ret);
}

int     main(int argc, char **argv)
{
    static const struct option longopts[] = {
	{"help", no_argument, 0, 'h'},
	{"version", no_argument, 0, 'V'},
	{0, 0, 0, 0},
    };
    const char *path = CONF_DEFAULT_PATH;
    const char *command;
    int     given = 0;
    int     ret = CLI_EX_USAGE;
    int     ch;

    log_init(cli_progname, LOG_TO_STDERR);
    opterr = 0;
    /* "+": stop at the command; its own options follow it. */
    while ((ch = getopt_long(argc, argv, "+c:h", longopts, 0)) != -1) {
	switch (ch) {
	case 'c':
	    path = optarg;
	    given = 1;
	    break;
	case 'h':
	    (void) fputs(cli_usage_text, stdout);
	    ret = CLI_EX_OK;
	    goto out;
	case 'V':
	    (void) printf("%s %s\n", cli_progname, PACKAGE_VERSION);
	    ret = CLI_EX_OK;
	    goto out;
	default:
	    if (optopt == 'c')
		cli_error("option -c needs a file name");
	    else
		cli_error("unknown option \"%s\"", argv[optind - 1]);
	    ret = cli_usage();
	    goto out;
	}
    }
    if (optind >= argc) {
	cli_error("missing command");
	ret = cli_usage();
	goto out;
    }
    command = argv[optind];
    if (strcmp(command, "config") == 0)
	ret = cli_config(argc - optind, argv + optind, path, given);
    else if (strcmp(command, "lint") == 0)
	ret = cli_lint(argc - optind, argv + optind);
    else if (strcmp(command, "check") == 0)
	ret = cli_check(argc - optind, argv + optind, path, given);
    else if (strcmp(command, "audit") == 0)
	ret = cli_audit(argc - optind, argv + optind, path, given);
    else if (strcmp(command, "cache") == 0)
	ret = cli_cache(argc - optind, argv + optind, path, given);
    else {
	cli_error("unknown command \"%s\"", command);
	ret = cli_usage();
    }

out:
    if (fflush(stdout) != 0 && ret == CLI_EX_OK) {
	cli_error("write error");
	ret = CLI_EX_IOERR;
    }
    return (ret);
}
