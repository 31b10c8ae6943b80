/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	smtpd_proto 3
 * SUMMARY
 *	the OpenSMTPD filter protocol, versions 0.6 and 0.7
 * DESCRIPTION
 *	See smtpd_proto.h. Line formats from smtpd-filters(7) and from
 *	what OpenSMTPD 6.8 (protocol 0.6) and 7.4+ (protocol 0.7) emit.
 *	Pure code: no I/O, no allocation, no global state.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtpd_proto.h"
#include "str.h"

/* The registration: what the filter needs, nothing more. */

const char smtpd_proto_register_data[] = "register|filter|smtp-in|data-line";

const char *const smtpd_proto_register[] = {
    "register|filter|smtp-in|rcpt-to",
    "register|report|smtp-in|link-connect",
    "register|report|smtp-in|link-auth",
    "register|report|smtp-in|tx-begin",
    "register|report|smtp-in|tx-mail",
    "register|report|smtp-in|tx-rcpt",
    "register|report|smtp-in|tx-reset",
    "register|report|smtp-in|link-disconnect",
    "register|ready",
    0,
};

/* smtpd_proto_err - set the reason, return -1 */

static int smtpd_proto_err(char *err, size_t size, const char *text)
{
    if (err && size)
	(void) str_copy(err, size, text);
    return (-1);
}

/* smtpd_proto_field - cut the next "|"-separated field in place */

static char *smtpd_proto_field(char **cp)
{
    char   *start = *cp;
    char   *bar;

    if (start == 0)
	return (0);
    if ((bar = strchr(start, '|')) != 0) {
	*bar = 0;
	*cp = bar + 1;
    } else {
	*cp = 0;
    }
    return (start);
}

/* smtpd_proto_is_hex - 1 to SMTPD_PROTO_ID_MAX hex digits */

static int smtpd_proto_is_hex(const char *s)
{
    size_t  n;

    for (n = 0; s[n]; n++)
	if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') || (s[n] >= 'A' && s[n] <= 'F')))
	    return (0);
    return (n >= 1 && n <= SMTPD_PROTO_ID_MAX);
}

/* smtpd_proto_is_name - an event, phase or subsystem name */

static int smtpd_proto_is_name(const char *s)
{
    size_t  n;

    for (n = 0; s[n]; n++)
	if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
	    return (0);
    return (n >= 1 && n <= 64);
}

/* smtpd_proto_is_time - SECONDS[.FRACTION] */

static int smtpd_proto_is_time(const char *s)
{
    size_t  n = 0;
    size_t  f = 0;

    while (s[n] >= '0' && s[n] <= '9')
	n++;
    if (n == 0 || n > 20)
	return (0);
    if (s[n] == 0)
	return (1);
    if (s[n++] != '.')
	return (0);
    while (s[n + f] >= '0' && s[n + f] <= '9')
	f++;
    return (f >= 1 && f <= 9 && s[n + f] == 0);
}

/* smtpd_proto_line_version - "0.N" on a report or filter line */

static int smtpd_proto_line_version(const char *s)
{
    long    minor;

    if (strncmp(s, "0.", 2) != 0 || str_to_long(s + 2, 0, 999, &minor) < 0 || s[2] == '+' || s[2] == '-')
	return (-1);
    /* 0.5 (OpenSMTPD 6.6) answers "TOKEN|SESSION": not supported. */
    if (minor < 6)
	return (-1);
    /* Later versions are read as 0.7, the newest this code knows. */
    return (minor == 6 ? SMTPD_PROTO_V06 : SMTPD_PROTO_V07);
}

