/* SPDX-License-Identifier: ISC */
#ifndef CONF_TABLE_H_INCLUDED
#define CONF_TABLE_H_INCLUDED

/*
 * NAME
 *	conf_table 3h
 * SUMMARY
 *	the configuration parameter table (one row per stsfilter.conf key)
 * SYNOPSIS
 *	#include "conf_table.h"
 *
 *	#define X(id, name, type, def, min, max, aux, check, desc) ...
 *	CONF_TABLE(X)
 * DESCRIPTION
 *	This is the single list of configuration parameters. conf.h
 *	expands it once into the enum of key ids (CONF_<id>) and conf.c
 *	expands it once into the parameter table, so that the two can
 *	never disagree. Every row must be documented in stsfilter.conf(5);
 *	tests/check-conf-doc fails the build otherwise, and also compares
 *	the default given here with the one in the manual page.
 *
 *	Columns:
 * .IP id
 *	key id suffix: the accessor argument is CONF_<id>.
 * .IP name
 *	the parameter name in stsfilter.conf (lowercase_with_underscores).
 * .IP type
 *	CONF_T_STRING, CONF_T_INT, CONF_T_BOOL, CONF_T_TIME (seconds;
 *	units s m h d w), CONF_T_SIZE (bytes; suffixes k m g, binary),
 *	CONF_T_LIST (comma and/or whitespace separated words),
 *	CONF_T_OPTLIST (";"-separated items that may contain blanks),
 *	CONF_T_ENUM (one word out of aux).
 * .IP def
 *	the default, written exactly as in the configuration file.
 * .IP "min, max"
 *	INT, TIME (seconds), SIZE (bytes): the inclusive range.
 *	STRING: min is the minimum length (1 = must not be empty); max is
 *	unused. LIST, OPTLIST: unused (0, 0).
 * .IP aux
 *	TIME: the unit of a bare number ("s"). ENUM: the allowed words,
 *	separated by "|". LIST: when not empty, the allowed words of each
 *	element, separated by "|". Otherwise "".
 * .IP check
 *	an extra syntax check for STRING, LIST and OPTLIST values
 *	(CONF_CHECK_*, see conf.h); CONF_CHECK_NONE for none.
 * .IP desc
 *	a one-line description.
 *
 *	Row layout (tests/check-conf-doc parses it): everything up to and
 *	including the check column on the line that starts with "X(", the
 *	description on the next line. Defaults must not contain '"'.
 */

