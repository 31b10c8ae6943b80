/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	test_netguard 1
 * SUMMARY
 *	unit tests for netguard (address classes, the outbound guard)
 * DESCRIPTION
 *	Table-driven from tests/unit/data/netguard-vectors.txt: each row is
 *	"address | class name | allowed without opt-in" (yes/no). For each
 *	row the test checks netguard_class(), netguard_allowed() with and
 *	without allow_private, the reason text of a refusal, and that
 *	netguard_format() gives back an address that parses to the same
 *	bytes. Further tests cover null and foreign-family input, class
 *	names, and netguard_format() with short buffers.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <cmocka.h>

#include "netguard.h"
#include "status.h"
#include "testdata.h"

#define VECTORS "netguard-vectors.txt"

/* test_netguard_parse - text address to sockaddr_storage */

static void test_netguard_parse(const char *text, struct sockaddr_storage *ss)
{
    struct sockaddr_in *sin = (struct sockaddr_in *) ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
	sin->sin_family = AF_INET;
	return;
    }
    if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
	sin6->sin6_family = AF_INET6;
	return;
    }
    fail_msg("bad address in %s: %s", VECTORS, text);
}

/* test_netguard_same - do two sockaddrs hold the same address? */

static int test_netguard_same(const struct sockaddr_storage *a,
			              const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
	return (0);
    if (a->ss_family == AF_INET)
	return (memcmp(&((const struct sockaddr_in *) a)->sin_addr,
		       &((const struct sockaddr_in *) b)->sin_addr, 4) == 0);
    return (memcmp(&((const struct sockaddr_in6 *) a)->sin6_addr,
		   &((const struct sockaddr_in6 *) b)->sin6_addr, 16) == 0);
}

static int test_netguard_row(void *ctx, int lineno, int nfield, char **field)
{
    int    *count = ctx;
    struct sockaddr_storage ss;
    struct sockaddr_storage back;
    const struct sockaddr *sa = (const struct sockaddr *) &ss;
    char    text[INET6_ADDRSTRLEN];
    WHY     why;
    int     class;
    int     allowed;

    if (nfield != 3)
	fail_msg("%s:%d: want 3 fields, got %d", VECTORS, lineno, nfield);
    if (strcmp(field[2], "yes") != 0 && strcmp(field[2], "no") != 0)
	fail_msg("%s:%d: third field must be yes or no", VECTORS, lineno);
    test_netguard_parse(field[0], &ss);

    class = netguard_class(sa);
    if (strcmp(netguard_class_name(class), field[1]) != 0)
	fail_msg("%s:%d: %s: class %s, want %s", VECTORS, lineno, field[0],
		 netguard_class_name(class), field[1]);

    /* Without the opt-in: only public addresses. */
    memset(&why, 0, sizeof(why));
    allowed = netguard_allowed(sa, 0, &why);
    if (strcmp(field[2], "yes") == 0) {
	if (allowed != STATUS_OK)
	    fail_msg("%s:%d: %s refused: %s", VECTORS, lineno, field[0], why.text);
    } else {
	if (allowed != STATUS_FAIL)
	    fail_msg("%s:%d: %s allowed, want refused", VECTORS, lineno, field[0]);
	/* The reason names the class. */
	if (strstr(why.text, field[1]) == 0)
	    fail_msg("%s:%d: reason \"%s\" lacks \"%s\"", VECTORS, lineno,
		     why.text, field[1]);
    }
    /* With the opt-in (the test world): everything. */
    if (netguard_allowed(sa, 1, &why) != STATUS_OK)
	fail_msg("%s:%d: %s refused with allow_private", VECTORS, lineno, field[0]);

    /* netguard_format() round trip. */
    if (netguard_format(sa, text, sizeof(text)) != 0)
	fail_msg("%s:%d: netguard_format failed", VECTORS, lineno);
    test_netguard_parse(text, &back);
    if (!test_netguard_same(&ss, &back))
	fail_msg("%s:%d: %s formatted as %s", VECTORS, lineno, field[0], text);
    /* A refusal names the address. */
    if (strcmp(field[2], "no") == 0) {
	(void) netguard_allowed(sa, 0, &why);
	if (strstr(why.text, text) == 0)
	    fail_msg("%s:%d: reason \"%s\" lacks the address", VECTORS, lineno, why.text);
    }
    (*count)++;
    return (0);
}

