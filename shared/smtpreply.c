/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	smtpreply 3
 * SUMMARY
 *	incremental parser for SMTP replies (RFC 5321 section 4.2)
 * DESCRIPTION
 *	See smtpreply.h. A byte-at-a-time state machine over a fixed-size
 *	structure: the current line is collected in reply->cur (at most
 *	SMTPREPLY_LINE_MAX - 1 octets before its LF), checked when its LF
 *	arrives, and its text appended to reply->text. Nothing is
 *	allocated, so the parser can be fed arbitrary bytes (fuzzing) and
 *	split input at any position gives the same result.
 */

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "smtpreply.h"
#include "status.h"

#define SMTPREPLY_ST_LINE	0	/* collecting lines */
#define SMTPREPLY_ST_DONE	1	/* complete reply */
#define SMTPREPLY_ST_BAD	2	/* invalid input */

/* smtpreply_init - prepare for one reply */

void    smtpreply_init(SMTPREPLY *reply)
{
    reply->code = 0;
    reply->line_count = 0;
    reply->state = SMTPREPLY_ST_LINE;
    reply->size = 0;
    reply->cur_len = 0;
    reply->text_len = 0;
    reply->text[0] = 0;
    reply->error[0] = 0;
}

/* smtpreply_bad - record why the input is invalid */

static int smtpreply_bad(SMTPREPLY *reply, const char *what)
{
    reply->state = SMTPREPLY_ST_BAD;
    (void) snprintf(reply->error, sizeof(reply->error), "%s", what);
    return (STATUS_INVAL);
}

/* smtpreply_line_end - check one complete line of len octets (no CR/LF) */

static int smtpreply_line_end(SMTPREPLY *reply, size_t len)
{
    const char *p = reply->cur;
    int     code;
    int     last;
    size_t  tlen;

    /* RFC 5321 §4.2: Reply-code = %x32-35 %x30-35 %x30-39. */
    if (len < 3)
	return (smtpreply_bad(reply, "reply line too short for a reply code"));
    if (p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' || p[2] < '0' || p[2] > '9')
	return (smtpreply_bad(reply, "reply line does not start with a valid reply code"));
    code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');

    /* RFC 5321 §4.2.1: every line of a multiline reply has the same code. */
    if (reply->line_count > 0 && code != reply->code)
	return (smtpreply_bad(reply, "reply code differs between lines of one reply"));

    /*
     * RFC 5321 §4.2: "-" after the code continues the reply; the last line
     * has SP and optional text, or nothing (Reply-code [ SP textstring ]).
     */
    if (len == 3 || p[3] == ' ')
	last = 1;
    else if (p[3] == '-')
	last = 0;
    else
	return (smtpreply_bad(reply, "no space or dash after the reply code"));

    if (reply->line_count >= SMTPREPLY_LINES_MAX)
	return (smtpreply_bad(reply, "reply has too many lines"));

    /* Store the text after "NNN-" / "NNN ", NUL-terminated. */
    tlen = len > 4 ? len - 4 : 0;
    if (reply->text_len + tlen + 1 > sizeof(reply->text))
	return (smtpreply_bad(reply, "reply too long"));	/* cannot happen */
    reply->line_off[reply->line_count] = (int) reply->text_len;
    if (tlen > 0)
	memcpy(reply->text + reply->text_len, p + 4, tlen);
    reply->text[reply->text_len + tlen] = 0;
    reply->text_len += tlen + 1;
    reply->line_count++;
    reply->code = code;
    reply->cur_len = 0;
    if (last) {
	reply->state = SMTPREPLY_ST_DONE;
	return (STATUS_OK);
    }
    return (SMTPREPLY_MORE);
}

/* smtpreply_feed - consume input up to the end of the reply */

int     smtpreply_feed(SMTPREPLY *reply, const char *buf, size_t len, size_t *consumed)
{
    size_t  i = 0;
    size_t  n;
    unsigned char ch;
    int     status = SMTPREPLY_MORE;

    if (reply->state == SMTPREPLY_ST_DONE) {
	status = STATUS_OK;
	goto done;
    }
    if (reply->state == SMTPREPLY_ST_BAD) {
	status = STATUS_INVAL;
	goto done;
    }
    while (i < len) {
	ch = (unsigned char) buf[i++];

	/* Our cap on the whole reply, counted in octets on the wire. */
	if (reply->size >= SMTPREPLY_SIZE_MAX) {
	    status = smtpreply_bad(reply, "reply longer than 8192 octets");
	    goto done;
	}
	reply->size++;

	/* RFC 5321 §4.2: textstring = 1*(%d09 / %d32-126); never NUL. */
	if (ch == 0) {
	    status = smtpreply_bad(reply, "NUL byte in reply");
	    goto done;
	}
	if (ch != '\n') {

	    /*
	     * RFC 5321 §4.5.3.1.5: at most 512 octets per reply line
	     * including CRLF, so at most 511 before the LF.
	     */
	    if (reply->cur_len >= SMTPREPLY_LINE_MAX - 1) {
		status = smtpreply_bad(reply, "reply line longer than 512 octets");
		goto done;
	    }
	    reply->cur[reply->cur_len++] = (char) ch;
	    continue;
	}
	/* End of line: CRLF, or a bare LF (tolerated). */
	n = reply->cur_len;
	if (n > 0 && reply->cur[n - 1] == '\r')
	    n--;
	/* A bare-LF line is measured as if it ended in CRLF. */
	if (n > SMTPREPLY_LINE_MAX - 2) {
	    status = smtpreply_bad(reply, "reply line longer than 512 octets");
	    goto done;
	}
	if ((status = smtpreply_line_end(reply, n)) != SMTPREPLY_MORE)
	    goto done;
    }

done:
    if (consumed)
	*consumed = i;
    return (status);
}

/* smtpreply_line - text of one line */

const char *smtpreply_line(const SMTPREPLY *reply, int index)
{
    if (index < 0 || index >= reply->line_count)
	return ("");
    return (reply->text + reply->line_off[index]);
}

/* smtpreply_lower - ASCII lowercase, independent of the locale */

static int smtpreply_lower(int ch)
{
    return ((ch >= 'A' && ch <= 'Z') ? ch - 'A' + 'a' : ch);
}

/* smtpreply_has_keyword - EHLO keyword lookup */

int     smtpreply_has_keyword(const SMTPREPLY *reply, const char *keyword)
{
    const char *line;
    size_t  k;
    int     i;

    if (reply->state != SMTPREPLY_ST_DONE || keyword == 0 || *keyword == 0)
	return (0);

    /*
     * RFC 5321 §4.1.1.1: ehlo-ok-rsp; the first line carries the domain
     * and greeting, each further line one ehlo-keyword and its params,
     * separated by SP. §2.4: keywords are case-insensitive.
     */
    for (i = 1; i < reply->line_count; i++) {
	line = reply->text + reply->line_off[i];
	for (k = 0; keyword[k] && line[k]; k++)
	    if (smtpreply_lower((unsigned char) keyword[k])
		!= smtpreply_lower((unsigned char) line[k]))
		break;
	if (keyword[k] != 0)
	    continue;
	if (line[k] == 0 || line[k] == ' ' || line[k] == '\t')
	    return (1);
    }
    return (0);
}
