/* SPDX-License-Identifier: ISC */
#ifndef CONF_H_INCLUDED
#define CONF_H_INCLUDED

/*
 * NAME
 *	conf 3h
 * SUMMARY
 *	table-driven configuration (stsfilter.conf)
 * SYNOPSIS
 *	#include "conf.h"
 *
 *	int	conf_load(const char *path, CONF **out, WHY *why)
 *
 *	int	conf_parse(const char *source, const char *text, size_t len,
 *			CONF **out, WHY *why)
 *
 *	int	conf_defaults(CONF **out)
 *
 *	CONF	*conf_ref(CONF *conf)
 *
 *	void	conf_unref(CONF **conf)
 *
 *	const char *conf_str(const CONF *conf, int id)
 *	int	conf_int(const CONF *conf, int id)
 *	int	conf_bool(const CONF *conf, int id)
 *	long	conf_time(const CONF *conf, int id)
 *	long	conf_size(const CONF *conf, int id)
 *	int	conf_enum(const CONF *conf, int id)
 *	const char *const *conf_list(const CONF *conf, int id, int *count)
 *	int	conf_is_set(const CONF *conf, int id)
 *
 *	int	conf_lookup_name(const char *name)
 *
 *	const CONF_KEY *conf_key(int id)
 *
 *	const char *conf_source(const CONF *conf)
 *
 *	int	conf_print(const CONF *conf, FILE *fp, int only_non_default)
 * DESCRIPTION
 *	The parameters, their types, defaults and ranges are defined once,
 *	in conf_table.h; this module parses and checks a configuration
 *	file against that table and gives fast typed access by key id
 *	(CONF_DNS_TIMEOUT etc.): no string lookup on the per-message path.
 *
 *	Syntax (like Postfix main.cf): "name = value" logical lines.
 *	Blank lines and lines whose first non-blank character is "#" are
 *	ignored (also between continuation lines); "#" elsewhere is part
 *	of the value. A line that starts with a blank continues the
 *	previous logical line; the pieces are joined with one space. Blanks
 *	around the name and the value are removed. Names are
 *	case-sensitive; an unknown name is an error. When a name is given
 *	twice, the last value wins (as in Postfix). There is no $name
 *	expansion. A physical line may be at most CONF_LINE_MAX bytes, a
 *	logical line (name, "=", and value) at most CONF_VALUE_MAX bytes,
 *	a file at most CONF_FILE_MAX bytes; NUL bytes are refused.
 *
 *	Every value is checked when the file is loaded: the syntax of its
 *	type, its range, its allowed words, and the key's extra check
 *	(CONF_CHECK_*). Errors read "FILE:LINE: message", e.g.
 *	"FILE:LINE: unknown parameter "x"" or "FILE:LINE: bad value
 *	"abc" for parameter "y" (expected a time between 1s and 1m)".
 *
 *	conf_load() reads and parses path. It returns STATUS_OK with a new
 *	CONF (reference count 1) in *out, STATUS_INVAL (syntax or value
 *	error, file larger than CONF_FILE_MAX), STATUS_NOTFOUND (no such
 *	file) or STATUS_FAIL (cannot be opened or read, out of memory),
 *	with a reason in why; *out is then null.
 *
 *	conf_parse() is conf_load() on text in memory; source names it in
 *	messages. Same results (never STATUS_NOTFOUND). Safe to fuzz.
 *
 *	conf_defaults() returns a CONF with every parameter at its default
 *	(for programs run without a configuration file). STATUS_OK, or
 *	STATUS_FAIL when out of memory.
 *
 *	conf_ref() adds a reference (atomically) and returns conf: a
 *	thread keeps the CONF it started with while SIGHUP installs a new
 *	one. conf_unref() drops a reference, frees the CONF when it was the
 *	last one, and sets *conf to null. Both accept null.
 *
 *	Accessors take a key id and return the parsed value; the CONF owns
 *	every string and array returned, valid until the last conf_unref().
 *	conf_str() works for every type and returns the value text as
 *	written (never null; "" when empty). conf_int() is for CONF_T_INT,
 *	conf_bool() for CONF_T_BOOL (0 or 1), conf_time() for CONF_T_TIME
 *	(seconds), conf_size() for CONF_T_SIZE (bytes), conf_enum() for
 *	CONF_T_ENUM (index of the word in the key's aux list, e.g. 0 for
 *	"accept" in "accept|tag|defer|reject"), conf_list() for
 *	CONF_T_LIST and CONF_T_OPTLIST (*count elements, array
 *	null-terminated). Using an accessor with a key of another type, or
 *	a bad id, is a programming error: log_panic(). conf_is_set() tells
 *	whether the value came from the file.
 *
 *	conf_lookup_name() returns the key id of a parameter name, or -1.
 *	conf_key() returns the table row of a key id (null when out of
 *	range). conf_source() returns the file name the CONF was read from
 *	("" for defaults).
 *
 *	conf_print() writes "name = value" for every parameter in table
 *	order (like postconf), or only for those set in the file (like
 *	postconf -n). It returns 0, or -1 on an output error.
 */