static void test_netguard_vectors(void **state)
{
    int     count = 0;
    int     rows;

    rows = testdata_rows(VECTORS, '|', test_netguard_row, &count);
    assert_int_equal(rows, count);
    assert_true(count >= 50);
}

/* Null, foreign family: reserved, and refused even with the opt-in. */

static void test_netguard_bad_family(void **state)
{
    struct sockaddr_un sun;
    struct sockaddr_storage ss;
    char    buf[64];
    WHY     why;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    assert_int_equal(netguard_class(0), NETGUARD_RESERVED);
    assert_int_equal(netguard_class((struct sockaddr *) &sun), NETGUARD_RESERVED);
    assert_int_equal(netguard_allowed(0, 1, &why), STATUS_FAIL);
    assert_int_equal(netguard_allowed((struct sockaddr *) &sun, 1, 0), STATUS_FAIL);
    assert_int_equal(netguard_allowed((struct sockaddr *) &sun, 0, &why), STATUS_FAIL);
    assert_non_null(strstr(why.text, "family"));
    assert_int_equal(netguard_format((struct sockaddr *) &sun, buf, sizeof(buf)), -1);
    assert_string_equal(buf, "");
    assert_int_equal(netguard_format(0, buf, sizeof(buf)), -1);
    /* A null WHY is accepted. */
    test_netguard_parse("10.0.0.1", &ss);
    assert_int_equal(netguard_allowed((struct sockaddr *) &ss, 0, 0), STATUS_FAIL);
}

static void test_netguard_names(void **state)
{
    static const char *const want[] = {
	"public", "loopback", "private", "shared", "link-local",
	"multicast", "unspecified", "documentation", "reserved",
    };
    int     i;

    for (i = 0; i <= NETGUARD_RESERVED; i++)
	assert_string_equal(netguard_class_name(i), want[i]);
    assert_string_equal(netguard_class_name(-1), "unknown");
    assert_string_equal(netguard_class_name(NETGUARD_RESERVED + 1), "unknown");
}

/* netguard_format(): short buffers fail cleanly and stay terminated. */

static void test_netguard_format_short(void **state)
{
    struct sockaddr_storage ss;
    char    buf[INET6_ADDRSTRLEN];

    test_netguard_parse("192.0.2.123", &ss);
    assert_int_equal(netguard_format((struct sockaddr *) &ss, buf, 12), 0);
    assert_string_equal(buf, "192.0.2.123");
    memset(buf, 'x', sizeof(buf));
    assert_int_equal(netguard_format((struct sockaddr *) &ss, buf, 11), -1);
    assert_string_equal(buf, "");
    assert_int_equal(netguard_format((struct sockaddr *) &ss, buf, 0), -1);
    assert_int_equal(netguard_format((struct sockaddr *) &ss, 0, 10), -1);
    test_netguard_parse("2001:db8:1234:5678:9abc:def0:1234:5678", &ss);
    assert_int_equal(netguard_format((struct sockaddr *) &ss, buf, 20), -1);
    assert_string_equal(buf, "");
    assert_int_equal(netguard_format((struct sockaddr *) &ss, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "2001:db8:1234:5678:9abc:def0:1234:5678");
}

int     main(void)
{
    const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_netguard_vectors),
	cmocka_unit_test(test_netguard_bad_family),
	cmocka_unit_test(test_netguard_names),
	cmocka_unit_test(test_netguard_format_short),
    };

    return (cmocka_run_group_tests_name("netguard", tests, 0, 0));
}
