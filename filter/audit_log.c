/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	audit_log 3
 * SUMMARY
 *	`stsfilter audit`: the recipients of mail log lines (Postfix,
 *	Sendmail) or of a list of domains
 * SYNOPSIS
 *	#include "audit_log.h"
 * DESCRIPTION
 *	See audit_log.h. The formats read are those of Postfix's delivery
 *	agents (smtp(8) and the others: "QUEUEID: to=<ADDR>, orig_to=<ADDR>,
 *	relay=HOST[ADDR]:PORT, delay=..., dsn=X.Y.Z, status=WORD (TEXT)")
 *	and of Sendmail's deliveries ("QUEUEID: to=ADDR,ADDR, delay=...,
 *	mailer=M, relay=HOST. [ADDR], dsn=X.Y.Z, stat=TEXT"), behind any
 *	syslog prefix that ends in "PROGRAM[PID]: " (BSD syslog, RFC 5424
 *	timestamps, journalctl's short output). Only the front end uses
 *	them, so they live in filter/.
 *
 *	RFC 5321 section 4.1.2: a local part may be a quoted string, which
 *	may hold "@", "," and ">"; the domain follows the last "@" outside
 *	the quotes.
 */

#include <stdio.h>
#include <string.h>

#include "audit_log.h"
#include "domain.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "why.h"

/* Postfix delivery agents whose deliveries never leave the host. */
static const char *const audit_log_local_agents[] = {
    "local", "virtual", "lmtp", "pipe", "discard", 0,
};

/* Sendmail mailers that deliver on the host. */
static const char *const audit_log_local_mailers[] = {
    "local", "prog", "*file*", "*include*", 0,
};

static int audit_log_listed(const char *const *list, const char *word)
{
    int     i;

    for (i = 0; list[i]; i++)
	if (strcmp(list[i], word) == 0)
	    return (1);
    return (0);
}

int     audit_log_read(FILE *fp, char *buf, size_t size, size_t *len)
{
    size_t  n = 0;
    int     over = 0;
    int     any = 0;
    int     c;
    int     ret = 0;

    /* getc, not fgets: a NUL byte must not hide where the line ends. */
    while ((c = getc_unlocked(fp)) != EOF) {
	any = 1;
	if (c == '\n')
	    break;
	if (n + 1 < size)
	    buf[n++] = (char) c;
	else
	    over = 1;
    }
    if (size > 0)
	buf[n] = 0;
    if (!any)
	goto out;
    if (!over && n > 0 && buf[n - 1] == '\r')
	buf[--n] = 0;
    if (over || n > AUDIT_LINE_MAX) {
	buf[0] = 0;
	ret = -1;
	goto out;
    }
    ret = 1;

out:
    if (len)
	*len = (ret == 1) ? strlen(buf) : 0;
    return (ret);
}

/*
 * The syslog tag: "... PROGRAM[PID]: REST". Copies PROGRAM into prog and
 * returns REST, or 0 when the line has no such tag.
 */
static const char *audit_log_tag(const char *line, char *prog, size_t size)
{
    const char *p, *q, *start;

    for (p = strchr(line, '['); p; p = strchr(p + 1, '[')) {
	for (q = p + 1; *q >= '0' && *q <= '9'; q++)
	     /* void */ ;
	if (q == p + 1 || strncmp(q, "]: ", 3) != 0)
	    continue;
	for (start = p; start > line && start[-1] != ' '; start--)
	     /* void */ ;
	if (start == p || (size_t) (p - start) >= size)
	    continue;
	memcpy(prog, start, (size_t) (p - start));
	prog[p - start] = 0;
	return (q + 3);
    }
    return (0);
}

static int audit_log_is_postfix(const char *prog)
{
    return (strncmp(prog, "postfix", 7) == 0);
}

static int audit_log_is_sendmail(const char *prog)
{
    return (strcmp(prog, "sendmail") == 0 || strcmp(prog, "sm-mta") == 0
	    || strncmp(prog, "sm-msp", 6) == 0);
}

/* "QUEUEID: " after the tag: copies it and returns what follows, or 0. */

static const char *audit_log_qid(const char *p, char *qid)
{
    size_t  n = 0;

    while ((p[n] >= '0' && p[n] <= '9') || (p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z'))
	n++;
    if (n == 0 || n >= AUDIT_QID_MAX || p[n] != ':' || p[n + 1] != ' ')
	return (0);
    memcpy(qid, p, n);
    qid[n] = 0;
    return (p + n + 2);
}

/*
 * One address at p: "<ADDR>" (up to the ">" outside quotes) or ADDR (up
 * to a "," or blank outside quotes, or the end). Fills r (addr, and the
 * domain normalized), sets *next past it. Returns STATUS_OK,
 * STATUS_NOTFOUND for an address without "@" outside quotes (a local
 * user, a |program, a /file), or STATUS_INVAL (unterminated, too long).
 */
static int audit_log_addr(const char *p, AUDIT_RCPT *r, const char **next)
{
    char    raw[AUDIT_ADDR_MAX];
    const char *at = 0;
    const char *s = p;
    const char *end;
    int     bracket = (*p == '<');
    int     quoted = 0;
    WHY     why;
    size_t  n;
    int     ret = STATUS_INVAL;

    if (bracket)
	s++;
    for (end = s; *end; end++) {
	if (quoted) {
	    if (*end == '\\' && end[1])
		end++;
	    else if (*end == '"')
		quoted = 0;
	    continue;
	}
	if (*end == '"')
	    quoted = 1;
	else if (*end == '@')
	    at = end;
	else if (bracket ? *end == '>' : (*end == ',' || *end == ' '))
	    break;
    }
    if ((bracket && *end != '>') || quoted)
	goto out;				/* unterminated */
    if ((n = (size_t) (end - s)) >= AUDIT_ADDR_MAX)
	goto out;
    *next = end + (bracket ? 1 : 0);
    memcpy(raw, s, n);
    raw[n] = 0;
    (void) text_sanitize(r->addr, sizeof(r->addr), raw);
    if (at == 0) {
	ret = STATUS_NOTFOUND;
	goto out;
    }
    why.text[0] = 0;
    n = (size_t) (end - at - 1);
    memcpy(raw, at + 1, n);
    raw[n] = 0;
    r->valid = (domain_normalize(raw, r->domain, sizeof(r->domain), &why) == STATUS_OK);
    if (!r->valid)
	(void) text_sanitize(r->domain, sizeof(r->domain), raw);
    ret = STATUS_OK;

out:
    return (ret);
}

/* The value of ", KEY=" in rest (up to the next ", " or the end), or 0. */

static const char *audit_log_field(const char *rest, const char *key, char *buf, size_t size)
{
    char    pat[32];
    const char *p, *e;
    size_t  n;

    (void) snprintf(pat, sizeof(pat), ", %s=", key);
    if ((p = strstr(rest, pat)) == 0)
	return (0);
    p += strlen(pat);
    if ((e = strstr(p, ", ")) == 0)
	e = p + strlen(p);
    n = (size_t) (e - p);
    if (n >= size)
	n = size - 1;
    memcpy(buf, p, n);
    buf[n] = 0;
    return (buf);
}

/* A relay at a loopback address: "HOST[127.0.0.1]:10024", "[IPv6:::1]". */

static int audit_log_loopback(const char *relay)
{
    const char *p;

    for (p = strchr(relay, '['); p; p = strchr(p + 1, '['))
	if (strncmp(p + 1, "127.", 4) == 0 || strncmp(p + 1, "::1]", 4) == 0
	    || strncmp(p + 1, "IPv6:::1]", 9) == 0)
	    return (1);
    return (0);
}

static int audit_log_postfix(const char *line, AUDIT_LINE *out)
{
    char    prog[64], buf[256];
    const char *p, *slash, *next;
    int     ret = STATUS_NOTFOUND;

    if ((p = audit_log_tag(line, prog, sizeof(prog))) == 0 || !audit_log_is_postfix(prog))
	goto out;
    slash = strrchr(prog, '/');
    (void) text_sanitize(out->agent, sizeof(out->agent), slash ? slash + 1 : prog);
    if ((p = audit_log_qid(p, out->qid)) == 0 || strncmp(p, "to=<", 4) != 0)
	goto out;
    if (audit_log_listed(audit_log_local_agents, out->agent))
	goto out;
    /* The first recipient after the queue id; orig_to= comes later. */
    ret = audit_log_addr(p + 3, &out->rcpt[0], &next);
    if (ret != STATUS_OK)
	goto out;
    ret = STATUS_NOTFOUND;
    if (audit_log_field(next, "relay", buf, sizeof(buf)) && audit_log_loopback(buf))
	goto out;
    if (audit_log_field(next, "status", buf, sizeof(buf)) == 0)
	goto out;
    if (strncmp(buf, "sent", 4) == 0)
	out->status = AUDIT_STATUS_SENT;
    else if (strncmp(buf, "deferred", 8) == 0)
	out->status = AUDIT_STATUS_DEFERRED;
    else if (strncmp(buf, "bounced", 7) == 0 || strncmp(buf, "expired", 7) == 0)
	out->status = AUDIT_STATUS_BOUNCED;
    else
	out->status = AUDIT_STATUS_OTHER;
    out->rcpt_count = 1;
    ret = STATUS_OK;

out:
    return (ret);
}

static int audit_log_sendmail(const char *line, AUDIT_LINE *out)
{
    char    prog[64], buf[256], dsn[16];
    const char *p, *next;
    AUDIT_RCPT r;
    int     st;
    int     ret = STATUS_NOTFOUND;

    if ((p = audit_log_tag(line, prog, sizeof(prog))) == 0 || !audit_log_is_sendmail(prog))
	goto out;
    if ((p = audit_log_qid(p, out->qid)) == 0 || strncmp(p, "to=", 3) != 0)
	goto out;
    if (audit_log_field(p, "mailer", buf, sizeof(buf)) == 0)
	buf[0] = 0;
    (void) text_sanitize(out->agent, sizeof(out->agent), buf);
    if (audit_log_listed(audit_log_local_mailers, buf))
	goto out;
    /* to=ADDR,ADDR, ...: the list ends at ", " outside addresses. */
    for (p += 3;;) {
	memset(&r, 0, sizeof(r));
	if ((st = audit_log_addr(p, &r, &next)) == STATUS_INVAL) {
	    ret = STATUS_INVAL;
	    goto out;
	}
	if (st == STATUS_OK) {
	    if (out->rcpt_count < AUDIT_RCPT_MAX)
		out->rcpt[out->rcpt_count++] = r;
	    else
		out->rcpt_dropped++;
	}
	if (*next != ',' || next[1] == ' ' || next[1] == 0)
	    break;
	p = next + 1;
    }
    if (audit_log_field(next, "relay", buf, sizeof(buf)) && audit_log_loopback(buf))
	goto out;
    if (audit_log_field(next, "stat", buf, sizeof(buf)) == 0 || out->rcpt_count == 0)
	goto out;
    if (audit_log_field(next, "dsn", dsn, sizeof(dsn)) == 0)
	dsn[0] = 0;
    if (strncmp(buf, "Sent", 4) == 0)
	out->status = AUDIT_STATUS_SENT;
    else if (strncmp(buf, "Deferred", 8) == 0)
	out->status = AUDIT_STATUS_DEFERRED;
    else if (dsn[0] == '5')
	out->status = AUDIT_STATUS_BOUNCED;
    else
	out->status = AUDIT_STATUS_OTHER;
    ret = STATUS_OK;

out:
    if (ret != STATUS_OK)
	out->rcpt_count = 0;
    return (ret);
}

static int audit_log_domains(const char *line, AUDIT_LINE *out)
{
    char    word[AUDIT_ADDR_MAX + 2];
    const char *p = line, *next;
    WHY     why;
    size_t  n;
    int     ret = STATUS_NOTFOUND;

    while (*p == ' ' || *p == '\t')
	p++;
    if (*p == 0 || *p == '#')
	goto out;
    for (n = 0; p[n] && p[n] != ' ' && p[n] != '\t'; n++)
	 /* void */ ;
    if (n >= AUDIT_ADDR_MAX) {
	ret = STATUS_INVAL;
	goto out;
    }
    /* An address: "user@example.com" or "<user@example.com>". */
    if (memchr(p, '@', n) != 0) {
	word[0] = '<';
	memcpy(word + 1, p, n);
	word[n + 1] = 0;
	if (p[0] == '<')
	    memmove(word, word + 1, n + 1);
	else
	    (void) str_append(word, sizeof(word), ">");
	ret = audit_log_addr(word, &out->rcpt[0], &next);
    } else {
	memcpy(word, p, n);
	word[n] = 0;
	(void) text_sanitize(out->rcpt[0].addr, sizeof(out->rcpt[0].addr), word);
	out->rcpt[0].valid = (domain_normalize(word, out->rcpt[0].domain, sizeof(out->rcpt[0].domain),
						   &why) == STATUS_OK);
	if (!out->rcpt[0].valid)
	    (void) text_sanitize(out->rcpt[0].domain, sizeof(out->rcpt[0].domain), word);
	ret = STATUS_OK;
    }
    if (ret == STATUS_OK)
	out->rcpt_count = 1;

out:
    return (ret);
}

int     audit_log_detect(const char *line, size_t len)
{
    char    prog[64];
    const char *p;
    size_t  n;

    if (len > AUDIT_LINE_MAX)
	return (AUDIT_FORMAT_AUTO);
    if (audit_log_tag(line, prog, sizeof(prog)) != 0) {
	if (audit_log_is_postfix(prog))
	    return (AUDIT_FORMAT_POSTFIX);
	if (audit_log_is_sendmail(prog))
	    return (AUDIT_FORMAT_SENDMAIL);
	return (AUDIT_FORMAT_AUTO);
    }
    for (p = line; *p == ' ' || *p == '\t'; p++)
	 /* void */ ;
    if (*p == 0 || *p == '#')
	return (AUDIT_FORMAT_AUTO);
    n = strcspn(p, " \t");
    /* One word with a dot: a domain or an address. */
    if (p[n + strspn(p + n, " \t")] == 0 && memchr(p, '.', n) != 0)
	return (AUDIT_FORMAT_DOMAINS);
    return (AUDIT_FORMAT_AUTO);
}

int     audit_log_parse(int format, const char *line, size_t len, AUDIT_LINE *out)
{
    int     ret = STATUS_INVAL;

    memset(out, 0, sizeof(*out));
    out->format = format;
    if (len > AUDIT_LINE_MAX)
	goto out;
    switch (format) {
    case AUDIT_FORMAT_POSTFIX:
	ret = audit_log_postfix(line, out);
	break;
    case AUDIT_FORMAT_SENDMAIL:
	ret = audit_log_sendmail(line, out);
	break;
    case AUDIT_FORMAT_DOMAINS:
	ret = audit_log_domains(line, out);
	break;
    default:
	ret = STATUS_NOTFOUND;
	break;
    }

out:
    return (ret);
}

static const char *const audit_log_formats[] = {"auto", "postfix", "sendmail", "domains"};

const char *audit_log_format_name(int format)
{
    return (format >= 0 && format <= AUDIT_FORMAT_DOMAINS ? audit_log_formats[format] : "unknown");
}

int     audit_log_format_code(const char *name)
{
    int     i;

    for (i = 0; i <= AUDIT_FORMAT_DOMAINS; i++)
	if (strcmp(audit_log_formats[i], name) == 0)
	    return (i);
    return (-1);
}
