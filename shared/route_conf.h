/* SPDX-License-Identifier: ISC */
#ifndef ROUTE_CONF_H_INCLUDED
#define ROUTE_CONF_H_INCLUDED

/*
 * NAME
 *	route_conf 3h
 * SUMMARY
 *	engine options from the configuration
 * SYNOPSIS
 *	#include "route_conf.h"
 *
 *	void	route_conf_opts(const CONF *conf, ROUTE_OPTS *opts)
 *
 *	int	route_conf_budget_ms(const CONF *conf)
 * DESCRIPTION
 *	The one place where configuration keys become engine options, so
 *	that every front end (milter, OpenSMTPD filter, socketmap, CLI)
 *	runs the same engine the same way.
 *
 *	route_conf_opts() fills opts from conf. The strings and arrays in
 *	opts point into conf, which must outlive route_create() (the
 *	engine copies what it keeps). A front end may override fields
 *	afterwards (the CLI's --ca-file, --resolver, --trust-anchor).
 *
 *	route_conf_budget_ms() is check_time_budget in milliseconds.
 */

#include "conf.h"
#include "route.h"

extern void route_conf_opts(const CONF *, ROUTE_OPTS *);
extern int route_conf_budget_ms(const CONF *);

#endif
