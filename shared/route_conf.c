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
    opts->helo_name = conf_str(conf, CONF_PROBE_HELO_NAME);
    opts->ca_file = conf_str(conf, CONF_TLS_CA_FILE);
    opts->ca_path = conf_str(conf, CONF_TLS_CA_PATH);
    opts->allow_private = conf_bool(conf, CONF_ALLOW_PRIVATE_ADDRESSES);
    opts->cache_entries = conf_int(conf, CONF_CACHE_MEMORY_ENTRIES);
}

int     route_conf_budget_ms(const CONF *conf)
{
    return ((int) conf_time(conf, CONF_CHECK_TIME_BUDGET) * 1000);
}
