/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cli_lint 3
 * SUMMARY
 *	"stsfilter lint": check an _mta-sts TXT record or an MTA-STS policy
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int	cli_lint(int argc, char **argv)
 * DESCRIPTION
 *	Glue only: txt_parse() and policy_lint() decide, policy_match()
 *	answers --mx; this prints the result for a person or, with --json,
 *	for machines (jansson). See stsfilter(1) and cli.h.
 *
 *	lint txt RECORD [--json]: RECORD is the record text, or the
 *	quoted presentation form that dig(1) prints ("v=STSv1; " "id=1"):
 *	the character-strings are joined without spaces (RFC 8461 section
 *	3.1). JSON: {"valid": bool, "errors": [string], "id": string|null}.
 *
 *	lint policy FILE [--mx HOST]... [--json]: FILE ("-" for stdin) is
 *	read up to POLICY_BODY_MAX bytes; a larger file is invalid (RFC
 *	8461 section 3.3), never truncated. JSON: {"valid", "errors",
 *	"warnings", "version", "mode", "max_age", "mx", "matches",
 *	"lenient"}, where matches maps each --mx HOST as given to a
 *	boolean, and lenient (null for a valid policy) says whether
 *	lenient parsers accept an invalid one (policy_lenient()).
 *
 *	Exit status: CLI_EX_OK valid, CLI_EX_INVALID invalid, CLI_EX_USAGE,
 *	CLI_EX_NOINPUT (FILE cannot be read), CLI_EX_IOERR, CLI_EX_SOFTWARE.
 *	Every echo of input or of a parser message is sanitized
 *	(text_sanitize()).
 */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli.h"
#include "policy.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "txt.h"
#include "why.h"

#define CLI_LINT_MSG_MAX	256	/* messages kept per list */
#define CLI_LINT_LINE_MAX	600	/* one message */

typedef struct CLI_LINT_MSGS {
    int     count;
    int     dropped;
    char   *msg[CLI_LINT_MSG_MAX];
} CLI_LINT_MSGS;

typedef struct CLI_LINT_REPORT {
    CLI_LINT_MSGS errors;
    CLI_LINT_MSGS warnings;
    int     nomem;
} CLI_LINT_REPORT;

/* cli_lint_add - keep one sanitized message */

static void cli_lint_add(CLI_LINT_MSGS *m, int *nomem, int lineno, const char *text)
{
    char    clean[CLI_LINT_LINE_MAX];
    char    line[CLI_LINT_LINE_MAX + 32];

    if (m->count >= CLI_LINT_MSG_MAX) {
	m->dropped++;
	return;
    }
    (void) text_sanitize(clean, sizeof(clean), text);
    if (lineno > 0)
	(void) snprintf(line, sizeof(line), "line %d: %s", lineno, clean);
    else
	(void) snprintf(line, sizeof(line), "%s", clean);
    if ((m->msg[m->count] = strdup(line)) == 0)
	*nomem = 1;
    else
	m->count++;
}

static void cli_lint_msgs_free(CLI_LINT_MSGS *m)
{
    int     i;

    for (i = 0; i < m->count; i++)
	free(m->msg[i]);
    m->count = 0;
}

/* cli_lint_report - policy_lint() callback */

static void cli_lint_report(void *ctx, int lineno, int is_error, const char *msg)
{
    CLI_LINT_REPORT *r = ctx;

    cli_lint_add(is_error ? &r->errors : &r->warnings, &r->nomem, lineno, msg);
}

/* cli_lint_json_list - a JSON array of the messages */

static json_t *cli_lint_json_list(const CLI_LINT_MSGS *m)
{
    json_t *arr = json_array();
    char    more[64];
    int     i;

    for (i = 0; arr && i < m->count; i++)
	(void) json_array_append_new(arr, json_string(m->msg[i]));
    if (arr && m->dropped) {
	(void) snprintf(more, sizeof(more), "(%d more)", m->dropped);
	(void) json_array_append_new(arr, json_string(more));
    }
    return (arr);
}

/* cli_lint_json_out - print and release a JSON object */

