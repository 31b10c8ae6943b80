/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	cli_json 3
 * SUMMARY
 *	`stsfilter check --json`: one document shape for machines
 * SYNOPSIS
 *	#include "cli_check.h"
 * DESCRIPTION
 *	See cli_check.h; the keys are documented in stsfilter(1). Glue
 *	only: every value comes from the VERDICT (route.c), the sender
 *	views (sender.c), the TLS-RPT parser (tlsrpt.c) and the cached
 *	entry (cli_check.c). Every string in a VERDICT is sanitized ASCII,
 *	which jansson takes as UTF-8. An empty string is written as null;
 *	no list is truncated.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli_check.h"
#include "policy.h"
#include "sender.h"
#include "status.h"
#include "tlsrpt.h"
#include "verdict.h"

/* A string, or null when empty. */

static json_t *cli_json_str(const char *s)
{
    return (s && *s ? json_string(s) : json_null());
}

/* A time as UTC ISO 8601, or null when unknown. */

static json_t *cli_json_time(time_t t)
{
    char    buf[32];

    if (t == 0)
	return (json_null());
    cli_check_time(t, buf, sizeof(buf));
    return (json_string(buf));
}

/* A reason label, or null for none. */

static json_t *cli_json_reason(int reason)
{
    return (reason == REASON_NONE ? json_null() : json_string(verdict_reason_label(reason)));
}

static json_t *cli_json_host(const VERDICT_HOST *h)
{
    json_t *names = json_array();
    int     j;

    for (j = 0; j < h->cert_name_count; j++)
	json_array_append_new(names, json_string(h->cert_names[j]));
    return (json_pack("{s:s, s:i, s:b, s:o, s:b, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
		      "name", h->name, "pref", h->pref, "listed", h->listed,
		      "cname", cli_json_str(h->cname), "dane", h->dane, "passed", h->passed,
		      "result", h->passed ? json_string("ok") : cli_json_str(h->reason == REASON_NONE ?
						       "" : verdict_reason_name(h->reason)),
		      "reason", h->passed ? json_null() : cli_json_reason(h->reason),
		      "detail", cli_json_str(h->detail), "address", cli_json_str(h->address),
		      "tls_version", cli_json_str(h->tls_version), "cert_names", names,
		      "cert_issuer", cli_json_str(h->cert_issuer),
		      "cert_not_after", cli_json_time(h->cert_not_after), "probe_ms", (json_int_t) h->probe_ms));
}

/* RFC 8461 section 3.1: the _mta-sts TXT record(s) and what is wrong with them. */

static json_t *cli_json_txt(const VERDICT *v)
{
    json_t *records = json_array();
    int     i;

    for (i = 0; i < v->txt_count && i < VERDICT_TXT_SHOWN; i++)
	json_array_append_new(records, json_string(v->txt_records[i]));
    return (json_pack("{s:b, s:o, s:o, s:i, s:o, s:o}",
		      "present", v->has_txt, "id", v->has_txt ? cli_json_str(v->txt_id) : json_null(),
		      "ttl", v->has_txt || v->txt_count ? json_integer(v->txt_ttl) : json_null(),
		      "count", v->txt_count, "records", records, "problem", cli_json_str(v->txt_problem)));
}

/* The policy in force, every mx pattern, and a refused body's diagnosis. */

static json_t *cli_json_policy(const VERDICT *v)
{
    json_t *mx = json_array();
    json_t *refused = json_null();
    int     i;

    for (i = 0; i < v->policy_mx_count; i++)
	json_array_append_new(mx, json_string(v->policy_mx[i]));
    if (v->policy_problem[0])
	refused = json_pack("{s:o, s:o, s:s, s:b, s:o}",
			    "line", v->policy_line > 0 ? json_integer(v->policy_line) : json_null(),
			    "text", v->policy_line > 0 ? json_string(v->policy_line_text) : json_null(),
			    "problem", v->policy_problem, "lenient_accepts", v->policy_lenient,
			    "lenient_mode", v->policy_lenient ?
			    json_string(policy_mode_name(v->policy_lenient_mode)) : json_null());
    return (json_pack("{s:b, s:o, s:o, s:o, s:b, s:o}",
		      "present", v->has_policy,
		      "mode", v->has_policy ? json_string(policy_mode_name(v->policy_mode)) : json_null(),
		      "max_age", v->has_policy ? json_integer(v->policy_max_age) : json_null(),
		      "mx", mx, "cached", v->policy_cached, "refused", refused));
}

/* RFC 8460 section 3: the TLS-RPT record, parsed (tlsrpt.c). */

static json_t *cli_json_tlsrpt(const VERDICT *v)
{
    TLSRPT_RECORD rec;
    json_t *rua;
    WHY     why;
    int     i;

    if (v->tlsrpt[0] == 0)
	return (json_null());
    why.text[0] = 0;
    if (tlsrpt_parse(v->tlsrpt, strlen(v->tlsrpt), &rec, &why) != STATUS_OK)
	return (json_pack("{s:s, s:[], s:s}", "record", v->tlsrpt, "rua", "error", why_text(&why)));
    rua = json_array();
    for (i = 0; i < rec.rua_count; i++)
	json_array_append_new(rua, json_pack("{s:s, s:s}", "kind",
					     rec.rua[i].kind == TLSRPT_MAILTO ? "mailto" : "https",
					     "uri", rec.rua[i].uri));
    return (json_pack("{s:s, s:o, s:n}", "record", v->tlsrpt, "rua", rua, "error"));
}

