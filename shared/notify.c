/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	notify 3
 * SUMMARY
 *	service manager readiness notification (systemd Type=notify)
 * DESCRIPTION
 *	See notify.h. A thin wrapper of sd_notify(3) so that the daemons
 *	build without libsystemd too.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "notify.h"

/* notify_state - tell the service manager, if any */

void    notify_state(const char *state)
{
#ifdef HAVE_LIBSYSTEMD
    (void) sd_notify(0, state);
#else
    (void) state;
#endif
}