#include <stddef.h>
#include <stdio.h>

#include "why.h"

#ifndef STS_SYSCONFDIR
#define STS_SYSCONFDIR "/etc"
#endif
#define CONF_DEFAULT_PATH STS_SYSCONFDIR "/stsfilter/stsfilter.conf"

#define CONF_LINE_MAX	4096		/* one physical line */
#define CONF_VALUE_MAX	4096		/* one logical line */
#define CONF_FILE_MAX	(1024 * 1024)	/* one file */

 /*
  * Value types.
  */
#define CONF_T_STRING	1
#define CONF_T_INT	2
#define CONF_T_BOOL	3
#define CONF_T_TIME	4
#define CONF_T_SIZE	5
#define CONF_T_LIST	6
#define CONF_T_OPTLIST	7
#define CONF_T_ENUM	8

 /*
  * Extra syntax checks for a string value or each list element. An empty
  * string is always accepted (the key's min length decides).
  */
#define CONF_CHECK_NONE			0
#define CONF_CHECK_ADDR_PORT		1	/* IP or IP@port */
#define CONF_CHECK_STUB_ZONE		2	/* zone=IP[@port] */
#define CONF_CHECK_UNBOUND_OPTION	3	/* name: value */
#define CONF_CHECK_CIDR			4	/* address[/len], [v6]/len */
#define CONF_CHECK_DOMAIN		5	/* domain, leading dot ok */
#define CONF_CHECK_HOSTNAME		6	/* host name */
#define CONF_CHECK_HEADER_NAME		7	/* RFC 5322 field-name */
#define CONF_CHECK_SOCKET		8	/* unix:/path, inet:port@host */
#define CONF_CHECK_REDIS_SERVER		9	/* host:port, unix:/path */
#define CONF_CHECK_INET			10	/* inet:port[@host], inet6:port@host */

#include "conf_table.h"

 /*
  * Key ids, from the table.
  */
#define CONF_ENUM_ID(id, name, type, def, min, max, aux, check, desc) CONF_##id,
enum {
    CONF_TABLE(CONF_ENUM_ID)
    CONF_KEY_COUNT
};

#undef CONF_ENUM_ID

typedef struct CONF_KEY {
    int     id;				/* CONF_* */
    const char *name;			/* parameter name */
    int     type;			/* CONF_T_* */
    const char *def;			/* default, as written in a file */
    long    min;			/* see conf_table.h */
    long    max;
    const char *aux;			/* time unit, enum words */
    int     check;			/* CONF_CHECK_* */
    const char *desc;			/* one line */
} CONF_KEY;

typedef struct CONF CONF;

extern int conf_load(const char *, CONF **, WHY *);
extern int conf_parse(const char *, const char *, size_t, CONF **, WHY *);
extern int conf_defaults(CONF **);
extern CONF *conf_ref(CONF *);
extern void conf_unref(CONF **);
extern const char *conf_str(const CONF *, int);
extern int conf_int(const CONF *, int);
extern int conf_bool(const CONF *, int);
extern long conf_time(const CONF *, int);
extern long conf_size(const CONF *, int);
extern int conf_enum(const CONF *, int);
extern const char *const *conf_list(const CONF *, int, int *);
extern int conf_is_set(const CONF *, int);
extern int conf_lookup_name(const char *);
extern const CONF_KEY *conf_key(int);
extern const char *conf_source(const CONF *);
extern int conf_print(const CONF *, FILE *, int);

#endif
