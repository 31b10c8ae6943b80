/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cli_audit 3
 * SUMMARY
 *	`stsfilter audit`: which domains your users mail would fail or
 *	degrade under MTA-STS or DANE today
 * SYNOPSIS
 *	#include "cli.h"
 *
 *	int	cli_audit(int argc, char **argv, const char *path, int given)
 * DESCRIPTION
 *	cli_audit() runs "audit [--json] [--concurrency N] [--rate N[/s]]
 *	[--format postfix|sendmail|domains] [--max-domains N] [FILE...]"
 *	(argv[0] is "audit"). Glue only: audit_log.c reads the lines,
 *	audit_table.c counts messages by domain, the engine (route_check(),
 *	configured as for `stsfilter check`) decides, sender.c says what
 *	Outlook.com would do, and action_scope_domain() leaves out
 *	local_domains and skip_domains.
 *
 *	Each FILE ("-" or none: standard input) is read whole first, its
 *	format detected from its first line that tells (audit_log_detect())
 *	unless --format names it. Then the domains are checked, most mailed
 *	first, by at most N threads at once (--concurrency, default 4), and
 *	started at most R a second (--rate, default 5; 0: no limit): the
 *	MX hosts the audit probes are other people's. The engine's own
 *	new_domain_rate is turned off: this limit replaces it. While it
 *	runs, a progress bar on standard error when that is a terminal.
 *
 *	The summary, by domain and message count: the domains that would
 *	fail (enforce-fail, null-mx), degrade (testing-fail, temporary, an
 *	MTA-STS policy announced but unusable) or carry a warning
 *	(another sender's view differs, the engine warns), with why; then
 *	the count of domains and messages per verdict. --json writes
 *	{"version", "results", "summary"}: every checked domain as `check
 *	--json` shows it plus "messages", "log" and "audit".
 *
 *	Exit status as `check`: 1 when a domain would fail (testing-fail,
 *	enforce-fail, null-mx), else 2 when one is temporary, else 0;
 *	CLI_EX_USAGE, CLI_EX_NOINPUT (a FILE cannot be read), CLI_EX_CONFIG,
 *	CLI_EX_UNAVAILABLE (the engine cannot start), CLI_EX_IOERR,
 *	CLI_EX_SOFTWARE (out of memory).
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "action.h"
#include "audit_log.h"
#include "audit_table.h"
#include "cli.h"
#include "cli_check.h"
#include "conf.h"
#include "route.h"
#include "route_conf.h"
#include "sender.h"
#include "status.h"
#include "str.h"
#include "verdict.h"

#define CLI_AUDIT_CONCURRENCY	4
#define CLI_AUDIT_CONCURRENCY_MAX 64
#define CLI_AUDIT_RATE		5
#define CLI_AUDIT_RATE_MAX	1000
#define CLI_AUDIT_WARN_SHOWN	2	/* warnings a domain shows in the text summary */
#define CLI_AUDIT_S(n)		((n) == 1 ? "" : "s")

/* What became of a domain. */
#define CLI_AUDIT_CHECKED	0
#define CLI_AUDIT_SKIPPED	1	/* local_domains or skip_domains */
#define CLI_AUDIT_INVALID	2	/* not a domain, or the engine refused it */

/* Its class in the summary. */
#define CLI_AUDIT_CLASS_OK	0
#define CLI_AUDIT_CLASS_WARN	1
#define CLI_AUDIT_CLASS_DEGRADE	2
#define CLI_AUDIT_CLASS_FAIL	3

static const char *const cli_audit_classes[] = {"ok", "warn", "degrade", "fail"};

typedef struct CLI_AUDIT_RESULT {
    int     state;			/* CLI_AUDIT_* */
    int     class;			/* CLI_AUDIT_CLASS_* */
    int     verdict;
    int     reason;			/* sender_reason() */
    char   *text;			/* explanation, further lines */
    json_t *json;			/* with --json */
} CLI_AUDIT_RESULT;

typedef struct CLI_AUDIT {
    ROUTE  *route;
    int     budget_ms;
    int     json;
    AUDIT_DOMAIN **todo;		/* the domains to check */
    int     todo_count;
    int     next;			/* next index to take */
    int     done;
    double  interval;			/* s between starts; 0: no limit */
    struct timespec next_start;		/* CLOCK_MONOTONIC */
    pthread_mutex_t lock;
    pthread_cond_t progress;
} CLI_AUDIT;

/* The summary class of a verdict (RFC 8461 section 5: testing only reports). */

static int cli_audit_class(const VERDICT *v, const SENDER_VIEW *outlook)
{
    char    buf[VERDICT_TEXT_MAX];

    switch (v->verdict) {
    case VERDICT_ENFORCE_FAIL:
    case VERDICT_NULL_MX:
	return (CLI_AUDIT_CLASS_FAIL);
    case VERDICT_TESTING_FAIL:
    case VERDICT_TEMPORARY:
	return (CLI_AUDIT_CLASS_DEGRADE);
    case VERDICT_NO_POLICY:
	/* Announced but unusable: senders deliver without MTA-STS (section 3.3). */
	if (v->reason != REASON_NONE)
	    return (CLI_AUDIT_CLASS_DEGRADE);
	break;
    default:
	break;
    }
    if ((outlook && outlook->differs) || v->warn_count > 0 || cli_check_txt_warning(v, buf, sizeof(buf)))
	return (CLI_AUDIT_CLASS_WARN);
    return (CLI_AUDIT_CLASS_OK);
}

/* The lines the text summary shows under the domain. */

static char *cli_audit_text(const VERDICT *v, const SENDER_VIEW *outlook)
{
    char    buf[4 * VERDICT_TEXT_MAX];
    char    txt[VERDICT_TEXT_MAX];
    int     i;

    (void) snprintf(buf, sizeof(buf), "%s", v->explanation);
    if (outlook && outlook->differs)
	(void) str_appendf(buf, sizeof(buf), "\n%s: %s%s%s: %s", sender_name(SENDER_OUTLOOK),
			   verdict_name(outlook->verdict), outlook->reason != REASON_NONE ? " " : "",
			   outlook->reason != REASON_NONE ? verdict_reason_label(outlook->reason) : "",
			   outlook->explanation);
    for (i = 0; i < v->warn_count && i < CLI_AUDIT_WARN_SHOWN; i++)
	(void) str_appendf(buf, sizeof(buf), "\nwarning: %s", v->warn[i]);
    /* RFC 8461 section 3.1: TXT records at _mta-sts that are not a valid one. */
    if (cli_check_txt_warning(v, txt, sizeof(txt)))
	(void) str_appendf(buf, sizeof(buf), "\nwarning: %s", txt);
    if (v->warn_count > CLI_AUDIT_WARN_SHOWN)
	(void) str_appendf(buf, sizeof(buf), "\n(%d more warnings: stsfilter check %s)",
			   v->warn_count - CLI_AUDIT_WARN_SHOWN, v->domain);
    return (strdup(buf));
}

/* Waits for this thread's turn under the rate limit. */

static void cli_audit_pace(CLI_AUDIT *a)
{
    struct timespec now, start;
    long    ns;

    if (a->interval <= 0)
	return;
    (void) pthread_mutex_lock(&a->lock);
    (void) clock_gettime(CLOCK_MONOTONIC, &now);
    start = a->next_start;
    if (now.tv_sec > start.tv_sec || (now.tv_sec == start.tv_sec && now.tv_nsec > start.tv_nsec))
	start = now;
    ns = start.tv_nsec + (long) (a->interval * 1e9);
    a->next_start.tv_sec = start.tv_sec + ns / 1000000000L;
    a->next_start.tv_nsec = ns % 1000000000L;
    (void) pthread_mutex_unlock(&a->lock);
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &start, 0) == EINTR)
	 /* void */ ;
}