static int cli_lint_json_out(json_t **obj, int ret)
{
    if (*obj == 0 || json_dumpf(*obj, stdout, JSON_INDENT(2)) < 0
	|| fputc('\n', stdout) == EOF) {
	cli_error("lint: cannot write JSON output");
	ret = (*obj == 0) ? CLI_EX_SOFTWARE : CLI_EX_IOERR;
    }
    json_decref(*obj);
    *obj = 0;
    return (ret);
}

/*
 * cli_lint_unquote - join the quoted character-strings of dig output
 * ("v=STSv1; " "id=1") into out. RFC 1035 section 5.1: \X is X, \DDD
 * is the byte DDD. Returns the length, or -1 with a reason.
 */
static long cli_lint_unquote(const char *in, char *out, size_t size, WHY *why)
{
    const char *p = in;
    size_t  n = 0;
    int     c;
    long    ret = -1;

    for (;;) {
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
	    p++;
	if (*p == 0)
	    break;
	if (*p++ != '"') {
	    why_set(why, "quoted TXT data: text outside double quotes");
	    goto out;
	}
	while (*p != '"') {
	    if (*p == 0) {
		why_set(why, "quoted TXT data: missing closing double quote");
		goto out;
	    }
	    c = (unsigned char) *p++;
	    if (c == '\\') {
		if (p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9'
		    && p[2] >= '0' && p[2] <= '9') {
		    c = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		    if (c > 255) {
			why_set(why, "quoted TXT data: bad escape \\%.3s", p);
			goto out;
		    }
		    p += 3;
		} else if (*p == 0) {
		    why_set(why, "quoted TXT data: backslash at the end");
		    goto out;
		} else
		    c = (unsigned char) *p++;
	    }
	    if (n + 1 >= size) {
		why_set(why, "record longer than %d bytes", TXT_RECORD_MAX);
		goto out;
	    }
	    out[n++] = (char) c;
	}
	p++;
    }
    out[n] = 0;
    ret = (long) n;

out:
    return (ret);
}

/* cli_lint_txt - lint txt RECORD [--json] */

static int cli_lint_txt(const char *arg, int json)
{
    char    record[TXT_RECORD_MAX + 2];
    char    clean[TXT_RECORD_MAX + 2];
    CLI_LINT_REPORT r;
    TXT_RECORD txt;
    json_t *obj = 0;
    WHY     why;
    long    len;
    int     valid = 0;
    int     ret = CLI_EX_INVALID;

    memset(&r, 0, sizeof(r));
    memset(&txt, 0, sizeof(txt));
    why.text[0] = 0;
    if (arg[strspn(arg, " \t\r\n")] == '"')
	len = cli_lint_unquote(arg, record, sizeof(record), &why);
    else if (str_copy(record, sizeof(record), arg) == 0)
	len = (long) strlen(record);
    else {
	why_set(&why, "record longer than %d bytes", TXT_RECORD_MAX);
	len = -1;
    }
    if (len >= 0 && txt_parse(record, (size_t) len, &txt, &why) == STATUS_OK)
	valid = 1;
    else
	cli_lint_add(&r.errors, &r.nomem, 0, *why.text ? why.text : "invalid record");
    if (r.nomem) {
	cli_error("lint: out of memory");
	ret = CLI_EX_SOFTWARE;
	goto out;
    }
    ret = valid ? CLI_EX_OK : CLI_EX_INVALID;
    if (json) {
	obj = json_pack("{s:b, s:o, s:o}", "valid", valid,
			"errors", cli_lint_json_list(&r.errors),
			"id", valid ? json_string(txt.id) : json_null());
	ret = cli_lint_json_out(&obj, ret);
	goto out;
    }
    if (valid) {
	(void) printf("valid MTA-STS TXT record: v=STSv1, id=%s\n", txt.id);
    } else {
	if (len >= 0) {
	    (void) text_sanitize_len(clean, sizeof(clean), record, (size_t) len);
	    (void) printf("record: %s\n", clean);
	}
	(void) printf("invalid MTA-STS TXT record: %s\n", r.errors.msg[0]);
    }

out:
    cli_lint_msgs_free(&r.errors);
    return (ret);
}

/* cli_lint_read - read at most POLICY_BODY_MAX + 1 bytes of a file */

