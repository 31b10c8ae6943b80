/* SPDX-License-Identifier: ISC */
#ifndef NOTIFY_H_INCLUDED
#define NOTIFY_H_INCLUDED

/*
 * NAME
 *	notify 3h
 * SUMMARY
 *	service manager readiness notification (systemd Type=notify)
 * SYNOPSIS
 *	#include "notify.h"
 *
 *	void	notify_state(const char *state)
 * DESCRIPTION
 *	notify_state() tells the service manager about a state change,
 *	in sd_notify(3) notation: "READY=1" once the daemon listens and
 *	serves, "RELOADING=1" when SIGHUP arrives, "READY=1" again after
 *	the reload, "STOPPING=1" on SIGTERM. Nothing happens when the
 *	process was not started by a service manager that listens
 *	($NOTIFY_SOCKET unset) or when stsfilter was built without
 *	libsystemd (configure --without-libsystemd). Errors are ignored:
 *	a notification is advice, never a reason to stop serving.
 *
 *	libsystemd stays inside this module.
 */

extern void notify_state(const char *);

#endif