static void cli_audit_one(CLI_AUDIT *a, AUDIT_DOMAIN *d)
{
    CLI_AUDIT_RESULT *r = d->data;
    SENDER_VIEW outlook;
    SENDER_VIEW *ov = 0;
    VERDICT *v = 0;
    json_t *o = 0;
    WHY     why;

    why.text[0] = 0;
    cli_audit_pace(a);
    if (route_check(a->route, d->name, a->budget_ms, 0, &v, &why) != STATUS_OK) {
	r->state = CLI_AUDIT_INVALID;
	r->text = strdup(why_text(&why));
	if (a->json)
	    o = cli_json_error(d->name, why_text(&why));
	goto done;
    }
    if (sender_view(SENDER_OUTLOOK, v, &outlook) == STATUS_OK)
	ov = &outlook;
    r->verdict = v->verdict;
    r->reason = sender_reason(v);
    r->class = cli_audit_class(v, ov);
    if (r->class != CLI_AUDIT_CLASS_OK)
	r->text = cli_audit_text(v, ov);
    if (a->json)
	o = cli_json_domain(v, 0);

done:
    if (o) {
	json_object_set_new(o, "messages", json_integer(d->messages));
	json_object_set_new(o, "log", json_pack("{s:I, s:I, s:I}", "sent", (json_int_t) d->lines[AUDIT_STATUS_SENT],
						"deferred", (json_int_t) d->lines[AUDIT_STATUS_DEFERRED],
						"bounced", (json_int_t) d->lines[AUDIT_STATUS_BOUNCED]));
	json_object_set_new(o, "audit", json_string(r->state == CLI_AUDIT_INVALID ? "invalid" :
						    cli_audit_classes[r->class]));
    }
    r->json = o;
    verdict_free(&v);
}