/* Named sender behaviours (sender.c): what each concludes. */

static json_t *cli_json_senders(const VERDICT *v)
{
    SENDER_VIEW view;
    json_t *all = json_object();
    json_t *hosts;
    int     b, i;

    for (b = 0; b < SENDER_COUNT; b++) {
	if (sender_view(b, v, &view) != STATUS_OK)
	    continue;
	hosts = json_array();
	for (i = 0; i < view.host_count; i++)
	    json_array_append_new(hosts, json_pack("{s:s, s:s, s:b, s:b, s:o, s:b}",
						   "mx", v->host[i].name, "checks", view.host[i].name,
						   "listed", view.host[i].listed,
						   "passed", view.host[i].passed,
						   "reason", view.host[i].known ?
						   cli_json_reason(view.host[i].reason) : json_null(),
						   "known", view.host[i].known));
	json_object_set_new(all, sender_name(b),
			    json_pack("{s:s, s:o, s:b, s:s, s:o, s:o}", "verdict", verdict_name(view.verdict),
				      "reason", cli_json_reason(view.reason), "differs", view.differs,
				      "explanation", view.explanation, "fix", cli_json_str(view.fix),
				      "hosts", hosts));
    }
    return (all);
}

/* What the cluster applies now (cli_check.c read it from the shared cache). */

static json_t *cli_json_cached(const CLI_CACHED *c)
{
    static const char *states[] = {"off", "none", "policy", "negative", "error"};
    int     policy;

    if (c == 0)
	return (json_null());
    policy = (c->state == CLI_CACHED_POLICY);
    return (json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:b, s:o}",
		      "backend", c->backend, "where", cli_json_str(c->where),
		      "state", c->state >= 0 && c->state <= CLI_CACHED_ERROR ? states[c->state] : "error",
		      "id", policy ? cli_json_str(c->txt_id) : json_null(),
		      "mode", policy && c->mode >= 0 ? json_string(policy_mode_name(c->mode)) : json_null(),
		      "max_age", policy ? json_integer(c->max_age) : json_null(),
		      "mx_count", policy ? json_integer(c->mx_count) : json_null(),
		      "fetched", policy || c->state == CLI_CACHED_NEGATIVE ? cli_json_time(c->fetched) : json_null(),
		      "checked", policy ? cli_json_time(c->checked ? c->checked : c->fetched) : json_null(),
		      "expires", policy || c->state == CLI_CACHED_NEGATIVE ? cli_json_time(c->expires) : json_null(),
		      "fresh", c->fresh, "differs", c->differs, "note", cli_json_str(c->note)));
}

json_t *cli_json_domain(const VERDICT *v, const CLI_CACHED *cached)
{
    json_t *warn = json_array();
    json_t *hosts = json_array();
    char    buf[VERDICT_TEXT_MAX];
    int     i;

    for (i = 0; i < v->host_count; i++)
	json_array_append_new(hosts, cli_json_host(&v->host[i]));
    for (i = 0; i < v->warn_count; i++)
	json_array_append_new(warn, json_string(v->warn[i]));
    /* A TXT record that is not a valid MTA-STS record is a warning too. */
    if (cli_check_txt_warning(v, buf, sizeof(buf)))
	json_array_append_new(warn, json_string(buf));
    return (json_pack("{s:s, s:n, s:s, s:o, s:o, s:s, s:b, s:b, s:b, s:b,"
		      " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:I, s:I, s:I, s:I}}",
		      "domain", v->domain, "error", "verdict", verdict_name(v->verdict),
		      "reason", cli_json_reason(sender_reason(v)), "detail", cli_json_str(v->detail),
		      "explanation", v->explanation, "mx_secure", v->mx_secure,
		      "implicit_mx", v->implicit_mx, "null_mx", v->verdict == VERDICT_NULL_MX, "dane", v->dane,
		      "txt", cli_json_txt(v), "policy", cli_json_policy(v), "tlsrpt", cli_json_tlsrpt(v),
		      "hosts", hosts, "senders", cli_json_senders(v), "cache", cli_json_cached(cached),
		      "warnings", warn,
		      "time_ms", "dns", (json_int_t) v->dns_ms, "fetch", (json_int_t) v->fetch_ms,
		      "probe", (json_int_t) v->probe_ms, "total", (json_int_t) v->total_ms));
}

json_t *cli_json_error(const char *domain, const char *error)
{
    return (json_pack("{s:o, s:s, s:n, s:n, s:n, s:n}", "domain", cli_json_str(domain), "error", error,
		      "verdict", "reason", "explanation", "warnings"));
}

json_t *cli_json_document(json_t *results)
{
    return (json_pack("{s:i, s:o}", "version", CLI_JSON_VERSION, "results", results));
}

int     cli_json_dump(json_t *root, FILE *fp)
{
    int     result = -1;

    if (root == 0)
	goto done;
    if (json_dumpf(root, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0)
	goto done;
    fputc('\n', fp);
    result = ferror(fp) ? -1 : 0;

done:
    json_decref(root);
    return (result);
}