static int cli_lint_read(const char *path, char *buf, size_t size, size_t *len)
{
    FILE   *fp;
    size_t  n;
    int     ret = CLI_EX_NOINPUT;

    *len = 0;
    if (strcmp(path, "-") == 0)
	fp = stdin;
    else if ((fp = fopen(path, "rb")) == 0) {
	cli_error("lint: %s: %s", path, strerror(errno));
	goto out;
    }
    while (*len < size && (n = fread(buf + *len, 1, size - *len, fp)) > 0)
	*len += n;
    if (ferror(fp)) {
	cli_error("lint: %s: read error: %s", path, strerror(errno));
	goto out;
    }
    ret = CLI_EX_OK;

out:
    if (fp && fp != stdin)
	(void) fclose(fp);
    return (ret);
}

/* cli_lint_policy - lint policy FILE [--mx HOST]... [--json] */

static int cli_lint_policy(const char *path, char **mx, int mx_count, int json)
{
    CLI_LINT_REPORT r;
    POLICY_LENIENT diag;
    POLICY *policy = 0;
    json_t *obj = 0;
    json_t *list = 0;
    json_t *matches = 0;
    char   *body = 0;
    char    clean[CLI_LINT_LINE_MAX];
    size_t  len = 0;
    int     valid = 0;
    int     ret = CLI_EX_SOFTWARE;
    int     i;

    memset(&r, 0, sizeof(r));
    memset(&diag, 0, sizeof(diag));
    if ((body = malloc(POLICY_BODY_MAX + 1)) == 0) {
	cli_error("lint: out of memory");
	goto out;
    }
    if ((ret = cli_lint_read(path, body, POLICY_BODY_MAX + 1, &len)) != CLI_EX_OK)
	goto out;
    if (len > POLICY_BODY_MAX) {
	/* RFC 8461 section 3.3: refuse, never truncate. */
	cli_lint_add(&r.errors, &r.nomem, 0,
		     "policy file larger than 65536 bytes (RFC 8461 section 3.3"
		     " limits a policy to 64 KiB)");
    } else if (policy_lint(body, len, &policy, cli_lint_report, &r) == STATUS_OK && policy) {
	valid = 1;
    } else if (r.errors.count == 0 && r.errors.dropped == 0) {
	cli_lint_add(&r.errors, &r.nomem, 0, "invalid policy");
    }
    if (r.nomem) {
	cli_error("lint: out of memory");
	ret = CLI_EX_SOFTWARE;
	goto out;
    }
    ret = valid ? CLI_EX_OK : CLI_EX_INVALID;
    /* What strict and lenient parsers make of an invalid policy. */
    if (!valid && len <= POLICY_BODY_MAX)
	(void) policy_lenient(body, len, &diag);

    if (json) {
	list = json_array();
	matches = json_object();
	for (i = 0; valid && list && i < policy->mx_count; i++)
	    (void) json_array_append_new(list, json_string(policy->mx[i]));
	for (i = 0; matches && i < mx_count; i++)
	    (void) json_object_set_new(matches, mx[i],
				json_boolean(valid && policy_match(policy, mx[i])));
	obj = json_pack("{s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"valid", valid,
			"errors", cli_lint_json_list(&r.errors),
			"warnings", cli_lint_json_list(&r.warnings),
			"version", valid ? json_string("STSv1") : json_null(),
			"mode", valid ? json_string(policy_mode_name(policy->mode)) : json_null(),
			"max_age", valid ? json_integer(policy->max_age) : json_null(),
			"mx", list,
			"matches", matches,
			"lenient", valid ? json_null() :
			json_pack("{s:b, s:o, s:o}", "accepts", diag.lenient_ok,
				  "mode", diag.lenient_ok ? json_string(policy_mode_name(diag.lenient_mode)) :
				  json_null(), "line", diag.line > 0 ? json_integer(diag.line) : json_null()));
	ret = cli_lint_json_out(&obj, ret);
	goto out;
    }

    (void) text_sanitize(clean, sizeof(clean), path);
    (void) printf("%s: %s MTA-STS policy\n", clean, valid ? "valid" : "invalid");
    for (i = 0; i < r.errors.count; i++)
	(void) printf("%s: error: %s\n", clean, r.errors.msg[i]);
    if (r.errors.dropped)
	(void) printf("%s: error: (%d more)\n", clean, r.errors.dropped);
    for (i = 0; i < r.warnings.count; i++)
	(void) printf("%s: warning: %s\n", clean, r.warnings.msg[i]);
    if (r.warnings.dropped)
	(void) printf("%s: warning: (%d more)\n", clean, r.warnings.dropped);
    if (!valid && diag.lenient_ok)
	(void) printf("%s: strict parsers ignore this policy, lenient parsers (postfix-mta-sts-resolver)"
		      " enforce it as mode %s: fix line %d\n", clean, policy_mode_name(diag.lenient_mode),
		      diag.line);
    if (valid) {
	(void) printf("version: STSv1\n");
	(void) printf("mode: %s\n", policy_mode_name(policy->mode));
	(void) printf("max_age: %ld", policy->max_age);
	if (policy->max_age > 0 && policy->max_age % 86400 == 0)
	    (void) printf(" (%ld day%s)", policy->max_age / 86400,
			  policy->max_age == 86400 ? "" : "s");
	(void) printf("\n");
	for (i = 0; i < policy->mx_count; i++)
	    (void) printf("mx: %s\n", policy->mx[i]);
    }
    for (i = 0; i < mx_count; i++) {
	(void) text_sanitize(clean, sizeof(clean), mx[i]);
	(void) printf("host %s: %s\n", clean,
		      !valid ? "no valid policy to match" :
		      policy_match(policy, mx[i]) ? "matches" : "does not match");
    }

out:
    policy_free(&policy);
    free(body);
    cli_lint_msgs_free(&r.errors);
    cli_lint_msgs_free(&r.warnings);
    return (ret);
}

