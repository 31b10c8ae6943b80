/* SPDX-License-Identifier: ISC */
#ifndef TESTDATA_H_INCLUDED
#define TESTDATA_H_INCLUDED

/*
 * NAME
 *	testdata 3h
 * SUMMARY
 *	named data files for table-driven unit tests
 * SYNOPSIS
 *	#include "testdata.h"
 *
 *	char	*testdata_read(const char *name, size_t *len)
 *
 *	int	testdata_rows(const char *name, char sep, int (*row)(void *ctx,
 *			int lineno, int nfield, char **field), void *ctx)
 *
 *	size_t	testdata_unescape(char *s)
 * DESCRIPTION
 *	Data files live in tests/unit/data (STS_TESTDATA in the
 *	environment, set by "make check").
 *
 *	testdata_read() returns the whole file, NUL-terminated, in memory
 *	the caller frees; it fails the test when the file is missing.
 *
 *	testdata_rows() calls row() for every line that is neither empty
 *	nor a comment ("#" in column one). The line is split at sep into
 *	at most TESTDATA_MAX_FIELDS fields; each field is trimmed of blanks
 *	and unescaped. It returns the number of rows; row() returning
 *	non-zero stops early.
 *
 *	testdata_len[] holds the length of each field of the current row
 *	(fields may contain NUL bytes after unescaping).
 *
 *	testdata_unescape() rewrites \n, \r, \t, \\, \| and \xHH in place
 *	and returns the new length (the result may contain NUL bytes).
 */

#include <stddef.h>

#define TESTDATA_MAX_FIELDS 16

extern size_t testdata_len[TESTDATA_MAX_FIELDS];
extern char *testdata_read(const char *, size_t *);
extern int testdata_rows(const char *, char, int (*) (void *, int, int, char **), void *);
extern size_t testdata_unescape(char *);

#endif
