/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	policy_diff 3
 * SUMMARY
 *	what changed between two MTA-STS policies of one domain
 * DESCRIPTION
 *	See policy_diff.h.
 */

#include <string.h>
#include <strings.h>

#include "policy_diff.h"
#include "str.h"

/* policy_diff_has - is pattern in p's mx list (RFC 8461 §4.1: case-insensitive) */

static int policy_diff_has(const POLICY *p, const char *pattern)
{
    int     i;

    for (i = 0; i < p->mx_count; i++)
	if (strcasecmp(p->mx[i], pattern) == 0)
	    return (1);
    return (0);
}

/* policy_diff_list - the patterns of a not in b: count, some named in text */

static int policy_diff_list(const POLICY *a, const POLICY *b, const char *label, char *text,
			            size_t size)
{
    int     n = 0;
    int     i;

    for (i = 0; i < a->mx_count; i++) {
	if (policy_diff_has(b, a->mx[i]))
	    continue;
	if (n == 0)
	    (void) str_append(text, size, label);
	if (n < POLICY_DIFF_MX_SHOWN)
	    (void) str_appendf(text, size, " %s", a->mx[i]);
	n++;
    }
    if (n > POLICY_DIFF_MX_SHOWN)
	(void) str_appendf(text, size, " (%d more)", n - POLICY_DIFF_MX_SHOWN);
    return (n);
}

/* policy_diff_mx - do the two sets of mx patterns differ */

static int policy_diff_mx(const POLICY *old, const POLICY *new)
{
    int     i;

    for (i = 0; i < old->mx_count; i++)
	if (!policy_diff_has(new, old->mx[i]))
	    return (1);
    for (i = 0; i < new->mx_count; i++)
	if (!policy_diff_has(old, new->mx[i]))
	    return (1);
    return (0);
}

int     policy_diff(const char *old_id, const POLICY *old, const char *new_id, const POLICY *new,
		            char *text, size_t size)
{
    char    clause[1024];
    int     flags = 0;

    if (size > 0)
	text[0] = 0;
    if (old == 0)
	goto out;				/* first sight: not a change */
    if (new == 0) {
	flags = POLICY_DIFF_GONE | (old->mode != POLICY_MODE_NONE ? POLICY_DIFF_DOWNGRADE : 0);
	(void) str_appendf(text, size, "policy gone (was mode %s, id %s)", policy_mode_name(old->mode),
			   old_id ? old_id : "-");
	goto out;
    }
    if (old_id && new_id && strcasecmp(old_id, new_id) != 0) {
	flags |= POLICY_DIFF_ID;
	(void) str_appendf(text, size, "id %s -> %s", old_id, new_id);
    }
    if (old->mode != new->mode) {
	flags |= POLICY_DIFF_MODE;
	/* RFC 8461 §5: enforce > testing > none in what a sender must do. */
	if (new->mode < old->mode)
	    flags |= POLICY_DIFF_DOWNGRADE;
	(void) str_appendf(text, size, "%smode %s -> %s", *text ? ", " : "", policy_mode_name(old->mode),
			   policy_mode_name(new->mode));
    }
    if (policy_diff_mx(old, new)) {
	flags |= POLICY_DIFF_MX;
	clause[0] = 0;
	(void) policy_diff_list(new, old, " added", clause, sizeof(clause));
	(void) policy_diff_list(old, new, *clause ? ", removed" : " removed", clause, sizeof(clause));
	(void) str_appendf(text, size, "%smx%s", *text ? ", " : "", clause);
    }
    if (flags && old->max_age != new->max_age) {
	flags |= POLICY_DIFF_MAX_AGE;
	(void) str_appendf(text, size, ", max_age %ld -> %ld", old->max_age, new->max_age);
    }

out:
    return (flags);
}