static void *cli_audit_worker(void *arg)
{
    CLI_AUDIT *a = arg;
    int     i;

    for (;;) {
	(void) pthread_mutex_lock(&a->lock);
	i = a->next < a->todo_count ? a->next++ : -1;
	(void) pthread_mutex_unlock(&a->lock);
	if (i < 0)
	    break;
	cli_audit_one(a, a->todo[i]);
	(void) pthread_mutex_lock(&a->lock);
	a->done++;
	(void) pthread_cond_signal(&a->progress);
	(void) pthread_mutex_unlock(&a->lock);
    }
    return (0);
}

/* "\r[=====>    ] 120/800 domains" on a terminal. */

static void cli_audit_bar(int done, int total)
{
    char    bar[41];
    int     width = 40;
    int     fill = total > 0 ? (int) ((long) done * width / total) : width;
    int     i;

    for (i = 0; i < width; i++)
	bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
    bar[width] = 0;
    (void) fprintf(stderr, "\r[%s] %d/%d domains", bar, done, total);
    (void) fflush(stderr);
}

/* Checks a->todo with the given concurrency; 0, or -1 when no thread started. */

static int cli_audit_run(CLI_AUDIT *a, int concurrency)
{
    pthread_t tid[CLI_AUDIT_CONCURRENCY_MAX];
    struct timespec until;
    int     tty = isatty(STDERR_FILENO);
    int     started = 0;
    int     i;

    if (concurrency > a->todo_count)
	concurrency = a->todo_count > 0 ? a->todo_count : 1;
    for (i = 0; i < concurrency; i++)
	if (pthread_create(&tid[started], 0, cli_audit_worker, a) == 0)
	    started++;
    if (started == 0)
	return (-1);
    (void) pthread_mutex_lock(&a->lock);
    while (a->done < a->todo_count) {
	if (tty)
	    cli_audit_bar(a->done, a->todo_count);
	(void) clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += 250000000L;
	if (until.tv_nsec >= 1000000000L) {
	    until.tv_sec++;
	    until.tv_nsec -= 1000000000L;
	}
	(void) pthread_cond_timedwait(&a->progress, &a->lock, &until);
    }
    (void) pthread_mutex_unlock(&a->lock);
    if (tty) {
	cli_audit_bar(a->done, a->todo_count);
	(void) fputs("\r\033[K", stderr);
    }
    for (i = 0; i < started; i++)
	(void) pthread_join(tid[i], 0);
    return (0);
}