int     smtpd_proto_parse(char *line, SMTPD_PROTO_MSG *msg, char *err, size_t errsize)
{
    char   *cp = line;
    char   *stream;
    char   *version;
    char   *ts;
    char   *session;
    char   *token;
    int     ret = -1;

    memset(msg, 0, sizeof(*msg));
    if (err && errsize)
	err[0] = 0;
    if (line == 0 || strlen(line) > SMTPD_PROTO_LINE_MAX) {
	ret = smtpd_proto_err(err, errsize, "line too long");
	goto out;
    }
    if (strchr(line, '\n') != 0) {
	ret = smtpd_proto_err(err, errsize, "line holds LF");
	goto out;
    }
    stream = smtpd_proto_field(&cp);
    if (strcmp(stream, "config") == 0) {
	msg->stream = SMTPD_PROTO_CONFIG;
	msg->key = smtpd_proto_field(&cp);
	if (msg->key == 0 || !smtpd_proto_is_name(msg->key)) {
	    ret = smtpd_proto_err(err, errsize, "config line without a valid key");
	    goto out;
	}
	msg->value = cp;			/* rest of the line, or null */
	if (msg->value == 0 && strcmp(msg->key, "ready") != 0) {
	    ret = smtpd_proto_err(err, errsize, "config line without a value");
	    goto out;
	}
	ret = 0;
	goto out;
    }
    if (strcmp(stream, "report") == 0) {
	msg->stream = SMTPD_PROTO_REPORT;
    } else if (strcmp(stream, "filter") == 0) {
	msg->stream = SMTPD_PROTO_FILTER;
    } else {
	ret = smtpd_proto_err(err, errsize, "unknown stream (not config, report or filter)");
	goto out;
    }
    version = smtpd_proto_field(&cp);
    ts = smtpd_proto_field(&cp);
    msg->subsystem = smtpd_proto_field(&cp);
    msg->event = smtpd_proto_field(&cp);
    session = smtpd_proto_field(&cp);
    if (session == 0) {
	ret = smtpd_proto_err(err, errsize, "truncated line");
	goto out;
    }
    if ((msg->version = smtpd_proto_line_version(version)) < 0) {
	ret = smtpd_proto_err(err, errsize, "unsupported protocol version");
	goto out;
    }
    if (!smtpd_proto_is_time(ts)) {
	ret = smtpd_proto_err(err, errsize, "bad timestamp");
	goto out;
    }
    if (!smtpd_proto_is_name(msg->subsystem) || !smtpd_proto_is_name(msg->event)) {
	ret = smtpd_proto_err(err, errsize, "bad subsystem or event name");
	goto out;
    }
    if (!smtpd_proto_is_hex(session)) {
	ret = smtpd_proto_err(err, errsize, "bad session id");
	goto out;
    }
    (void) str_copy(msg->session, sizeof(msg->session), session);
    if (msg->stream == SMTPD_PROTO_FILTER) {
	if ((token = smtpd_proto_field(&cp)) == 0) {
	    ret = smtpd_proto_err(err, errsize, "filter request without a token");
	    goto out;
	}
	if (!smtpd_proto_is_hex(token)) {
	    ret = smtpd_proto_err(err, errsize, "bad token");
	    goto out;
	}
	(void) str_copy(msg->token, sizeof(msg->token), token);
	if (cp == 0) {
	    /* Every filter request carries a parameter, if only "" (data-line). */
	    ret = smtpd_proto_err(err, errsize, "filter request without a parameter");
	    goto out;
	}
    }
    msg->params = cp;
    ret = 0;

out:
    if (ret < 0) {
	msg->stream = 0;
	msg->params = 0;
    }
    return (ret);
}

/* smtpd_proto_number - leading decimal number of s, -1 if none */

static long smtpd_proto_number(const char *s, const char **end)
{
    long    n = 0;
    int     digits = 0;

    while (*s >= '0' && *s <= '9' && digits < 6) {
	n = n * 10 + (*s - '0');
	s++;
	digits++;
    }
    *end = s;
    return (digits ? n : -1);
}

int     smtpd_proto_version(const char *key, const char *value)
{
    const char *cp;
    long    major;
    long    minor;

    if (key == 0 || value == 0)
	return (0);
    if (strcmp(key, "protocol") == 0)
	return (smtpd_proto_line_version(value));
    if (strcmp(key, "smtpd-version") != 0)
	return (0);
    /* "6.8.0p2", "7.4.0", "7.8.0": MAJOR.MINOR is enough. */
    if ((major = smtpd_proto_number(value, &cp)) < 0 || *cp != '.')
	return (-1);
    if ((minor = smtpd_proto_number(cp + 1, &cp)) < 0)
	return (-1);
    if (major > 7 || (major == 7 && minor >= 4))
	return (SMTPD_PROTO_V07);
    if (major == 7 || (major == 6 && minor >= 7))
	return (SMTPD_PROTO_V06);
    return (-1);				/* 6.6 and earlier */
}

/* smtpd_proto_nth - copy the n-th "|" field of s (the last one takes the rest) */

