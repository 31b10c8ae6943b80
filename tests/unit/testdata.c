/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	testdata 3
 * SUMMARY
 *	named data files for table-driven unit tests
 * DESCRIPTION
 *	See testdata.h.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "str.h"
#include "testdata.h"

size_t  testdata_len[TESTDATA_MAX_FIELDS];

static FILE *testdata_open(const char *name)
{
    const char *dir = getenv("STS_TESTDATA");
    char    path[4096];
    FILE   *fp;

    if (dir == 0)
	dir = "tests/unit/data";
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int) sizeof(path))
	fail_msg("data file path too long: %s", name);
    if ((fp = fopen(path, "rb")) == 0)
	fail_msg("cannot open data file %s", path);
    return (fp);
}

char   *testdata_read(const char *name, size_t *len)
{
    FILE   *fp = testdata_open(name);
    char   *buf = 0;
    size_t  size = 0;
    size_t  used = 0;
    size_t  n;

    for (;;) {
	if (used + 4096 + 1 > size) {
	    size = size ? size * 2 : 8192;
	    if ((buf = realloc(buf, size)) == 0)
		fail_msg("out of memory");
	}
	n = fread(buf + used, 1, size - used - 1, fp);
	if (n == 0)
	    break;
	used += n;
    }
    (void) fclose(fp);
    buf[used] = 0;
    if (len)
	*len = used;
    return (buf);
}

static int testdata_hex(int c)
{
    if (c >= '0' && c <= '9')
	return (c - '0');
    if (c >= 'a' && c <= 'f')
	return (c - 'a' + 10);
    if (c >= 'A' && c <= 'F')
	return (c - 'A' + 10);
    return (-1);
}

size_t  testdata_unescape(char *s)
{
    char   *in = s;
    char   *out = s;
    int     hi, lo;

    while (*in) {
	if (*in != '\\' || in[1] == 0) {
	    *out++ = *in++;
	    continue;
	}
	in++;
	switch (*in) {
	case 'n':
	    *out++ = '\n';
	    in++;
	    break;
	case 'r':
	    *out++ = '\r';
	    in++;
	    break;
	case 't':
	    *out++ = '\t';
	    in++;
	    break;
	case 'x':
	    if ((hi = testdata_hex(in[1])) >= 0 && in[1] && (lo = testdata_hex(in[2])) >= 0) {
		*out++ = (char) (hi * 16 + lo);
		in += 3;
		break;
	    }
	    *out++ = '\\';
	    break;
	default:
	    *out++ = *in++;
	    break;
	}
    }
    *out = 0;
    return ((size_t) (out - s));
}

int     testdata_rows(const char *name, char sep,
		              int (*row) (void *, int, int, char **), void *ctx)
{
    char   *buf = testdata_read(name, 0);
    char   *line;
    char   *next;
    char   *field[TESTDATA_MAX_FIELDS];
    char   *p;
    int     nfield;
    int     lineno = 0;
    int     rows = 0;

    for (line = buf; line && *line; line = next) {
	lineno++;
	if ((next = strchr(line, '\n')) != 0)
	    *next++ = 0;
	if (*line == '#' || *str_trim(line) == 0)
	    continue;
	nfield = 0;
	for (p = line; nfield < TESTDATA_MAX_FIELDS;) {
	    char   *q = p;

	    /* Find an unescaped separator. */
	    while (*q && !(*q == sep && (q == p || q[-1] != '\\')))
		q++;
	    field[nfield] = p;
	    if (*q) {
		*q = 0;
		p = q + 1;
	    } else
		p = 0;
	    field[nfield] = str_trim(field[nfield]);
	    testdata_len[nfield] = testdata_unescape(field[nfield]);
	    nfield++;
	    if (p == 0)
		break;
	}
	rows++;
	if (row(ctx, lineno, nfield, field) != 0)
	    break;
    }
    free(buf);
    return (rows);
}
