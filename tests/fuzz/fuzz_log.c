/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_log 3
 * SUMMARY
 *	a quiet log.h for fuzz targets whose code under test logs per record
 * DESCRIPTION
 *	Linked before libstsengine, it replaces every symbol of log.c (the
 *	archive member is then not pulled in; should log.c gain a symbol
 *	that the engine uses, the link fails with a duplicate symbol rather
 *	than mixing the two). Each message is still formatted with
 *	vsnprintf(), so AddressSanitizer checks the arguments, and then
 *	dropped: log.c's sanitizing of every octet, under coverage
 *	instrumentation, would otherwise take most of each execution.
 *	log_fatal() and log_panic() abort: the per-record code must never
 *	call them, so a call is a finding.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static char fuzz_log_line[LOG_LINE_MAX];

static void fuzz_log_format(const char *, va_list) LOG_PRINTF(1, 0);

static void fuzz_log_format(const char *fmt, va_list ap)
{
    (void) vsnprintf(fuzz_log_line, sizeof(fuzz_log_line), fmt, ap);
}

void    log_init(const char *progname, int flags)
{
    (void) progname;
    (void) flags;
}

void    log_set_hook(void (*hook) (int, const char *))
{
    (void) hook;
}

#define FUZZ_LOG_FN(name) \
void name(const char *fmt,...) \
{ \
    va_list ap; \
    va_start(ap, fmt); \
    fuzz_log_format(fmt, ap); \
    va_end(ap); \
}

FUZZ_LOG_FN(log_info)
FUZZ_LOG_FN(log_warn)
FUZZ_LOG_FN(log_error)

void    log_fatal(const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    fuzz_log_format(fmt, ap);
    va_end(ap);
    fprintf(stderr, "fuzz: log_fatal called: %s\n", fuzz_log_line);
    abort();
}

void    log_panic(const char *fmt,...)
{
    va_list ap;

    va_start(ap, fmt);
    fuzz_log_format(fmt, ap);
    va_end(ap);
    fprintf(stderr, "fuzz: log_panic called: %s\n", fuzz_log_line);
    abort();
}