/* *INDENT-OFF* */
#define CONF_TABLE(X) \
    /* Resolver (dns.h). */ \
    X(DNS_FORWARDERS, "dns_forwarders", CONF_T_LIST, "", 0, 0, "", CONF_CHECK_ADDR_PORT, \
      "recursive resolvers to forward queries to (IP[@port]); empty: /etc/resolv.conf") \
    X(DNS_STUB_ZONES, "dns_stub_zones", CONF_T_LIST, "", 0, 0, "", CONF_CHECK_STUB_ZONE, \
      "zones sent to a given authoritative server (zone=IP[@port])") \
    X(DNS_TRUST_ANCHOR_FILE, "dns_trust_anchor_file", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_NONE, \
      "DNSSEC trust anchor file; empty: the system root anchor /usr/share/dns/root.key") \
    X(DNS_RESOLVER_OPTIONS, "dns_resolver_options", CONF_T_OPTLIST, "", 0, 0, "", CONF_CHECK_UNBOUND_OPTION, \
      "extra libunbound options (name: value), separated by semicolons") \
    X(DNS_TIMEOUT, "dns_timeout", CONF_T_TIME, "5s", 1, 60, "s", CONF_CHECK_NONE, \
      "time limit for one DNS lookup") \
    /* TLS trust store for policy fetches and MX probes. */ \
    X(TLS_CA_FILE, "tls_ca_file", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_NONE, \
      "PEM file of trusted CA certificates; empty: the system store") \
    X(TLS_CA_PATH, "tls_ca_path", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_NONE, \
      "directory of hashed CA certificates; empty: the system store") \
    /* Policy fetch (fetch.h). */ \
    X(POLICY_FETCH_CONNECT_TIMEOUT, "policy_fetch_connect_timeout", CONF_T_TIME, "5s", 1, 60, "s", CONF_CHECK_NONE, \
      "time limit for connecting to a policy host") \
    X(POLICY_FETCH_TIMEOUT, "policy_fetch_timeout", CONF_T_TIME, "10s", 1, 300, "s", CONF_CHECK_NONE, \
      "time limit for one whole policy fetch") \
    /* MX probes (probe.h). */ \
    X(PROBE_PORT, "probe_port", CONF_T_INT, "25", 1, 65535, "", CONF_CHECK_NONE, \
      "TCP port of the MX hosts to probe") \
    X(PROBE_CONNECT_TIMEOUT, "probe_connect_timeout", CONF_T_TIME, "5s", 1, 60, "s", CONF_CHECK_NONE, \
      "time limit for connecting to an MX host") \
    X(PROBE_READ_TIMEOUT, "probe_read_timeout", CONF_T_TIME, "10s", 1, 300, "s", CONF_CHECK_NONE, \
      "time limit for each SMTP reply and TLS handshake step of a probe") \
    X(PROBE_HELO_NAME, "probe_helo_name", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_HOSTNAME, \
      "EHLO name used by probes; empty: the system host name") \
    X(PROBE_PARALLEL, "probe_parallel", CONF_T_INT, "4", 1, 64, "", CONF_CHECK_NONE, \
      "maximum number of MX hosts probed at the same time for one domain") \
    X(PROBE_THREADS, "probe_threads", CONF_T_INT, "8", 1, 64, "", CONF_CHECK_NONE, \
      "threads of the probe pool, shared by all checks of a process") \
    /* Checks. */ \
    X(CHECK_TIME_BUDGET, "check_time_budget", CONF_T_TIME, "8s", 1, 600, "s", CONF_CHECK_NONE, \
      "time limit for one complete domain check") \
    X(NEW_DOMAIN_RATE, "new_domain_rate", CONF_T_INT, "600", 0, 1000000, "", CONF_CHECK_NONE, \
      "domains never seen before whose checks may start per minute, per process; 0: no limit") \
    X(NEW_DOMAIN_BURST, "new_domain_burst", CONF_T_INT, "100", 1, 1000000, "", CONF_CHECK_NONE, \
      "new-domain checks that may start at once before new_domain_rate applies") \
    X(ALLOW_PRIVATE_ADDRESSES, "allow_private_addresses", CONF_T_BOOL, "no", 0, 1, "", CONF_CHECK_NONE, \
      "allow fetching from and probing loopback, private and reserved addresses") \
    /* Cache. */ \
    X(CACHE_BACKEND, "cache_backend", CONF_T_ENUM, "lmdb", 0, 0, "memory|lmdb|redis", CONF_CHECK_NONE, \
      "where policies and check results are cached") \
    X(CACHE_PATH, "cache_path", CONF_T_STRING, "/var/lib/stsfilter/cache.lmdb", 1, 0, "", CONF_CHECK_NONE, \
      "LMDB cache file (cache_backend = lmdb)") \
    X(LMDB_MAP_SIZE, "lmdb_map_size", CONF_T_SIZE, "4g", 1048576, 1099511627776, "", CONF_CHECK_NONE, \
      "largest size of the LMDB cache file; when full, entries nearest their expiry are evicted") \
    X(CACHE_SUCCESS_TTL, "cache_success_ttl", CONF_T_TIME, "1h", 1, 604800, "s", CONF_CHECK_NONE, \
      "how long a check that found a valid route is cached") \
    X(CACHE_FAILURE_TTL, "cache_failure_ttl", CONF_T_TIME, "5m", 1, 86400, "s", CONF_CHECK_NONE, \
      "how long a check that found no valid route is cached") \
    X(CACHE_NEGATIVE_TTL, "cache_negative_ttl", CONF_T_TIME, "1h", 1, 604800, "s", CONF_CHECK_NONE, \
      "how long the absence of MTA-STS and DANE for a domain is cached") \
    X(TXT_RECHECK_INTERVAL, "txt_recheck_interval", CONF_T_TIME, "5m", 0, 86400, "s", CONF_CHECK_NONE, \
      "minimum time between _mta-sts TXT lookups for a domain with a cached policy") \
    X(REFRESH_THREADS, "refresh_threads", CONF_T_INT, "2", 0, 64, "", CONF_CHECK_NONE, \
      "background threads for policy rechecks and proactive refresh; 0: none") \
    X(REFRESH_TICK, "refresh_tick", CONF_T_TIME, "60s", 1, 3600, "s", CONF_CHECK_NONE, \
      "how often the proactive refresh looks for policies near the end of max_age") \
    X(REFRESH_AHEAD, "refresh_ahead", CONF_T_TIME, "0s", 0, 86400, "s", CONF_CHECK_NONE, \
      "refresh a policy this long before max_age ends; 0: a quarter of max_age, at most 1d") \
    X(CACHE_MEMORY_ENTRIES, "cache_memory_entries", CONF_T_INT, "100000", 100, 100000000, "", CONF_CHECK_NONE, \
      "maximum number of entries in the memory cache") \
    X(CACHE_MEMORY_BYTES, "cache_memory_bytes", CONF_T_SIZE, "64m", 1048576, 1073741824, "", CONF_CHECK_NONE, \
      "maximum size of the memory cache") \
    X(REDIS_SERVER, "redis_server", CONF_T_STRING, "127.0.0.1:6379", 1, 0, "", CONF_CHECK_REDIS_SERVER, \
      "Redis server (host:port or unix:/path; cache_backend = redis)") \
    X(REDIS_REPLICAS, "redis_replicas", CONF_T_LIST, "", 0, 0, "", CONF_CHECK_REDIS_SERVER, \
      "Redis replicas that serve reads (host:port or unix:/path); empty: reads go to redis_server") \
    X(REDIS_SENTINELS, "redis_sentinels", CONF_T_LIST, "", 0, 0, "", CONF_CHECK_REDIS_SERVER, \
      "Redis Sentinels that name the primary (host:port or unix:/path); empty: redis_server is the primary") \
    X(REDIS_MASTER_NAME, "redis_master_name", CONF_T_STRING, "mymaster", 1, 0, "", CONF_CHECK_NONE, \
      "name of the primary that redis_sentinels monitor") \
    X(REDIS_SENTINEL_USER, "redis_sentinel_user", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_NONE, \
      "ACL user name for redis_sentinels; empty: the default user") \
    X(REDIS_SENTINEL_PASSWORD, "redis_sentinel_password", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_NONE, \
      "password for redis_sentinels (their requirepass); empty: no AUTH") \
    X(REDIS_USER, "redis_user", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_NONE, \
      "Redis ACL user name; empty: the default user") \
    X(REDIS_PASSWORD, "redis_password", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_NONE, \
      "Redis password; empty: no AUTH") \
    X(REDIS_DATABASE, "redis_database", CONF_T_INT, "0", 0, 2147483647, "", CONF_CHECK_NONE, \
      "Redis database number") \
    X(REDIS_KEY_PREFIX, "redis_key_prefix", CONF_T_STRING, "stsfilter:", 0, 0, "", CONF_CHECK_NONE, \
      "prefix of every Redis key") \
    X(REDIS_CONNECT_TIMEOUT, "redis_connect_timeout", CONF_T_TIME, "1s", 1, 60, "s", CONF_CHECK_NONE, \
      "time limit for connecting to Redis") \
    X(REDIS_COMMAND_TIMEOUT, "redis_command_timeout", CONF_T_TIME, "1s", 1, 60, "s", CONF_CHECK_NONE, \
      "time limit for one Redis command") \
    /* Daemons. */ \
    X(MILTER_SOCKET, "milter_socket", CONF_T_STRING, "unix:/run/stsfilter/milter.sock", 1, 0, "", CONF_CHECK_SOCKET, \
      "where the milter listens (unix:/path or inet:port@host)") \
    X(SOCKETMAP_SOCKET, "socketmap_socket", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_SOCKET, \
      "where the socketmap server listens; empty: no socketmap server") \
    X(SOCKETMAP_TIME_BUDGET, "socketmap_time_budget", CONF_T_TIME, "10s", 1, 90, "s", CONF_CHECK_NONE, \
      "how long a socketmap request waits for a check before the reply is TEMP") \
    X(SOCKETMAP_IDLE_TIMEOUT, "socketmap_idle_timeout", CONF_T_TIME, "30s", 1, 3600, "s", CONF_CHECK_NONE, \
      "how long an idle socketmap client connection stays open") \
    X(SOCKETMAP_MAX_CLIENTS, "socketmap_max_clients", CONF_T_INT, "256", 1, 4096, "", CONF_CHECK_NONE, \
      "maximum number of simultaneous socketmap client connections") \
    X(SOCKETMAP_MAX_CLIENTS_PER_PEER, "socketmap_max_clients_per_peer", CONF_T_INT, "128", 1, 4096, "", CONF_CHECK_NONE, \
      "maximum number of simultaneous socketmap connections from one peer (address or uid)") \
    X(SOCKETMAP_REQUEST_TIMEOUT, "socketmap_request_timeout", CONF_T_TIME, "5s", 1, 300, "s", CONF_CHECK_NONE, \
      "how long a socketmap request may take to arrive, from its first byte") \
    X(SOCKETMAP_SOCKET_MODE, "socketmap_socket_mode", CONF_T_ENUM, "0660", 0, 0, "0600|0660|0666", CONF_CHECK_NONE, \
      "permissions of a unix socketmap socket") \
    X(SOCKETMAP_SOCKET_GROUP, "socketmap_socket_group", CONF_T_STRING, "postfix", 0, 0, "", CONF_CHECK_NONE, \
      "group of a unix socketmap socket; empty: the group of user") \
    X(SOCKETMAP_PID_FILE, "socketmap_pid_file", CONF_T_STRING, "/run/stsfilter/policyd.pid", 0, 0, "", CONF_CHECK_NONE, \
      "PID file of stsfilter-policyd; empty: none") \
    X(LOG_LOOKUPS, "log_lookups", CONF_T_BOOL, "no", 0, 1, "", CONF_CHECK_NONE, \
      "stsfilter-policyd logs every lookup, not only failures") \
    X(SMTPD_TAGGING, "smtpd_tagging", CONF_T_BOOL, "no", 0, 1, "", CONF_CHECK_NONE, \
      "stsfilter-smtpd adds the tag header (OpenSMTPD 6.8 then cuts body lines over 1997 characters)") \
    X(SMTPD_MAX_SESSIONS, "smtpd_max_sessions", CONF_T_INT, "10000", 16, 1000000, "", CONF_CHECK_NONE, \
      "sessions stsfilter-smtpd keeps state for; past it, recipients get action_internal_error") \
    X(MILTER_SOCKET_MODE, "milter_socket_mode", CONF_T_ENUM, "0660", 0, 0, "0600|0660|0666", CONF_CHECK_NONE, \
      "permissions of the milter's unix socket") \
    X(MILTER_SOCKET_GROUP, "milter_socket_group", CONF_T_STRING, "postfix", 0, 0, "", CONF_CHECK_NONE, \
      "group of the milter's unix socket (the MTA's); empty: the group of user") \
    X(USER, "user", CONF_T_STRING, "stsfilter", 1, 0, "", CONF_CHECK_NONE, \
      "unprivileged user the daemons run as") \
    X(ALLOW_ROOT, "allow_root", CONF_T_BOOL, "no", 0, 1, "", CONF_CHECK_NONE, \
      "let the daemons run as root (user = root); for test setups only") \
    X(PID_FILE, "pid_file", CONF_T_STRING, "/run/stsfilter/stsfilter.pid", 0, 0, "", CONF_CHECK_NONE, \
      "PID file of the daemon; empty: none") \
    X(SYSLOG_FACILITY, "syslog_facility", CONF_T_ENUM, "mail", 0, 0, "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7", CONF_CHECK_NONE, \
      "syslog facility of the daemons") \
    X(SYSLOG_NAME, "syslog_name", CONF_T_STRING, "stsfilter", 1, 0, "", CONF_CHECK_NONE, \
      "syslog identifier of the daemons") \
    X(METRICS_LISTEN, "metrics_listen", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_INET, \
      "where stsfilter-milter serves Prometheus metrics (inet:port@host); empty: no metrics listener") \
    X(SOCKETMAP_METRICS_LISTEN, "socketmap_metrics_listen", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_INET, \
      "where stsfilter-policyd serves Prometheus metrics (inet:port@host); empty: no metrics listener") \
    X(SMTPD_METRICS_LISTEN, "smtpd_metrics_listen", CONF_T_STRING, "", 0, 0, "", CONF_CHECK_INET, \
      "where stsfilter-smtpd serves Prometheus metrics (inet:port@host); empty: no metrics listener") \
    /* Actions. */ \
    X(ACTION_ENFORCE_FAIL, "action_enforce_fail", CONF_T_ENUM, "defer", 0, 0, "accept|tag|defer|reject", CONF_CHECK_NONE, \
      "action for a recipient at an enforce-mode domain with no valid route") \
    X(ACTION_TESTING_FAIL, "action_testing_fail", CONF_T_ENUM, "tag", 0, 0, "accept|tag|defer|reject", CONF_CHECK_NONE, \
      "action for a recipient at a testing-mode domain with no valid route") \
    X(ACTION_TEMPORARY, "action_temporary", CONF_T_ENUM, "tag", 0, 0, "accept|tag|defer|reject", CONF_CHECK_NONE, \
      "action when the check could not finish (timeout, DNS or cache trouble)") \
    X(ACTION_NULL_MX, "action_null_mx", CONF_T_ENUM, "reject", 0, 0, "accept|tag|defer|reject", CONF_CHECK_NONE, \
      "action for a recipient at a domain that accepts no mail (null MX)") \
    X(ACTION_INTERNAL_ERROR, "action_internal_error", CONF_T_ENUM, "accept", 0, 0, "accept|tag|defer|reject", CONF_CHECK_NONE, \
      "action after an internal error of the filter") \
    X(MONITOR_MODE, "monitor_mode", CONF_T_BOOL, "no", 0, 1, "", CONF_CHECK_NONE, \
      "only log and tag: never defer or reject") \
    X(TAG_HEADER, "tag_header", CONF_T_STRING, "X-MTA-STS-Check", 1, 0, "", CONF_CHECK_HEADER_NAME, \
      "name of the header added by the tag action") \
    X(ACT_ON, "act_on", CONF_T_LIST, "authenticated, mynetworks", 0, 0, "authenticated|mynetworks|all", CONF_CHECK_NONE, \
      "which senders' recipients are checked") \
    X(MYNETWORKS, "mynetworks", CONF_T_LIST, "127.0.0.0/8, [::1]/128", 0, 0, "", CONF_CHECK_CIDR, \
      "client networks whose mail is checked when act_on has mynetworks") \
    X(LOCAL_DOMAINS, "local_domains", CONF_T_LIST, "", 0, 0, "", CONF_CHECK_DOMAIN, \
      "recipient domains delivered locally, never checked") \
    X(SKIP_DOMAINS, "skip_domains", CONF_T_LIST, "", 0, 0, "", CONF_CHECK_DOMAIN, \
      "recipient domains never checked") \
    X(RECIPIENT_TIME_BUDGET, "recipient_time_budget", CONF_T_TIME, "4s", 1, 120, "s", CONF_CHECK_NONE, \
      "how long RCPT TO waits for a check before action_temporary applies")
/* *INDENT-ON* */

#endif