static const char cli_lint_usage_text[] =
"usage: stsfilter lint txt RECORD [--json]\n"
"       stsfilter lint policy FILE [--mx HOST]... [--json]\n";

/* cli_lint - lint txt|policy ... */

int     cli_lint(int argc, char **argv)
{
    static const struct option longopts[] = {
	{"json", no_argument, 0, 'j'},
	{"mx", required_argument, 0, 'm'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0},
    };
    const char *what;
    char  **mx = 0;
    int     mx_count = 0;
    int     json = 0;
    int     ret = CLI_EX_USAGE;
    int     ch;

    if (argc < 2) {
	cli_error("lint: missing \"txt\" or \"policy\"");
	(void) fputs(cli_lint_usage_text, stderr);
	goto out;
    }
    what = argv[1];
    if (strcmp(what, "txt") != 0 && strcmp(what, "policy") != 0) {
	cli_error("lint: unknown subject \"%s\" (expected txt or policy)", what);
	(void) fputs(cli_lint_usage_text, stderr);
	goto out;
    }
    if ((mx = calloc((size_t) argc, sizeof(*mx))) == 0) {
	cli_error("lint: out of memory");
	ret = CLI_EX_SOFTWARE;
	goto out;
    }
    /* Options may follow the arguments (GNU permutation); "--" ends them. */
    argc--;
    argv++;
    optind = 0;					/* glibc: full reset */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "h", longopts, 0)) != -1) {
	switch (ch) {
	case 'j':
	    json = 1;
	    break;
	case 'm':
	    if (strcmp(what, "policy") != 0) {
		cli_error("lint txt: --mx is for lint policy");
		(void) fputs(cli_lint_usage_text, stderr);
		goto out;
	    }
	    mx[mx_count++] = optarg;
	    break;
	case 'h':
	    (void) fputs(cli_lint_usage_text, stdout);
	    ret = CLI_EX_OK;
	    goto out;
	default:
	    if (optopt == 'm')
		cli_error("lint %s: --mx needs a host name", what);
	    else
		cli_error("lint %s: unknown option \"%s\"", what, argv[optind - 1]);
	    (void) fputs(cli_lint_usage_text, stderr);
	    goto out;
	}
    }
    if (argc - optind != 1) {
	cli_error("lint %s: %s", what, argc - optind < 1 ?
		  (*what == 't' ? "missing RECORD" : "missing FILE") :
		  "too many arguments (quote a record that contains blanks)");
	(void) fputs(cli_lint_usage_text, stderr);
	goto out;
    }
    if (*what == 't')
	ret = cli_lint_txt(argv[optind], json);
    else
	ret = cli_lint_policy(argv[optind], mx, mx_count, json);

out:
    free(mx);
    return (ret);
}
