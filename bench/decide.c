/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	decide 1
 * SUMMARY
 *	bench driver: in-process warm decisions, timed one by one
 * SYNOPSIS
 *	decide CONFIG N DOMAIN...
 * DESCRIPTION
 *	Builds one engine from CONFIG the way the daemons do (conf_load(),
 *	route_conf_opts(), route_create()), then for each DOMAIN in turn:
 *
 *	warm: decisions with a generous budget (WARM_BUDGET_MS), 100 ms
 *	apart, until WARM_STABLE decisions in a row give the same verdict
 *	(at most WARM_MAX); the background work a decision leaves (the
 *	other MX hosts' probes, ROUTE_FIRST) has finished by then;
 *
 *	time: N decisions with the configured budget, each timed alone
 *	with clock_gettime(CLOCK_MONOTONIC) around decide_once();
 *
 *	count: N more decisions with strace(1) attached to the whole
 *	process (every thread, -f) counting its clone and clone3 system
 *	calls: a thread is counted by the kernel call that makes it, by
 *	whatever library makes it, even one that ends before the loop
 *	does (which a look at /proc/self/task would miss). The timed loop
 *	runs without strace, which slows every system call.
 *
 *	One JSON line per domain on stdout: domain, verdict (its name,
 *	verdict.h), dane (1: TLSA records decided a host), n, p50_us,
 *	p99_us, mean_us, changed (timed decisions whose verdict was not
 *	the warm one: expected 0), clones (-1: strace missing or failed)
 *	and clones_per_decision. Exit 0, 1 on setup errors or when a domain
 *	is invalid (STATUS_INVAL).
 *
 *	Used by bench/run; not part of the test suite.
 */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "route.h"
#include "route_conf.h"
#include "status.h"
#include "verdict.h"
#include "why.h"

#define WARM_BUDGET_MS	15000
#define WARM_STABLE	3
#define WARM_MAX	30
#define N_MAX		1000000
#define ATTACH_WAIT_MS	10000

/*
 * decide_once - one decision, as the front ends make it at RCPT time.
 * The one place that says what a decision is: to time another entry
 * point (a compact cached answer), change this function alone.
 */

static int decide_once(ROUTE *route, const char *domain, int budget_ms,
		               int *verdict, int *dane, WHY *why)
{
    ANSWER  a;
    int     st;

    /* As milter.c and smtpd.c do: the kept answer when there is one. */
    st = route_answer(route, domain, budget_ms, ROUTE_FIRST, &a, 0, 0, why);
    if (st == STATUS_OK) {
	*verdict = a.verdict;
	*dane = a.dane;
    }
    return (st);
}

static long long now_ns(void)
{
    struct timespec ts;

    (void) clock_gettime(CLOCK_MONOTONIC, &ts);
    return ((long long) ts.tv_sec * 1000000000LL + ts.tv_nsec);
}

static void sleep_ms(long ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
	 /* void */ ;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *) a;
    long long y = *(const long long *) b;

    return ((x > y) - (x < y));
}

/* all_traced - every thread of this process has a tracer */

static int all_traced(void)
{
    DIR    *dir;
    struct dirent *de;
    char    path[300];
    char    line[128];
    FILE   *fp;
    int     untraced = 0;
    int     seen = 0;

    if ((dir = opendir("/proc/self/task")) == 0)
	goto out;
    while (untraced == 0 && (de = readdir(dir)) != 0) {
	if (de->d_name[0] == '.')
	    continue;
	(void) snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
	if ((fp = fopen(path, "r")) == 0)
	    continue;				/* the thread just ended */
	while (fgets(line, sizeof(line), fp))
	    if (strncmp(line, "TracerPid:", 10) == 0) {
		seen++;
		untraced += (strtol(line + 10, 0, 10) == 0);
	    }
	(void) fclose(fp);
    }
    (void) closedir(dir);

out:
    return (seen > 0 && untraced == 0);
}

/* strace_start - attach strace -f -c to this process and wait for it; pid or -1 */

static pid_t strace_start(const char *out)
{
    char    pid[32];
    pid_t   child;
    pid_t   result = -1;
    int     waited;

    (void) snprintf(pid, sizeof(pid), "%ld", (long) getpid());
    (void) prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
    if ((child = fork()) < 0)
	goto out;
    if (child == 0) {
	execlp("strace", "strace", "-qq", "-f", "-c", "-e", "trace=clone,clone3",
	       "-o", out, "-p", pid, (char *) 0);
	_exit(127);
    }
    for (waited = 0; waited < ATTACH_WAIT_MS; waited += 10) {
	if (all_traced()) {
	    result = child;
	    goto out;
	}
	if (waitpid(child, 0, WNOHANG) == child)
	    goto out;				/* strace gave up (or is missing) */
	sleep_ms(10);
    }
    (void) kill(child, SIGKILL);
    (void) waitpid(child, 0, 0);

out:
    return (result);
}

