/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cache_negative 3
 * SUMMARY
 *	the body of a cached negative record
 * DESCRIPTION
 *	See cache_negative.h. Moved from route.c so that the decoder of
 *	this untrusted backend data can be tested and fuzzed on its own
 *	(tests/fuzz/fuzz_cache.c); route.c calls it.
 */

#include <string.h>

#include "cache_negative.h"
#include "domain.h"
#include "status.h"
#include "str.h"

/* cache_negative_name_ok - a host name from a cache entry: LDH, dots, capped */

static int cache_negative_name_ok(const char *s)
{
    size_t  n = 0;

    for (; *s; s++, n++)
	if (n >= DOMAIN_MAX || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')
				 || *s == '-' || *s == '.' || *s == '_'))
	    return (0);
    return (n > 0);
}

/* cache_negative_encode - "implicit\n" and "PREF NAME\n" lines */

int     cache_negative_encode(const VERDICT *v, char *buf, size_t size)
{
    int     status = STATUS_INVAL;
    int     i;

    if (size == 0)
	goto done;
    buf[0] = 0;
    if (v->implicit_mx && str_append(buf, size, "implicit\n") != 0)
	goto done;
    for (i = 0; i < v->host_count; i++)
	if (str_appendf(buf, size, "%d %s\n", v->host[i].pref, v->host[i].name) != 0)
	    goto done;
    status = STATUS_OK;

done:
    if (status != STATUS_OK && size > 0)
	buf[0] = 0;
    return (status);
}

/* cache_negative_decode - untrusted: a malformed line makes the whole entry a miss */

int     cache_negative_decode(char *body, VERDICT *v)
{
    char   *line, *next, *sp;
    long    pref;
    int     status = STATUS_INVAL;

    for (line = body; line && *line; line = next) {
	if ((next = strchr(line, '\n')) != 0)
	    *next++ = 0;
	if (strcmp(line, "implicit") == 0) {
	    v->implicit_mx = 1;
	    continue;
	}
	if ((sp = strchr(line, ' ')) == 0 || (*sp = 0, str_to_long(line, 0, 65535, &pref)) != 0
	    || !cache_negative_name_ok(sp + 1) || verdict_add_host(v, sp + 1, (int) pref) == 0)
	    goto done;
    }
    if (v->host_count > 0)
	status = STATUS_OK;

done:
    if (status != STATUS_OK) {
	v->host_count = 0;
	v->implicit_mx = 0;
    }
    return (status);
}
