/* SPDX-License-Identifier: ISC */
#ifndef CONF_CHECK_H_INCLUDED
#define CONF_CHECK_H_INCLUDED

/*
 * NAME
 *	conf_check 3h
 * SUMMARY
 *	syntax checks of configuration values; private to conf.c
 * SYNOPSIS
 *	#include "conf_check.h"
 *
 *	int	conf_check_text(int check, const char *s, const char **expect)
 * DESCRIPTION
 *	See conf_check.c.
 */

extern int conf_check_text(int, const char *, const char **);

#endif
