/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	netstring 3
 * SUMMARY
 *	netstring parser and formatter (the Postfix socketmap framing)
 * DESCRIPTION
 *	See netstring.h. Implements D. J. Bernstein's netstring format as
 *	Postfix's socketmap_table(5) uses it.
 */

#include <stdio.h>
#include <string.h>

#include "netstring.h"
#include "status.h"

/* netstring_parse - one netstring at the start of buf */

int     netstring_parse(const char *buf, size_t len, size_t max, const char **data,
			        size_t *dlen, size_t *consumed)
{
    size_t  n = 0;
    size_t  i = 0;
    int     ret = STATUS_INVAL;

    /* Netstrings: the length is decimal digits, no leading zeros. */
    while (i < len && buf[i] >= '0' && buf[i] <= '9') {
	if (i >= NETSTRING_DIGITS_MAX)
	    goto out;
	if (i == 1 && buf[0] == '0')
	    goto out;
	n = n * 10 + (size_t) (buf[i] - '0');
	i++;
    }
    if (n > max)
	goto out;
    if (i == len) {
	ret = NETSTRING_MORE;
	goto out;
    }
    if (i == 0 || buf[i] != ':')
	goto out;
    i++;
    if (len - i < n + 1) {
	ret = NETSTRING_MORE;
	goto out;
    }
    if (buf[i + n] != ',')
	goto out;
    *data = buf + i;
    *dlen = n;
    *consumed = i + n + 1;
    ret = STATUS_OK;

out:
    return (ret);
}

/* netstring_format - DATA as a netstring */

int     netstring_format(char *out, size_t size, const char *data, size_t dlen, size_t *outlen)
{
    int     hlen;
    int     ret = STATUS_INVAL;

    hlen = snprintf(out, size, "%zu:", dlen);
    if (hlen < 0 || (size_t) hlen >= size || size - (size_t) hlen < dlen + 2)
	goto out;
    if (dlen)
	memcpy(out + hlen, data, dlen);
    out[hlen + dlen] = ',';
    out[hlen + dlen + 1] = 0;
    *outlen = (size_t) hlen + dlen + 1;
    ret = STATUS_OK;

out:
    if (ret != STATUS_OK && size > 0)
	out[0] = 0;
    return (ret);
}