/* Reads one input into the table; CLI_EX_OK or CLI_EX_NOINPUT. */

typedef struct CLI_AUDIT_INPUT {
    long    lines;
    long    overlong;
    long    unreadable;			/* delivery lines whose recipient cannot be read */
    long    counted;			/* delivery lines counted */
    int     formats[AUDIT_FORMAT_DOMAINS + 1];	/* inputs read in each format */
} CLI_AUDIT_INPUT;

static int cli_audit_read(const char *name, int format, AUDIT_TABLE *table, CLI_AUDIT_INPUT *in)
{
    static char buf[AUDIT_LINE_MAX + 2];
    static AUDIT_LINE line;
    FILE   *fp;
    size_t  len;
    int     got;
    int     st;
    int     ret = CLI_EX_NOINPUT;

    if (strcmp(name, "-") == 0) {
	fp = stdin;
    } else if ((fp = fopen(name, "r")) == 0) {
	cli_error("audit: cannot open %s: %s", name, strerror(errno));
	goto out;
    }
    while ((got = audit_log_read(fp, buf, sizeof(buf), &len)) != 0) {
	in->lines++;
	if (got < 0) {
	    in->overlong++;
	    continue;
	}
	if (format == AUDIT_FORMAT_AUTO && (format = audit_log_detect(buf, len)) == AUDIT_FORMAT_AUTO)
	    continue;
	if ((st = audit_log_parse(format, buf, len, &line)) == STATUS_INVAL)
	    in->unreadable++;
	if (st != STATUS_OK)
	    continue;
	in->counted++;
	(void) audit_table_add(table, &line);
    }
    if (ferror(fp)) {
	cli_error("audit: cannot read %s: %s", strcmp(name, "-") == 0 ? "standard input" : name,
		  strerror(errno));
	goto out;
    }
    in->formats[format]++;
    ret = CLI_EX_OK;

out:
    if (fp && fp != stdin)
	(void) fclose(fp);
    return (ret);
}

/* Counts per verdict, and of the skipped and invalid domains. */

typedef struct CLI_AUDIT_COUNT {
    long    domains;
    long    messages;
} CLI_AUDIT_COUNT;

typedef struct CLI_AUDIT_SUM {
    CLI_AUDIT_COUNT verdict[VERDICT_COUNT];
    CLI_AUDIT_COUNT class[CLI_AUDIT_CLASS_FAIL + 1];
    CLI_AUDIT_COUNT skipped;
    CLI_AUDIT_COUNT invalid;
    int     exit;
} CLI_AUDIT_SUM;

static void cli_audit_sum(AUDIT_DOMAIN **all, int n, CLI_AUDIT_SUM *s)
{
    CLI_AUDIT_RESULT *r;
    int     code;
    int     i;

    memset(s, 0, sizeof(*s));
    for (i = 0; i < n; i++) {
	r = all[i]->data;
	if (r->state == CLI_AUDIT_SKIPPED) {
	    s->skipped.domains++;
	    s->skipped.messages += all[i]->messages;
	    continue;
	}
	if (r->state == CLI_AUDIT_INVALID) {
	    s->invalid.domains++;
	    s->invalid.messages += all[i]->messages;
	    continue;
	}
	s->verdict[r->verdict].domains++;
	s->verdict[r->verdict].messages += all[i]->messages;
	s->class[r->class].domains++;
	s->class[r->class].messages += all[i]->messages;
	/* As `check`: a failure (1) outweighs temporary (2) here. */
	code = cli_check_exit(r->verdict);
	if (code == 1 || (code == 2 && s->exit == 0))
	    s->exit = code;
    }
}

