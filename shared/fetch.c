/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fetch 3
 * SUMMARY
 *	MTA-STS policy fetch over HTTPS (RFC 8461 section 3.3) with libcurl
 * DESCRIPTION
 *	See fetch.h. One easy handle per fetch (no shared state between
 *	threads besides curl_global_init()); CURLOPT_NOSIGNAL so timeouts do
 *	not use signals in threaded daemons.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "clock.h"
#include "config.h"
#include "fetch.h"
#include "netguard.h"
#include "policy.h"
#include "status.h"
#include "str.h"
#include "text.h"

#define FETCH_RESOLVE_MAX	1024	/* one CURLOPT_RESOLVE entry */
#define FETCH_ADDR_MAX		8	/* addresses handed to libcurl */

static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;
static CURLcode fetch_global_status = CURLE_FAILED_INIT;

static void fetch_global_init(void)
{
    fetch_global_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int     fetch_init(WHY *why)
{
    (void) pthread_once(&fetch_once, fetch_global_init);
    if (fetch_global_status != CURLE_OK) {
	why_set(why, "libcurl initialization failed: %s", curl_easy_strerror(fetch_global_status));
	return (STATUS_FAIL);
    }
    return (STATUS_OK);
}

const char *fetch_reason_name(int reason)
{
    switch (reason) {
    case FETCH_OK:
	return ("ok");
    case FETCH_ERR_FETCH:
	return ("sts-policy-fetch-error");
    case FETCH_ERR_WEBPKI:
	return ("sts-webpki-invalid");
    case FETCH_ERR_INVALID:
	return ("sts-policy-invalid");
    default:
	return ("unknown");
    }
}

/*
 * RFC 8461 §3.2: the policy is served with media type "text/plain";
 * RFC 2045 §5.1: type and subtype are case-insensitive and parameters
 * (";" attribute=value) may follow, with optional whitespace.
 */
int     fetch_media_type_ok(const char *ct)
{
    static const char want[] = "text/plain";

    if (ct == 0)
	return (0);
    while (*ct == ' ' || *ct == '\t')
	ct++;
    if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
	return (0);
    ct += sizeof(want) - 1;
    while (*ct == ' ' || *ct == '\t')
	ct++;
    return (*ct == 0 || *ct == ';');
}

/* fetch_body_add - body collection with the hard cap */

size_t  fetch_body_add(FETCH_BODY *body, const char *data, size_t n)
{
    char   *nbuf;

    /* RFC 8461 §3.3: a body over the cap makes the policy invalid; never truncate. */
    if (n > POLICY_BODY_MAX - body->len) {
	body->over = 1;
	return (0);
    }
    if (body->len + n + 1 > body->size) {
	size_t  nsize = body->size ? body->size : 4096;

	while (nsize < body->len + n + 1)
	    nsize *= 2;
	if (nsize > POLICY_BODY_MAX + 1)
	    nsize = POLICY_BODY_MAX + 1;
	if ((nbuf = realloc(body->buf, nsize)) == 0)
	    return (0);
	body->buf = nbuf;
	body->size = nsize;
    }
    memcpy(body->buf + body->len, data, n);
    body->len += n;
    body->buf[body->len] = 0;
    return (n);
}

static size_t fetch_write(char *data, size_t size, size_t nmemb, void *ctx)
{
    return (fetch_body_add((FETCH_BODY *) ctx, data, size * nmemb));
}

/* fetch_response - the result of a finished transfer (pure) */

int     fetch_response(const FETCH_HTTP *http, FETCH_RESULT *res)
{
    const char *err = http->error ? http->error : "transfer failed";
    int     status = STATUS_RETRY;

    res->reason = FETCH_ERR_FETCH;
    res->http_status = http->status;
    if (http->content_type)
	(void) text_sanitize(res->content_type, sizeof(res->content_type), http->content_type);

    if (http->transfer == FETCH_XFER_TOO_BIG || http->len > POLICY_BODY_MAX) {
	res->reason = FETCH_ERR_INVALID;
	(void) snprintf(res->detail, sizeof(res->detail),
			"policy body exceeds %d bytes (RFC 8461 section 3.3)", POLICY_BODY_MAX);
	status = STATUS_FAIL;
	goto done;
    }
    if (http->transfer == FETCH_XFER_WEBPKI) {
	res->reason = FETCH_ERR_WEBPKI;
	(void) text_sanitize(res->detail, sizeof(res->detail), err);
	status = STATUS_FAIL;
	goto done;
    }
    if (http->transfer != FETCH_XFER_OK) {
	(void) text_sanitize(res->detail, sizeof(res->detail), err);
	goto done;
    }
    if (http->status != 200) {
	/* RFC 8461 §3.3: only 200 is a policy; 3xx is not followed. */
	(void) snprintf(res->detail, sizeof(res->detail), "HTTP status %ld%s", http->status,
			http->status >= 300 && http->status < 400 ?
			" (redirects are not followed, RFC 8461 section 3.3)" : "");
	goto done;
    }
    if (!fetch_media_type_ok(http->content_type)) {
	res->reason = FETCH_ERR_INVALID;
	(void) snprintf(res->detail, sizeof(res->detail),
			"Content-Type is \"%s\", not text/plain (RFC 8461 section 3.2)",
			http->content_type ? res->content_type : "(none)");
	status = STATUS_FAIL;
	goto done;
    }
    if ((res->body = malloc(http->len + 1)) == 0) {
	(void) snprintf(res->detail, sizeof(res->detail), "out of memory");
	goto done;
    }
    if (http->len)
	memcpy(res->body, http->body, http->len);
    res->body[http->len] = 0;
    res->len = http->len;
    res->reason = FETCH_OK;
    status = STATUS_OK;

done:
    return (status);
}

/* Build "mta-sts.DOMAIN:443:a1,a2" from the allowed addresses. */

static int fetch_resolve_entry(const FETCH_OPTS *opts, const char *host,
			               const struct sockaddr_storage *addr, int count,
			               char *entry, size_t size, char *detail, size_t dsize)
{
    char    text[INET6_ADDRSTRLEN];
    WHY     why;
    int     used = 0;
    int     i;

    entry[0] = 0;
    (void) str_appendf(entry, size, "%s:443:", host);
    for (i = 0; i < count && used < FETCH_ADDR_MAX; i++) {
	if (netguard_allowed((const struct sockaddr *) &addr[i], opts->allow_private, &why) != STATUS_OK) {
	    (void) snprintf(detail, dsize, "%s", why_text(&why));
	    continue;
	}
	if (netguard_format((const struct sockaddr *) &addr[i], text, sizeof(text)) != 0)
	    continue;
	if (str_appendf(entry, size, addr[i].ss_family == AF_INET6 ? "%s[%s]" : "%s%s",
			used ? "," : "", text) != 0)
	    break;
	used++;
    }
    return (used);
}

int     fetch_policy(const FETCH_OPTS *opts, const char *domain,
		             const struct sockaddr_storage *addr, int addr_count,
		             FETCH_RESULT *res)
{
    char    host[300];
    char    url[400];
    char    entry[FETCH_RESOLVE_MAX];
    char    errbuf[CURL_ERROR_SIZE];
    FETCH_BODY body = {0};
    FETCH_HTTP http;
    struct curl_slist *resolve = 0;
    CURL   *curl = 0;
    CURLcode cc;
    char   *ct = 0;
    char   *ip = 0;
    long long start = clock_mono_ms();
    long long budget;
    int     status = STATUS_RETRY;

    memset(res, 0, sizeof(*res));
    res->reason = FETCH_ERR_FETCH;
    if (fetch_init(0) != STATUS_OK) {
	(void) snprintf(res->detail, sizeof(res->detail), "libcurl is not usable");
	goto done;
    }
    /* RFC 8461 §3.3: the policy is at https://mta-sts.<domain>/.well-known/mta-sts.txt */
    if (snprintf(host, sizeof(host), "mta-sts.%s", domain) >= (int) sizeof(host)
	|| snprintf(url, sizeof(url), "https://%s/.well-known/mta-sts.txt", host) >= (int) sizeof(url)) {
	(void) snprintf(res->detail, sizeof(res->detail), "domain name too long");
	status = STATUS_INVAL;
	goto done;
    }
    if (addr_count <= 0) {
	(void) snprintf(res->detail, sizeof(res->detail), "%s has no address", host);
	goto done;
    }
    if (fetch_resolve_entry(opts, host, addr, addr_count, entry, sizeof(entry),
			    res->detail, sizeof(res->detail)) == 0) {
	if (res->detail[0] == 0)
	    (void) snprintf(res->detail, sizeof(res->detail), "%s has no usable address", host);
	goto done;
    }
    budget = opts->timeout_ms;
    if (opts->deadline_ms > 0 && opts->deadline_ms - start < budget)
	budget = opts->deadline_ms - start;
    if (budget <= 0) {
	(void) snprintf(res->detail, sizeof(res->detail), "no time left to fetch the policy");
	goto done;
    }
    if ((resolve = curl_slist_append(0, entry)) == 0 || (curl = curl_easy_init()) == 0) {
	(void) snprintf(res->detail, sizeof(res->detail), "out of memory");
	goto done;
    }
    errbuf[0] = 0;
    (void) curl_easy_setopt(curl, CURLOPT_URL, url);
    (void) curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
#if LIBCURL_VERSION_NUM >= 0x075500
    (void) curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
#else
    (void) curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long) CURLPROTO_HTTPS);
