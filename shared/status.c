/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	status 3
 * SUMMARY
 *	engine status code names
 * DESCRIPTION
 *	See status.h.
 */

#include "status.h"

const char *status_name(int status)
{
    switch (status) {
    case STATUS_OK:
	return ("ok");
    case STATUS_NOTFOUND:
	return ("notfound");
    case STATUS_RETRY:
	return ("retry");
    case STATUS_FAIL:
	return ("fail");
    case STATUS_INVAL:
	return ("inval");
    default:
	return ("unknown");
    }
}