static void cli_audit_text_section(AUDIT_DOMAIN **all, int n, int class, const char *title, FILE *fp)
{
    CLI_AUDIT_RESULT *r;
    const char *p, *nl;
    int     shown = 0;
    int     i;

    for (i = 0; i < n; i++) {
	r = all[i]->data;
	if (r->state != CLI_AUDIT_CHECKED || r->class != class)
	    continue;
	if (shown++ == 0)
	    fprintf(fp, "\n%s\n  %8s  %-32s %-13s %s\n", title, "messages", "domain", "verdict", "reason");
	fprintf(fp, "  %8ld  %-32s %-13s %s\n", all[i]->messages, all[i]->name, verdict_name(r->verdict),
		r->reason != REASON_NONE ? verdict_reason_label(r->reason) : "-");
	for (p = r->text; p && *p; p = nl ? nl + 1 : p + strlen(p)) {
	    nl = strchr(p, '\n');
	    fprintf(fp, "  %8s  %.*s\n", "", nl ? (int) (nl - p) : (int) strlen(p), p);
	}
    }
}

static int cli_audit_print_text(AUDIT_DOMAIN **all, int n, const CLI_AUDIT_SUM *s, const CLI_AUDIT_INPUT *in,
				        const AUDIT_TABLE_STATS *ts, FILE *fp)
{
    CLI_AUDIT_RESULT *r;
    int     shown = 0;
    int     f, i;

    fprintf(fp, "audit: %ld message%s to %d domain%s in %ld line%s (", ts->messages, CLI_AUDIT_S(ts->messages),
	    ts->domains, CLI_AUDIT_S(ts->domains), in->lines, CLI_AUDIT_S(in->lines));
    for (f = AUDIT_FORMAT_AUTO, i = 0; f <= AUDIT_FORMAT_DOMAINS; f++)
	if (in->formats[f])
	    fprintf(fp, "%s%s", i++ ? ", " : "", f == AUDIT_FORMAT_AUTO ? "format not recognized" :
		    audit_log_format_name(f));
    fprintf(fp, "%s)\n", i ? "" : "no input");
    if (s->skipped.domains)
	fprintf(fp, "  not checked: %ld domain%s in local_domains or skip_domains (%ld message%s)\n",
		s->skipped.domains, CLI_AUDIT_S(s->skipped.domains), s->skipped.messages,
		CLI_AUDIT_S(s->skipped.messages));
    if (ts->dropped_messages)
	fprintf(fp, "  not counted: %ld message%s to domains past the table bound (--max-domains %d)\n",
		ts->dropped_messages, CLI_AUDIT_S(ts->dropped_messages), ts->domains);
    if (ts->seen_full)
	fprintf(fp, "  note: too many messages to tell retries apart; later retries counted again\n");
    if (in->overlong)
	fprintf(fp, "  skipped: %ld line%s over %d bytes\n", in->overlong, CLI_AUDIT_S(in->overlong), AUDIT_LINE_MAX);
    if (in->unreadable)
	fprintf(fp, "  skipped: %ld delivery line%s whose recipient cannot be read\n", in->unreadable,
		CLI_AUDIT_S(in->unreadable));
    if (ts->dropped_rcpts)
	fprintf(fp, "  skipped: %ld recipient%s past %d in one line\n", ts->dropped_rcpts,
		CLI_AUDIT_S(ts->dropped_rcpts), AUDIT_RCPT_MAX);
    cli_audit_text_section(all, n, CLI_AUDIT_CLASS_FAIL,
			   "would fail (mail deferred or refused: MTA-STS enforce, DANE, null MX):", fp);
    cli_audit_text_section(all, n, CLI_AUDIT_CLASS_DEGRADE,
			   "would degrade (testing mode, temporary trouble, a policy that cannot be used):", fp);
    cli_audit_text_section(all, n, CLI_AUDIT_CLASS_WARN, "warnings (delivered today, but):", fp);
    for (i = 0; i < n; i++) {
	r = all[i]->data;
	if (r->state != CLI_AUDIT_INVALID)
	    continue;
	if (shown++ == 0)
	    fprintf(fp, "\nnot checked (not a domain):\n  %8s  %s\n", "messages", "domain");
	fprintf(fp, "  %8ld  %-32s %s\n", all[i]->messages, all[i]->name, r->text ? r->text : "");
    }
    fprintf(fp, "\nby verdict:\n  %-13s %8s %9s\n", "verdict", "domains", "messages");
    for (i = 0; i < VERDICT_COUNT; i++)
	if (s->verdict[i].domains)
	    fprintf(fp, "  %-13s %8ld %9ld\n", verdict_name(i), s->verdict[i].domains, s->verdict[i].messages);
    if (s->skipped.domains)
	fprintf(fp, "  %-13s %8ld %9ld\n", "skipped", s->skipped.domains, s->skipped.messages);
    if (s->invalid.domains)
	fprintf(fp, "  %-13s %8ld %9ld\n", "invalid", s->invalid.domains, s->invalid.messages);
    fprintf(fp, "result: %ld domain%s would fail (%ld message%s), %ld would degrade (%ld message%s),"
	    " %ld with warnings (%ld message%s)\n", s->class[CLI_AUDIT_CLASS_FAIL].domains,
	    CLI_AUDIT_S(s->class[CLI_AUDIT_CLASS_FAIL].domains), s->class[CLI_AUDIT_CLASS_FAIL].messages,
	    CLI_AUDIT_S(s->class[CLI_AUDIT_CLASS_FAIL].messages), s->class[CLI_AUDIT_CLASS_DEGRADE].domains,
	    s->class[CLI_AUDIT_CLASS_DEGRADE].messages, CLI_AUDIT_S(s->class[CLI_AUDIT_CLASS_DEGRADE].messages),
	    s->class[CLI_AUDIT_CLASS_WARN].domains, s->class[CLI_AUDIT_CLASS_WARN].messages,
	    CLI_AUDIT_S(s->class[CLI_AUDIT_CLASS_WARN].messages));
    return (ferror(fp) ? -1 : 0);
}