#endif
    (void) curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    (void) curl_easy_setopt(curl, CURLOPT_PROXY, "");	/* never an environment proxy */
    /* RFC 8461 §3.3: senders MUST NOT follow redirects. */
    (void) curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    /* RFC 8461 §3.3: the server certificate MUST be PKIX-valid for mta-sts.<domain>. */
    (void) curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    (void) curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    (void) curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2);
    if (opts->ca_file && *opts->ca_file)
	(void) curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
    if (opts->ca_path && *opts->ca_path)
	(void) curl_easy_setopt(curl, CURLOPT_CAPATH, opts->ca_path);
    (void) curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
			    (long) (opts->connect_timeout_ms < budget ? opts->connect_timeout_ms : budget));
    (void) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long) budget);
    /* RFC 8461 §3.3: 64 KiB cap; refuse an announced larger body up front. */
    (void) curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) POLICY_BODY_MAX);
    (void) curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fetch_write);
    (void) curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    (void) curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    (void) curl_easy_setopt(curl, CURLOPT_USERAGENT, "stsfilter/" PACKAGE_VERSION);
    /* RFC 8461 §3.3: HTTP caching MUST NOT be used; libcurl keeps no cache. */

    cc = curl_easy_perform(curl);
    if (curl_easy_getinfo(curl, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip)
	(void) text_sanitize(res->address, sizeof(res->address), ip);
    memset(&http, 0, sizeof(http));
    (void) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &http.status);
    if (curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
	http.content_type = ct;
    http.error = errbuf[0] ? errbuf : curl_easy_strerror(cc);
    if (body.over || cc == CURLE_FILESIZE_EXCEEDED)
	http.transfer = FETCH_XFER_TOO_BIG;
    else if (cc == CURLE_PEER_FAILED_VERIFICATION
#if LIBCURL_VERSION_NUM < 0x073e00
	     || cc == CURLE_SSL_CACERT
#endif
	)
	http.transfer = FETCH_XFER_WEBPKI;
    else if (cc != CURLE_OK)
	http.transfer = FETCH_XFER_ERROR;
    http.body = body.buf;
    http.len = body.len;
    status = fetch_response(&http, res);

done:
    res->elapsed_ms = (long) (clock_mono_ms() - start);
    free(body.buf);
    if (curl)
	curl_easy_cleanup(curl);
    if (resolve)
	curl_slist_free_all(resolve);
    return (status);
}

void    fetch_result_clear(FETCH_RESULT *res)
{
    free(res->body);
    res->body = 0;
    res->len = 0;
}