static int smtpd_proto_nth(const char *s, int n, int last, char *buf, size_t size)
{
    const char *start = s;
    const char *bar;
    size_t  len;

    while (n-- > 0) {
	if ((bar = strchr(start, '|')) == 0)
	    return (-1);
	start = bar + 1;
    }
    if (last || (bar = strchr(start, '|')) == 0)
	len = strlen(start);
    else
	len = (size_t) (bar - start);
    if (len >= size)
	return (-1);
    memcpy(buf, start, len);
    buf[len] = 0;
    return (0);
}

int     smtpd_proto_link_connect(const SMTPD_PROTO_MSG *msg, char *addr, size_t size)
{
    char    src[256];
    char    dest[256];
    char   *host;
    char   *end;
    unsigned char bin[sizeof(struct in6_addr)];
    int     ret = -1;

    if (size)
	addr[0] = 0;
    if (msg->stream != SMTPD_PROTO_REPORT || msg->params == 0)
	goto out;
    /* RDNS|FCRDNS|SRC|DEST */
    if (smtpd_proto_nth(msg->params, 2, 0, src, sizeof(src)) < 0
	|| smtpd_proto_nth(msg->params, 3, 1, dest, sizeof(dest)) < 0)
	goto out;
    if (strncmp(src, "unix:", 5) == 0 || strcmp(src, "local") == 0) {
	ret = 0;				/* a local client: no address */
	goto out;
    }
    host = src;
    if (*host == '[') {
	if ((end = strchr(host, ']')) == 0 || (end[1] != 0 && end[1] != ':'))
	    goto out;
	*end = 0;
	host++;
	if (strncasecmp(host, "IPv6:", 5) == 0)
	    host += 5;
	if (inet_pton(AF_INET6, host, bin) != 1)
	    goto out;
    } else {
	if ((end = strrchr(host, ':')) != 0)
	    *end = 0;
	if (inet_pton(AF_INET, host, bin) != 1 && inet_pton(AF_INET6, host, bin) != 1)
	    goto out;
    }
    if (str_copy(addr, size, host) < 0)
	goto out;
    ret = 0;

out:
    if (ret < 0 && size)
	addr[0] = 0;
    return (ret);
}

int     smtpd_proto_link_auth(const SMTPD_PROTO_MSG *msg, char *result, size_t size)
{
    const char *p;
    size_t  len;
    int     ret = -1;

    if (size)
	result[0] = 0;
    if (msg->stream != SMTPD_PROTO_REPORT || msg->params == 0)
	goto out;
    if (msg->version == SMTPD_PROTO_V06) {
	/* 0.6: USER|RESULT; the user name is never empty after AUTH. */
	if ((p = strrchr(msg->params, '|')) == 0)
	    goto out;
	p++;
	len = strlen(p);
    } else {
	/* 0.7: RESULT|USER */
	if ((p = strchr(msg->params, '|')) == 0)
	    goto out;
	len = (size_t) (p - msg->params);
	p = msg->params;
    }
    if (!((len == 4 && strncmp(p, "pass", 4) == 0) || (len == 4 && strncmp(p, "fail", 4) == 0)
	  || (len == 5 && strncmp(p, "error", 5) == 0)))
	goto out;
    if (len >= size)
	goto out;
    memcpy(result, p, len);
    result[len] = 0;
    ret = 0;

out:
    return (ret);
}

int     smtpd_proto_link_auth_user(const SMTPD_PROTO_MSG *msg, char *user, size_t size)
{
    char    result[8];
    const char *p;
    size_t  len;
    int     ret = -1;

    if (size)
	user[0] = 0;
    if (size == 0 || smtpd_proto_link_auth(msg, result, sizeof(result)) < 0)
	goto out;
    if (msg->version == SMTPD_PROTO_V06) {
	/* 0.6: USER|RESULT; the user is all before the last "|". */
	p = msg->params;
	len = (size_t) (strrchr(p, '|') - p);
    } else {
	/* 0.7: RESULT|USER; the user is all after the first "|". */
	p = strchr(msg->params, '|') + 1;
	len = strlen(p);
    }
    if (len >= size)
	len = size - 1;				/* cut: it is only shown */
    memcpy(user, p, len);
    user[len] = 0;
    ret = 0;

out:
    return (ret);
}

