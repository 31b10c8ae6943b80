/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_audit 1
 * SUMMARY
 *	unit tests for audit_log.c and audit_table.c (`stsfilter audit`)
 * SYNOPSIS
 *	STS_TESTDATA=tests/unit/data tests/unit/test_audit
 * DESCRIPTION
 *	Table-driven: audit-postfix.txt, audit-sendmail.txt and
 *	audit-domains.txt hold log lines and what audit_log_parse() makes
 *	of them; audit-detect.txt the format audit_log_detect() names;
 *	audit-maillog.txt is a Postfix log (a queue id with three
 *	recipients, retries, a bounce, an over-long line, local and
 *	content-filter deliveries) read with audit_log_read() into a table
 *	whose counts audit-maillog-expect.txt gives. Further tests: a line
 *	one byte over the cap, the domain bound and the option names.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "audit_log.h"
#include "audit_table.h"
#include "status.h"
#include "str.h"
#include "testdata.h"

typedef struct CTX {
    int     format;
    const char *file;
    int     failures;
} CTX;

static int test_result_code(const char *s)
{
    return (strcmp(s, "ok") == 0 ? STATUS_OK : strcmp(s, "notfound") == 0 ? STATUS_NOTFOUND : STATUS_INVAL);
}

static int test_status_code(const char *s)
{
    static const char *names[] = {"sent", "deferred", "bounced", "other"};
    int     i;

    for (i = 0; i < 4; i++)
	if (strcmp(s, names[i]) == 0)
	    return (i);
    return (-1);
}

/* One recipient: addr and domain ("!" first: not a valid domain). */

static int test_rcpt(const CTX *c, int lineno, const AUDIT_RCPT *r, const char *addr, const char *domain)
{
    int     valid = domain[0] != '!';

    if (strcmp(r->addr, addr) != 0 || strcmp(r->domain, valid ? domain : domain + 1) != 0
	|| r->valid != valid) {
	print_error("%s:%d: recipient \"%s\" domain \"%s\" valid %d, want \"%s\" \"%s\"\n", c->file, lineno,
		    r->addr, r->domain, r->valid, addr, domain);
	return (1);
    }
    return (0);
}

static int test_log_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = ctx;
    AUDIT_LINE out;
    int     two = (c->format == AUDIT_FORMAT_SENDMAIL);
    int     want_rcpts;
    const char *line;
    int     st;

    if (nfield != (two ? 9 : 7)) {
	print_error("%s:%d: %d fields\n", c->file, lineno, nfield);
	c->failures++;
	return (0);
    }
    line = field[nfield - 1];
    want_rcpts = (int) strtol(field[3], 0, 10);
    st = audit_log_parse(c->format, line, strlen(line), &out);
    if (st != test_result_code(field[0])) {
	print_error("%s:%d: status %d, want %s\n", c->file, lineno, st, field[0]);
	c->failures++;
	return (0);
    }
    if (out.rcpt_count != want_rcpts) {
	print_error("%s:%d: %d recipients, want %d\n", c->file, lineno, out.rcpt_count, want_rcpts);
	c->failures++;
	return (0);
    }
    if (st != STATUS_OK)
	return (0);
    if (strcmp(out.qid, field[1]) != 0 || out.status != test_status_code(field[2])) {
	print_error("%s:%d: queue id %s status %d, want %s %s\n", c->file, lineno, out.qid, out.status,
		    field[1], field[2]);
	c->failures++;
	return (0);
    }
    c->failures += test_rcpt(c, lineno, &out.rcpt[0], field[4], field[5]);
    if (two && want_rcpts > 1)
	c->failures += test_rcpt(c, lineno, &out.rcpt[1], field[6], field[7]);
    return (0);
}

static void test_log_file(int format, const char *file, int min_rows)
{
    CTX     c;

    c.format = format;
    c.file = file;
    c.failures = 0;
    assert_true(testdata_rows(file, '|', test_log_row, &c) >= min_rows);
    assert_int_equal(c.failures, 0);
}

static void test_postfix(void **state)
{
    (void) state;
    test_log_file(AUDIT_FORMAT_POSTFIX, "audit-postfix.txt", 24);
}

static void test_sendmail(void **state)
{
    (void) state;
    test_log_file(AUDIT_FORMAT_SENDMAIL, "audit-sendmail.txt", 13);
}

static int test_domains_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = ctx;
    AUDIT_LINE out;
    int     st;

    assert_int_equal(nfield, 3);
    st = audit_log_parse(AUDIT_FORMAT_DOMAINS, field[2], strlen(field[2]), &out);
    if (st != test_result_code(field[0])) {
	print_error("%s:%d: status %d, want %s\n", c->file, lineno, st, field[0]);
	c->failures++;
    } else if (st == STATUS_OK) {
	if (out.rcpt_count != 1 || out.qid[0] != 0)
	    c->failures++;
	else if ((field[1][0] == '!') == out.rcpt[0].valid
		 || strcmp(out.rcpt[0].domain, field[1] + (field[1][0] == '!')) != 0) {
	    print_error("%s:%d: domain \"%s\", want \"%s\"\n", c->file, lineno, out.rcpt[0].domain, field[1]);
	    c->failures++;
	}
    }
    return (0);
}