static json_t *cli_audit_count(const CLI_AUDIT_COUNT *c)
{
    return (json_pack("{s:I, s:I}", "domains", (json_int_t) c->domains, "messages", (json_int_t) c->messages));
}

static int cli_audit_print_json(AUDIT_DOMAIN **all, int n, const CLI_AUDIT_SUM *s, const CLI_AUDIT_INPUT *in,
				        const AUDIT_TABLE_STATS *ts, int max_domains, FILE *fp)
{
    CLI_AUDIT_RESULT *r;
    json_t *results = json_array();
    json_t *verdicts = json_object();
    json_t *formats = json_array();
    json_t *lists[CLI_AUDIT_CLASS_FAIL + 1];
    json_t *doc, *summary;
    int     i;

    for (i = 0; i <= CLI_AUDIT_CLASS_FAIL; i++)
	lists[i] = json_array();
    for (i = 0; i < n; i++) {
	r = all[i]->data;
	if (r->json) {
	    json_array_append(results, r->json);
	    if (r->state == CLI_AUDIT_CHECKED)
		json_array_append_new(lists[r->class], json_string(all[i]->name));
	}
    }
    for (i = 0; i < VERDICT_COUNT; i++)
	json_object_set_new(verdicts, verdict_name(i), cli_audit_count(&s->verdict[i]));
    for (i = AUDIT_FORMAT_AUTO + 1; i <= AUDIT_FORMAT_DOMAINS; i++)
	if (in->formats[i])
	    json_array_append_new(formats, json_string(audit_log_format_name(i)));
    summary = json_pack("{s:o, s:I, s:I, s:I, s:I, s:i, s:I, s:o, s:o, s:{s:I, s:I}, s:i, s:b,"
			" s:o, s:o, s:o, s:o, s:o, s:i}",
			"formats", formats, "lines", (json_int_t) in->lines,
			"overlong_lines", (json_int_t) in->overlong,
			"unreadable_lines", (json_int_t) in->unreadable,
			"messages", (json_int_t) ts->messages, "domains", ts->domains,
			"checked", (json_int_t) (s->class[0].domains + s->class[1].domains + s->class[2].domains
						 + s->class[3].domains),
			"skipped", cli_audit_count(&s->skipped), "invalid", cli_audit_count(&s->invalid),
			"dropped", "domains", (json_int_t) ts->dropped_domains,
			"messages", (json_int_t) ts->dropped_messages, "max_domains", max_domains,
			"retries_counted", ts->seen_full,
			"verdicts", verdicts, "fail", lists[CLI_AUDIT_CLASS_FAIL],
			"degrade", lists[CLI_AUDIT_CLASS_DEGRADE], "warn", lists[CLI_AUDIT_CLASS_WARN],
			"ok", lists[CLI_AUDIT_CLASS_OK], "exit", s->exit);
    doc = cli_json_document(results);
    if (doc && summary)
	json_object_set_new(doc, "summary", summary);
    else
	json_decref(summary);
    return (cli_json_dump(doc, fp));
}