/* smtpd_proto_tx - tx-mail and tx-rcpt: "MSGID|RESULT|ADDRESS" */

static int smtpd_proto_tx(const SMTPD_PROTO_MSG *msg, char *result, size_t rsize,
			          char *address, size_t asize)
{
    char    msgid[32];
    int     ret = -1;

    if (rsize)
	result[0] = 0;
    if (asize)
	address[0] = 0;
    if (msg->stream != SMTPD_PROTO_REPORT || msg->params == 0)
	goto out;
    if (smtpd_proto_nth(msg->params, 0, 0, msgid, sizeof(msgid)) < 0 || !smtpd_proto_is_hex(msgid)
	|| smtpd_proto_nth(msg->params, 1, 0, result, rsize) < 0
	|| smtpd_proto_nth(msg->params, 2, 1, address, asize) < 0)
	goto out;
    if (strcmp(result, "ok") != 0 && strcmp(result, "permfail") != 0 && strcmp(result, "tempfail") != 0)
	goto out;
    ret = 0;

out:
    if (ret < 0) {
	if (rsize)
	    result[0] = 0;
	if (asize)
	    address[0] = 0;
    }
    return (ret);
}

int     smtpd_proto_tx_mail(const SMTPD_PROTO_MSG *msg, char *result, size_t rsize,
			            char *address, size_t asize)
{
    return (smtpd_proto_tx(msg, result, rsize, address, asize));
}

int     smtpd_proto_tx_rcpt(const SMTPD_PROTO_MSG *msg, char *result, size_t rsize,
			            char *address, size_t asize)
{
    return (smtpd_proto_tx(msg, result, rsize, address, asize));
}

/* smtpd_proto_reply_ok - "4xx TEXT" or "5xx TEXT" (smtpd-filters(7)) */

static int smtpd_proto_reply_ok(const char *p)
{
    return ((p[0] == '4' || p[0] == '5') && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' && p[2] <= '9'
	    && p[3] == ' ' && p[4] != 0);
}

int     smtpd_proto_result(char *buf, size_t size, int version, const char *session,
			           const char *token, const char *decision, const char *param)
{
    int     n;
    int     ret = -1;

    if (size == 0)
	return (-1);
    buf[0] = 0;
    if (version != SMTPD_PROTO_V06 && version != SMTPD_PROTO_V07)
	goto out;
    if (!smtpd_proto_is_hex(session) || !smtpd_proto_is_hex(token))
	goto out;
    if (strcmp(decision, "proceed") == 0 || strcmp(decision, "junk") == 0) {
	if (param != 0)
	    goto out;
    } else if (strcmp(decision, "reject") == 0 || strcmp(decision, "disconnect") == 0) {
	if (param == 0 || !smtpd_proto_reply_ok(param))
	    goto out;
    } else if (strcmp(decision, "rewrite") == 0 || strcmp(decision, "report") == 0) {
	if (param == 0)
	    goto out;
    } else {
	goto out;
    }
    if (param && strpbrk(param, "\r\n") != 0)
	goto out;
    /* 0.6 and 0.7 alike: SESSION before TOKEN. */
    if (param)
	n = snprintf(buf, size, "filter-result|%s|%s|%s|%s\n", session, token, decision, param);
    else
	n = snprintf(buf, size, "filter-result|%s|%s|%s\n", session, token, decision);
    if (n < 0 || (size_t) n >= size)
	goto out;
    ret = n;

out:
    if (ret < 0)
	buf[0] = 0;
    return (ret);
}

int     smtpd_proto_dataline(char *buf, size_t size, int version, const char *session,
			             const char *token, const char *line)
{
    int     n;
    int     ret = -1;

    if (size == 0)
	return (-1);
    buf[0] = 0;
    if (version != SMTPD_PROTO_V06 && version != SMTPD_PROTO_V07)
	goto out;
    /* A bare CR inside message data is data; only LF ends a line. */
    if (!smtpd_proto_is_hex(session) || !smtpd_proto_is_hex(token) || strchr(line, '\n') != 0)
	goto out;
    n = snprintf(buf, size, "filter-dataline|%s|%s|%s\n", session, token, line);
    if (n < 0 || (size_t) n >= size)
	goto out;
    ret = n;

out:
    if (ret < 0)
	buf[0] = 0;
    return (ret);
}
