/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	route_conf 3
 * SUMMARY
 *	engine options from the configuration
 * DESCRIPTION
 *	See route_conf.h.
 */

#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "route.h"
#include "route_conf.h"

void    route_conf_opts(const CONF *conf, ROUTE_OPTS *opts)
{
    const char *backend;
    int     n;

    memset(opts, 0, sizeof(*opts));
    opts->dns.forwarders = conf_list(conf, CONF_DNS_FORWARDERS, &n);
    opts->dns.forwarder_count = n;
    opts->dns.stub_zones = conf_list(conf, CONF_DNS_STUB_ZONES, &n);
    opts->dns.stub_zone_count = n;
    opts->dns.options = conf_list(conf, CONF_DNS_RESOLVER_OPTIONS, &n);
    opts->dns.option_count = n;
    opts->dns.trust_anchor_file = conf_str(conf, CONF_DNS_TRUST_ANCHOR_FILE);
    opts->dns_timeout_ms = (int) conf_time(conf, CONF_DNS_TIMEOUT) * 1000;
    opts->fetch_connect_timeout_ms = (int) conf_time(conf, CONF_POLICY_FETCH_CONNECT_TIMEOUT) * 1000;
    opts->fetch_timeout_ms = (int) conf_time(conf, CONF_POLICY_FETCH_TIMEOUT) * 1000;
    opts->probe_port = conf_int(conf, CONF_PROBE_PORT);
    opts->probe_connect_timeout_ms = (int) conf_time(conf, CONF_PROBE_CONNECT_TIMEOUT) * 1000;
    opts->probe_read_timeout_ms = (int) conf_time(conf, CONF_PROBE_READ_TIMEOUT) * 1000;
    opts->probe_parallel = conf_int(conf, CONF_PROBE_PARALLEL);
    opts->probe_threads = conf_int(conf, CONF_PROBE_THREADS);
    opts->helo_name = conf_str(conf, CONF_PROBE_HELO_NAME);
    opts->ca_file = conf_str(conf, CONF_TLS_CA_FILE);
    opts->ca_path = conf_str(conf, CONF_TLS_CA_PATH);
    opts->allow_private = conf_bool(conf, CONF_ALLOW_PRIVATE_ADDRESSES);
    opts->cache_entries = conf_int(conf, CONF_CACHE_MEMORY_ENTRIES);
    backend = conf_str(conf, CONF_CACHE_BACKEND);
    opts->cache.backend = strcmp(backend, "lmdb") == 0 ? CACHE_BACKEND_LMDB :
	strcmp(backend, "redis") == 0 ? CACHE_BACKEND_REDIS : CACHE_BACKEND_MEMORY;
    opts->cache.memory_entries = opts->cache_entries;
    opts->cache.memory_bytes = (long) conf_size(conf, CONF_CACHE_MEMORY_BYTES);
    opts->cache.path = conf_str(conf, CONF_CACHE_PATH);
    opts->cache.lmdb_map_size = (size_t) conf_size(conf, CONF_LMDB_MAP_SIZE);
    opts->cache.redis_server = conf_str(conf, CONF_REDIS_SERVER);
    opts->cache.redis_replicas = conf_list(conf, CONF_REDIS_REPLICAS, &n);
    opts->cache.redis_replica_count = n;
    opts->cache.redis_sentinels = conf_list(conf, CONF_REDIS_SENTINELS, &n);
    opts->cache.redis_sentinel_count = n;
    opts->cache.redis_master_name = conf_str(conf, CONF_REDIS_MASTER_NAME);
    opts->cache.redis_sentinel_user = conf_str(conf, CONF_REDIS_SENTINEL_USER);
    opts->cache.redis_sentinel_password = conf_str(conf, CONF_REDIS_SENTINEL_PASSWORD);
    opts->cache.redis_user = conf_str(conf, CONF_REDIS_USER);
    opts->cache.redis_password = conf_str(conf, CONF_REDIS_PASSWORD);
    opts->cache.redis_database = conf_int(conf, CONF_REDIS_DATABASE);
    opts->cache.redis_key_prefix = conf_str(conf, CONF_REDIS_KEY_PREFIX);
    opts->cache.redis_connect_timeout_ms = (int) conf_time(conf, CONF_REDIS_CONNECT_TIMEOUT) * 1000;
    opts->cache.redis_command_timeout_ms = (int) conf_time(conf, CONF_REDIS_COMMAND_TIMEOUT) * 1000;
    opts->txt_recheck_interval = (long) conf_time(conf, CONF_TXT_RECHECK_INTERVAL);
    /* route.h: refresh_threads 0 means the default pool, < 0 none. */
    opts->refresh_threads = conf_int(conf, CONF_REFRESH_THREADS) > 0 ? conf_int(conf, CONF_REFRESH_THREADS) : -1;
    opts->refresh_tick_ms = (int) conf_time(conf, CONF_REFRESH_TICK) * 1000;
    opts->refresh_ahead = conf_time(conf, CONF_REFRESH_AHEAD);
    opts->cache_negative_ttl = (long) conf_time(conf, CONF_CACHE_NEGATIVE_TTL);
    opts->new_domain_rate = conf_int(conf, CONF_NEW_DOMAIN_RATE);
    opts->new_domain_burst = conf_int(conf, CONF_NEW_DOMAIN_BURST);
    opts->cache_success_ttl = (long) conf_time(conf, CONF_CACHE_SUCCESS_TTL);
    opts->cache_failure_ttl = (long) conf_time(conf, CONF_CACHE_FAILURE_TTL);
}

int     route_conf_budget_ms(const CONF *conf)
{
    return ((int) conf_time(conf, CONF_CHECK_TIME_BUDGET) * 1000);
}