static void test_domains(void **state)
{
    CTX     c = {AUDIT_FORMAT_DOMAINS, "audit-domains.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', test_domains_row, &c) >= 8);
    assert_int_equal(c.failures, 0);
}

static int test_detect_row(void *ctx, int lineno, int nfield, char **field)
{
    CTX    *c = ctx;
    int     got;

    assert_int_equal(nfield, 2);
    got = audit_log_detect(field[1], strlen(field[1]));
    if (got != audit_log_format_code(field[0])) {
	print_error("%s:%d: detected %s, want %s\n", c->file, lineno, audit_log_format_name(got), field[0]);
	c->failures++;
    }
    return (0);
}

static void test_detect(void **state)
{
    CTX     c = {0, "audit-detect.txt", 0};

    (void) state;
    assert_true(testdata_rows(c.file, '|', test_detect_row, &c) >= 11);
    assert_int_equal(c.failures, 0);
}

typedef struct EXPECT {
    AUDIT_DOMAIN **all;
    int     count;
    int     row;
    long    lines, overlong, messages, repeats;
    const AUDIT_TABLE_STATS *stats;
    int     failures;
} EXPECT;

static int test_expect_row(void *ctx, int lineno, int nfield, char **field)
{
    EXPECT *e = ctx;
    AUDIT_DOMAIN *d;

    assert_int_equal(nfield, 5);
    if (strcmp(field[0], "lines") == 0) {
	if (e->lines != atol(field[1]) || e->overlong != atol(field[2])
	    || e->stats->messages != atol(field[3]) || e->stats->repeats != atol(field[4])) {
	    print_error("line %d: lines %ld overlong %ld messages %ld repeats %ld\n", lineno, e->lines,
			e->overlong, e->stats->messages, e->stats->repeats);
	    e->failures++;
	}
	return (0);
    }
    if (e->row >= e->count) {
	print_error("line %d: only %d domains\n", lineno, e->count);
	e->failures++;
	return (0);
    }
    d = e->all[e->row++];
    if (strcmp(d->name, field[0]) != 0 || d->messages != atol(field[1])
	|| d->lines[AUDIT_STATUS_SENT] != atol(field[2]) || d->lines[AUDIT_STATUS_DEFERRED] != atol(field[3])
	|| d->lines[AUDIT_STATUS_BOUNCED] != atol(field[4])) {
	print_error("line %d: %s %ld messages, lines %ld/%ld/%ld\n", lineno, d->name, d->messages,
		    d->lines[0], d->lines[1], d->lines[2]);
	e->failures++;
    }
    return (0);
}

/* A whole log: audit_log_read(), audit_log_parse(), audit_table_add(). */

static void test_maillog(void **state)
{
    char    path[4096];
    char    buf[AUDIT_LINE_MAX + 2];
    const char *dir = getenv("STS_TESTDATA");
    AUDIT_TABLE *t = 0;
    AUDIT_TABLE_STATS st;
    AUDIT_LINE line;
    EXPECT  e;
    FILE   *fp;
    size_t  len;
    int     got;

    (void) state;
    memset(&e, 0, sizeof(e));
    (void) snprintf(path, sizeof(path), "%s/audit-maillog.txt", dir ? dir : "tests/unit/data");
    assert_non_null(fp = fopen(path, "r"));
    assert_int_equal(audit_table_create(10, 1000, &t), STATUS_OK);
    while ((got = audit_log_read(fp, buf, sizeof(buf), &len)) != 0) {
	e.lines++;
	if (got < 0) {
	    e.overlong++;
	    continue;
	}
	if (audit_log_parse(AUDIT_FORMAT_POSTFIX, buf, len, &line) == STATUS_OK)
	    (void) audit_table_add(t, &line);
    }
    (void) fclose(fp);
    audit_table_stats(t, &st);
    e.stats = &st;
    assert_non_null(e.all = audit_table_sorted(t, &e.count));
    assert_int_equal(e.count, 4);
    assert_true(testdata_rows("audit-maillog-expect.txt", '|', test_expect_row, &e) == 5);
    assert_int_equal(e.failures, 0);
    free(e.all);
    audit_table_free(&t);
    assert_null(t);
}

/* A line of exactly AUDIT_LINE_MAX bytes is read; one more byte is not. */

static void test_line_cap(void **state)
{
    static char text[AUDIT_LINE_MAX * 2 + 16];
    char    buf[AUDIT_LINE_MAX + 2];
    AUDIT_LINE line;
    size_t  len;
    FILE   *fp;

    (void) state;
    memset(text, 'a', AUDIT_LINE_MAX);
    text[AUDIT_LINE_MAX] = '\n';
    memset(text + AUDIT_LINE_MAX + 1, 'b', AUDIT_LINE_MAX + 1);
    (void) str_copy(text + 2 * AUDIT_LINE_MAX + 2, 8, "\nok.ex");
    assert_non_null(fp = fmemopen(text, strlen(text), "r"));
    assert_int_equal(audit_log_read(fp, buf, sizeof(buf), &len), 1);
    assert_int_equal(len, AUDIT_LINE_MAX);
    assert_int_equal(audit_log_read(fp, buf, sizeof(buf), &len), -1);
    assert_int_equal(audit_log_read(fp, buf, sizeof(buf), &len), 1);
    assert_string_equal(buf, "ok.ex");
    assert_int_equal(audit_log_read(fp, buf, sizeof(buf), &len), 0);
    (void) fclose(fp);
    /* A NUL byte ends what the parsers see, not the line (fgets would lose the next one). */
    assert_non_null(fp = fmemopen((void *) "a.ex\0b\r\nnext.ex\r\n", 17, "r"));
    assert_int_equal(audit_log_read(fp, buf, sizeof(buf), &len), 1);
    assert_int_equal(len, 4);
    assert_int_equal(audit_log_read(fp, buf, sizeof(buf), &len), 1);
    assert_string_equal(buf, "next.ex");
    assert_int_equal(audit_log_read(fp, buf, sizeof(buf), &len), 0);
    (void) fclose(fp);
    /* The parsers refuse what is over the cap, whatever the caller passes. */
    assert_int_equal(audit_log_parse(AUDIT_FORMAT_DOMAINS, "example.com", AUDIT_LINE_MAX + 1, &line),
		     STATUS_INVAL);
}

/* Past max_domains: new domains are not counted in any domain, but in the stats. */

static void test_domain_bound(void **state)
{
    static const char *const names[] = {"a.example", "b.example", "a.example", "c.example", "b.example"};
    static const char q1[] = "x sm-mta[1]: Q1: to=<u@a.example>,<v@a.example>,<w@b.example>, mailer=esmtp, stat=Sent";
    AUDIT_TABLE *t = 0;
    AUDIT_TABLE_STATS st;
    AUDIT_LINE line;
    AUDIT_DOMAIN **all;
    int     n, i;

    (void) state;
    assert_int_equal(audit_table_create(0, 10, &t), STATUS_INVAL);
    assert_int_equal(audit_table_create(AUDIT_DOMAINS_LIMIT + 1, 10, &t), STATUS_INVAL);
    assert_int_equal(audit_table_create(2, 2, &t), STATUS_OK);
    for (i = 0; i < 5; i++) {
	assert_int_equal(audit_log_parse(AUDIT_FORMAT_DOMAINS, names[i], strlen(names[i]), &line), STATUS_OK);
	(void) audit_table_add(t, &line);
    }
    /* The same message line twice, past max_messages: counted again. */
    assert_int_equal(audit_log_parse(AUDIT_FORMAT_SENDMAIL, q1, strlen(q1), &line), STATUS_OK);
    assert_int_equal(audit_table_add(t, &line), 3);
    assert_int_equal(audit_table_add(t, &line), 1);	/* two remembered, one not */
    audit_table_stats(t, &st);
    assert_int_equal(st.domains, 2);
    assert_int_equal(st.dropped_domains, 1);
    assert_int_equal(st.dropped_messages, 1);
    assert_int_equal(st.seen_full, 1);
    assert_int_equal(st.repeats, 2);
    assert_non_null(all = audit_table_sorted(t, &n));
    assert_int_equal(n, 2);
    assert_string_equal(all[0]->name, "a.example");
    assert_int_equal(all[0]->messages, 4);
    assert_string_equal(all[1]->name, "b.example");
    assert_int_equal(all[1]->messages, 4);
    free(all);
    audit_table_free(&t);
}

static void test_names(void **state)
{
    (void) state;
    assert_int_equal(audit_log_format_code("postfix"), AUDIT_FORMAT_POSTFIX);
    assert_int_equal(audit_log_format_code("sendmail"), AUDIT_FORMAT_SENDMAIL);
    assert_int_equal(audit_log_format_code("domains"), AUDIT_FORMAT_DOMAINS);
    assert_int_equal(audit_log_format_code("exim"), -1);
    assert_string_equal(audit_log_format_name(AUDIT_FORMAT_AUTO), "auto");
    assert_string_equal(audit_log_format_name(42), "unknown");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_postfix),
	cmocka_unit_test(test_sendmail),
	cmocka_unit_test(test_domains),
	cmocka_unit_test(test_detect),
	cmocka_unit_test(test_maillog),
	cmocka_unit_test(test_line_cap),
	cmocka_unit_test(test_domain_bound),
	cmocka_unit_test(test_names),
    };

    return (cmocka_run_group_tests(tests, NULL, NULL));
}