/* strace_stop - detach strace; the clone and clone3 calls it saw, or -1 */

static long strace_stop(pid_t child, const char *out)
{
    FILE   *fp = 0;
    char    line[256];
    char   *tok[8];
    char   *save;
    long    calls = -1;
    int     ntok;

    (void) kill(child, SIGINT);
    if (waitpid(child, 0, 0) != child || (fp = fopen(out, "r")) == 0)
	goto out;
    /* "% time  seconds  usecs/call  calls  [errors]  syscall" */
    for (calls = 0; fgets(line, sizeof(line), fp) != 0; /* void */ ) {
	for (ntok = 0, tok[0] = strtok_r(line, " \t\n", &save); tok[ntok] != 0 && ntok < 7;)
	    tok[++ntok] = strtok_r(0, " \t\n", &save);
	if (ntok >= 5 && (strcmp(tok[ntok - 1], "clone") == 0 || strcmp(tok[ntok - 1], "clone3") == 0))
	    calls += strtol(tok[3], 0, 10);
    }

out:
    if (fp)
	(void) fclose(fp);
    return (calls);
}

int     main(int argc, char **argv)
{
    ROUTE_OPTS opts;
    ROUTE  *route = 0;
    CONF   *conf = 0;
    WHY     why;
    long long *t = 0;
    long long t0;
    long long sum;
    char    trace_file[512];
    int     fd;
    long    n;
    long    i;
    long    clones;
    pid_t   tracer;
    int     budget;
    int     verdict;
    int     dane;
    int     last;
    int     same;
    long    changes;
    int     d;
    int     rc = 1;

    trace_file[0] = 0;

    if (argc < 4 || (n = strtol(argv[2], 0, 10)) < 1 || n > N_MAX) {
	fprintf(stderr, "usage: decide CONFIG N(1-%d) DOMAIN...\n", N_MAX);
	return (64);
    }
    if (conf_load(argv[1], &conf, &why) != STATUS_OK) {
	fprintf(stderr, "%s\n", why.text);
	goto out;
    }
    route_conf_opts(conf, &opts);
    if (route_create(&opts, &route, &why) != STATUS_OK) {
	fprintf(stderr, "route_create: %s\n", why.text);
	goto out;
    }
    budget = route_conf_budget_ms(conf);
    if ((t = calloc((size_t) n, sizeof(*t))) == 0)
	goto out;
    /* Not named by pid: worlds have their own PID namespaces, one /tmp. */
    (void) snprintf(trace_file, sizeof(trace_file), "%s/decide-strace.XXXXXX",
		    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if ((fd = mkstemp(trace_file)) < 0) {
	fprintf(stderr, "mkstemp %s: %s\n", trace_file, strerror(errno));
	trace_file[0] = 0;
	goto out;
    }
    (void) close(fd);
    for (d = 3; d < argc; d++) {
	for (last = -1, same = 0, i = 0; i < WARM_MAX && same < WARM_STABLE; i++) {
	    if (decide_once(route, argv[d], WARM_BUDGET_MS, &verdict, &dane, &why) != STATUS_OK) {
		fprintf(stderr, "%s: %s\n", argv[d], why.text);
		goto out;
	    }
	    same = (verdict == last) ? same + 1 : 1;
	    last = verdict;
	    sleep_ms(100);
	}
	for (changes = 0, sum = 0, i = 0; i < n; i++) {
	    t0 = now_ns();
	    if (decide_once(route, argv[d], budget, &verdict, &dane, &why) != STATUS_OK)
		verdict = -1;
	    t[i] = now_ns() - t0;
	    sum += t[i];
	    changes += (verdict != last);
	}
	qsort(t, (size_t) n, sizeof(*t), cmp_ll);
	clones = -1;
	if ((tracer = strace_start(trace_file)) > 0) {
	    for (i = 0; i < n; i++)
		(void) decide_once(route, argv[d], budget, &verdict, &dane, &why);
	    clones = strace_stop(tracer, trace_file);
	}
	printf("{\"domain\": \"%s\", \"verdict\": \"%s\", \"dane\": %d, \"n\": %ld, "
	       "\"p50_us\": %.3f, \"p99_us\": %.3f, \"mean_us\": %.3f, "
	       "\"changed\": %ld, \"clones\": %ld, \"clones_per_decision\": %.4f}\n",
	       argv[d], verdict_name(last), dane, n,
	       t[(n - 1) / 2] / 1000.0, t[(n * 99 - 1) / 100] / 1000.0,
	       (double) sum / n / 1000.0, changes, clones, clones < 0 ? -1.0 : (double) clones / n);
	(void) fflush(stdout);
    }
    rc = 0;

out:
    if (trace_file[0])
	(void) unlink(trace_file);
    free(t);
    route_free(&route);
    conf_unref(&conf);
    return (rc);
}