/* --rate N or N/s */

static int cli_audit_rate(const char *arg, long *rate)
{
    char    buf[32];
    size_t  n = strlen(arg);

    if (n >= sizeof(buf))
	return (-1);
    (void) str_copy(buf, sizeof(buf), arg);
    if (n > 2 && strcmp(buf + n - 2, "/s") == 0)
	buf[n - 2] = 0;
    return (str_to_long(buf, 0, CLI_AUDIT_RATE_MAX, rate) == STATUS_OK ? 0 : -1);
}

int     cli_audit(int argc, char **argv, const char *path, int given)
{
    static const struct option longopts[] = {
	{"json", no_argument, 0, 'j'},
	{"concurrency", required_argument, 0, 'n'},
	{"rate", required_argument, 0, 'r'},
	{"format", required_argument, 0, 'f'},
	{"max-domains", required_argument, 0, 'm'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0},
    };
    static const char usage[] = "usage: stsfilter [-c FILE] audit [--json] [--concurrency N] [--rate N/s]"
	" [--format postfix|sendmail|domains] [--max-domains N] [FILE...]\n";
    CONF   *conf = 0;
    ROUTE_OPTS opts;
    AUDIT_TABLE *table = 0;
    AUDIT_TABLE_STATS ts;
    AUDIT_DOMAIN **all = 0;
    CLI_AUDIT_RESULT *res = 0;
    CLI_AUDIT_INPUT in;
    CLI_AUDIT_SUM sum;
    CLI_AUDIT a;
    WHY     why;
    long    concurrency = CLI_AUDIT_CONCURRENCY;
    long    rate = CLI_AUDIT_RATE;
    long    max_domains = AUDIT_DOMAINS_DEFAULT;
    int     format = AUDIT_FORMAT_AUTO;
    int     locks = 0;
    int     n = 0;
    int     ret = CLI_EX_USAGE;
    int     ch;
    int     i;

    memset(&a, 0, sizeof(a));
    memset(&in, 0, sizeof(in));
    why.text[0] = 0;
    optind = 0;					/* glibc: full reset */
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "+h", longopts, 0)) != -1) {
	switch (ch) {
	case 'j':
	    a.json = 1;
	    break;
	case 'n':
	    if (str_to_long(optarg, 1, CLI_AUDIT_CONCURRENCY_MAX, &concurrency) != STATUS_OK) {
		cli_error("audit: --concurrency takes 1 to %d, not \"%s\"", CLI_AUDIT_CONCURRENCY_MAX, optarg);
		goto usage;
	    }
	    break;
	case 'r':
	    if (cli_audit_rate(optarg, &rate) != 0) {
		cli_error("audit: --rate takes 0 (no limit) to %d domains a second, not \"%s\"",
			  CLI_AUDIT_RATE_MAX, optarg);
		goto usage;
	    }
	    break;
	case 'f':
	    format = audit_log_format_code(optarg);
	    if (format <= AUDIT_FORMAT_AUTO) {
		cli_error("audit: --format takes postfix, sendmail or domains, not \"%s\"", optarg);
		goto usage;
	    }
	    break;
	case 'm':
	    if (str_to_long(optarg, 1, AUDIT_DOMAINS_LIMIT, &max_domains) != STATUS_OK) {
		cli_error("audit: --max-domains takes 1 to %d, not \"%s\"", AUDIT_DOMAINS_LIMIT, optarg);
		goto usage;
	    }
	    break;
	case 'h':
	    (void) fputs(usage, stdout);
	    ret = CLI_EX_OK;
	    goto out;
	default:
	    cli_error("audit: unknown option or missing argument \"%s\"", argv[optind - 1]);
	    goto usage;
	}
    }
    if ((ret = cli_load_conf(path, given, &conf)) != CLI_EX_OK)
	goto out;
    if (audit_table_create((int) max_domains, AUDIT_MESSAGES_DEFAULT, &table) != STATUS_OK) {
	ret = CLI_EX_SOFTWARE;
	goto out;
    }
    if (optind == argc && isatty(STDIN_FILENO))
	cli_error("audit: reading the log from standard input (end it with Ctrl-D)");
    /* Read everything first: a file that cannot be read fails before any probe. */
    for (i = optind; i < argc || (i == optind && optind == argc); i++)
	if ((ret = cli_audit_read(i < argc ? argv[i] : "-", format, table, &in)) != CLI_EX_OK)
	    goto out;
    audit_table_stats(table, &ts);
    if ((all = audit_table_sorted(table, &n)) == 0
	|| (res = calloc((size_t) n + 1, sizeof(*res))) == 0
	|| (a.todo = calloc((size_t) n + 1, sizeof(*a.todo))) == 0) {
	ret = CLI_EX_SOFTWARE;
	goto out;
    }
    for (i = 0; i < n; i++) {
	all[i]->data = &res[i];
	if (!all[i]->valid) {
	    res[i].state = CLI_AUDIT_INVALID;
	    res[i].text = strdup("not a valid domain");
	    if (a.json && (res[i].json = cli_json_error(all[i]->name, "not a valid domain")) != 0) {
		json_object_set_new(res[i].json, "messages", json_integer(all[i]->messages));
		json_object_set_new(res[i].json, "audit", json_string("invalid"));
	    }
	} else if (!action_scope_domain(conf, all[i]->name)) {
	    res[i].state = CLI_AUDIT_SKIPPED;
	} else {
	    a.todo[a.todo_count++] = all[i];
	}
    }
    /* The engine as for `check`: no shared cache; this command paces itself. */
    memset(&opts, 0, sizeof(opts));
    route_conf_opts(conf, &opts);
    opts.cache.backend = CACHE_BACKEND_MEMORY;
    opts.new_domain_rate = 0;
    if (a.todo_count > 0 && route_create(&opts, &a.route, &why) != STATUS_OK) {
	cli_error("audit: cannot start the engine: %s", why_text(&why));
	ret = CLI_EX_UNAVAILABLE;
	goto out;
    }
    a.budget_ms = route_conf_budget_ms(conf);
    a.interval = rate > 0 ? 1.0 / (double) rate : 0;
    (void) pthread_mutex_init(&a.lock, 0);
    (void) pthread_cond_init(&a.progress, 0);
    locks = 1;
    json_object_seed(0);			/* before threads build objects */
    if (a.todo_count > 0 && cli_audit_run(&a, (int) concurrency) != 0) {
	cli_error("audit: cannot start a thread");
	ret = CLI_EX_SOFTWARE;
	goto out;
    }
    cli_audit_sum(all, n, &sum);
    if ((a.json ? cli_audit_print_json(all, n, &sum, &in, &ts, (int) max_domains, stdout) :
	 cli_audit_print_text(all, n, &sum, &in, &ts, stdout)) != 0) {
	cli_error("audit: write error");
	ret = CLI_EX_IOERR;
	goto out;
    }
    ret = sum.exit;
    goto out;

usage:
    (void) fputs(usage, stderr);
    ret = CLI_EX_USAGE;

out:
    for (i = 0; res && i < n; i++) {
	free(res[i].text);
	json_decref(res[i].json);
    }
    free(res);
    free(a.todo);
    free(all);
    if (locks) {
	(void) pthread_mutex_destroy(&a.lock);
	(void) pthread_cond_destroy(&a.progress);
    }
    route_free(&a.route);
    audit_table_free(&table);
    conf_unref(&conf);
    return (ret);
}
