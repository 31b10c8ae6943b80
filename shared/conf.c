/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	conf 3
 * SUMMARY
 *	table-driven configuration (stsfilter.conf)
 * DESCRIPTION
 *	See conf.h. The parameter table is conf_table.h, expanded here once.
 *
 *	Each value is parsed once, at load time, into a CONF_VALUE: the
 *	text as written, a number (INT, BOOL, TIME, SIZE, ENUM) and, for
 *	lists, a null-terminated array of elements that point into one
 *	private copy of the text. The CONF owns everything.
 */

#include <sys/types.h>
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_check.h"
#include "log.h"
#include "status.h"
#include "str.h"
#include "text.h"
#include "why.h"

 /*
  * The table, from conf_table.h.
  */
#define CONF_ROW(id, name, type, def, min, max, aux, check, desc) \
    { CONF_##id, name, type, def, min, max, aux, check, desc },

static const CONF_KEY conf_table[CONF_KEY_COUNT] = {
    CONF_TABLE(CONF_ROW)
};

#undef CONF_ROW

typedef struct CONF_VALUE {
    char   *text;			/* as written, trimmed */
    long    num;			/* INT, BOOL, TIME, SIZE, ENUM */
    int     count;			/* LIST, OPTLIST */
    char  **list;			/* null-terminated */
    char   *store;			/* list element storage */
    int     set;			/* given in the file */
} CONF_VALUE;

struct CONF {
    atomic_int refs;
    char   *source;
    CONF_VALUE val[CONF_KEY_COUNT];
};

#define CONF_QUOTE_MAX	100		/* echo of a bad value in messages */
#define CONF_ERR_MAX	WHY_MAX

/* conf_quote - sanitized, shortened copy of user text for a message */

static const char *conf_quote(char *dst, size_t size, const char *src)
{
    size_t  len = strlen(src);

    (void) text_sanitize(dst, size, src);
    if (len >= size && size > 4)
	memcpy(dst + size - 4, "...", 4);
    return (dst);
}

/* conf_value_free - release one value */

static void conf_value_free(CONF_VALUE *v)
{
    free(v->text);
    free(v->list);
    free(v->store);
    memset(v, 0, sizeof(*v));
}

/* conf_fmt_time - seconds as the file would say them */

static const char *conf_fmt_time(char *buf, size_t size, long secs)
{
    static const struct {
	long    mult;
	char    unit;
    }       units[] = {
	{604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'},
    };
    size_t  i;

    /* Below five minutes, seconds read best ("60s", "120s"). */
    if (secs >= 300)
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
	    if (secs % units[i].mult == 0) {
		(void) snprintf(buf, size, "%ld%c", secs / units[i].mult, units[i].unit);
		return (buf);
	    }
    (void) snprintf(buf, size, "%lds", secs);
    return (buf);
}

/* conf_fmt_size - bytes with the largest exact binary suffix */

static const char *conf_fmt_size(char *buf, size_t size, long bytes)
{
    if (bytes != 0 && bytes % (1024L * 1024 * 1024) == 0)
	(void) snprintf(buf, size, "%ldg", bytes / (1024L * 1024 * 1024));
    else if (bytes != 0 && bytes % (1024L * 1024) == 0)
	(void) snprintf(buf, size, "%ldm", bytes / (1024L * 1024));
    else if (bytes != 0 && bytes % 1024 == 0)
	(void) snprintf(buf, size, "%ldk", bytes / 1024);
    else
	(void) snprintf(buf, size, "%ld", bytes);
    return (buf);
}

/* conf_fmt_words - "a|b|c" as "a, b, c" */

static const char *conf_fmt_words(char *buf, size_t size, const char *words)
{
    const char *p;
    size_t  n = 0;

    for (p = words; *p && n + 3 < size; p++) {
	if (*p == '|') {
	    buf[n++] = ',';
	    buf[n++] = ' ';
	} else
	    buf[n++] = *p;
    }
    buf[n] = 0;
    return (buf);
}

/* conf_word_index - position of word in "a|b|c", or -1 */

static int conf_word_index(const char *words, const char *word)
{
    size_t  wlen = strlen(word);
    const char *p = words;
    const char *end;
    int     idx = 0;

    for (;;) {
	end = strchr(p, '|');
	if (end == 0)
	    end = p + strlen(p);
	if ((size_t) (end - p) == wlen && wlen > 0 && strncmp(p, word, wlen) == 0)
	    return (idx);
	if (*end == 0)
	    return (-1);
	p = end + 1;
	idx++;
    }
}

/* conf_number - digits with an optional one-letter suffix */

static int conf_number(const char *s, long *num, int *suffix)
{
    long    val = 0;
    const char *p = s;

    if (*p < '0' || *p > '9')
	return (-1);
    for (; *p >= '0' && *p <= '9'; p++) {
	if (val > (LONG_MAX - (*p - '0')) / 10)
	    return (-1);
	val = val * 10 + (*p - '0');
    }
    *suffix = 0;
    if (*p != 0) {
	*suffix = (unsigned char) *p;
	if (p[1] != 0)
	    return (-1);
    }
    *num = val;
    return (0);
}

/* A unit letter and what it multiplies by. */

typedef struct CONF_UNIT {
    int     letter;			/* lowercase */
    long    mult;
} CONF_UNIT;

/* Postfix time units. */
static const CONF_UNIT conf_time_units[] = {
    {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 604800}, {0, 0},
};

/* Byte counts: binary k, m, g; no unit means bytes. */
static const CONF_UNIT conf_size_units[] = {
    {'k', 1024L}, {'m', 1024L * 1024}, {'g', 1024L * 1024 * 1024}, {0, 0},
};

/* conf_scaled - number with a unit from table, in [min, max], no overflow */

static int conf_scaled(const CONF_KEY *key, const char *s, const CONF_UNIT *table,
		               int default_unit, long *out)
{
    const CONF_UNIT *u;
    long    val;
    long    mult = 0;
    int     unit;

    if (conf_number(s, &val, &unit) < 0)
	return (-1);
    if (unit == 0)
	unit = default_unit;
    if (unit == 0)
	mult = 1;
    for (u = table; mult == 0 && u->letter; u++)
	if (u->letter == unit || u->letter == unit - 'A' + 'a')
	    mult = u->mult;
    if (mult == 0 || val > LONG_MAX / mult)
	return (-1);
    val *= mult;
    if (val < key->min || val > key->max)
	return (-1);
    *out = val;
    return (0);
}

/* conf_parse_time - Postfix time value: number and unit s m h d w */

static int conf_parse_time(const CONF_KEY *key, const char *s, long *out)
{
    return (conf_scaled(key, s, conf_time_units, key->aux[0], out));
}

/* conf_parse_size - byte count with optional k m g (binary) */

static int conf_parse_size(const CONF_KEY *key, const char *s, long *out)
{
    return (conf_scaled(key, s, conf_size_units, 0, out));
}

/* conf_split - split a list value into elements */

static int conf_split(const CONF_KEY *key, CONF_VALUE *v)
{
    char   *p;
    char   *elem;
    int     n = 0;
    int     ret = -1;
    size_t  len = strlen(v->text);

    /* At most one element per two bytes, plus one: a safe upper bound. */
    if ((v->store = strdup(v->text)) == 0
	|| (v->list = calloc(len / 2 + 2, sizeof(char *))) == 0)
	goto out;
    for (p = v->store; *p;) {
	if (key->type == CONF_T_OPTLIST) {
	    elem = p;
	    while (*p && *p != ';')
		p++;
	    if (*p)
		*p++ = 0;
	    elem = str_trim(elem);
	} else {
	    while (*p == ',' || *p == ' ' || *p == '\t')
		p++;
	    elem = p;
	    while (*p && *p != ',' && *p != ' ' && *p != '\t')
		p++;
	    if (*p)
		*p++ = 0;
	}
	if (*elem == 0)
	    continue;
	v->list[n++] = elem;
    }
    v->list[n] = 0;
    v->count = n;
    ret = 0;

out:
    return (ret);
}

/*
 * conf_value_parse - parse text for key into *v. Returns STATUS_OK,
 * STATUS_INVAL with "bad value ..." in err, or STATUS_FAIL (memory).
 */
static int conf_value_parse(const CONF_KEY *key, const char *text, CONF_VALUE *v,
			            char *err, size_t errlen)
{
    char    q1[CONF_QUOTE_MAX];
    char    expect[CONF_ERR_MAX];
    char    lo[32];
    char    hi[32];
    const char *bad = text;
    const char *why = 0;
    int     status = STATUS_INVAL;
    int     i;

    memset(v, 0, sizeof(*v));
    expect[0] = 0;
    if ((v->text = strdup(text)) == 0) {
	(void) snprintf(err, errlen, "out of memory");
	status = STATUS_FAIL;
	goto out;
    }
    for (i = 0; text[i]; i++) {
	if (((unsigned char) text[i] < 0x20 && text[i] != '\t') || text[i] == 0x7f) {
	    (void) str_copy(expect, sizeof(expect), "control characters are not allowed");
	    goto out;
	}
    }
    switch (key->type) {
    case CONF_T_STRING:
	if ((long) strlen(text) < key->min) {
	    (void) snprintf(expect, sizeof(expect), "expected a non-empty value");
	    goto out;
	}
	if (*text && conf_check_text(key->check, text, &why) < 0) {
	    (void) str_copy(expect, sizeof(expect), why);
	    goto out;
	}
	break;
    case CONF_T_INT:
	(void) snprintf(expect, sizeof(expect), "expected an integer between %ld and %ld",
			key->min, key->max);
	if (conf_number(text + (*text == '-'), &v->num, &i) < 0 || i != 0
	    || str_to_long(text, key->min, key->max, &v->num) < 0)
	    goto out;
	break;
    case CONF_T_BOOL:
	(void) snprintf(expect, sizeof(expect), "expected yes or no");
	if (strcasecmp(text, "yes") == 0)
	    v->num = 1;
	else if (strcasecmp(text, "no") == 0)
	    v->num = 0;
	else
	    goto out;
	break;
    case CONF_T_TIME:
	(void) snprintf(expect, sizeof(expect), "expected a time between %s and %s",
			conf_fmt_time(lo, sizeof(lo), key->min),
			conf_fmt_time(hi, sizeof(hi), key->max));
	if (conf_parse_time(key, text, &v->num) < 0)
	    goto out;
	break;
    case CONF_T_SIZE:
	(void) snprintf(expect, sizeof(expect), "expected a size between %s and %s",
			conf_fmt_size(lo, sizeof(lo), key->min),
			conf_fmt_size(hi, sizeof(hi), key->max));
	if (conf_parse_size(key, text, &v->num) < 0)
	    goto out;
	break;
    case CONF_T_ENUM:
	(void) str_copy(expect, sizeof(expect), "expected one of ");
	(void) conf_fmt_words(expect + strlen(expect), sizeof(expect) - strlen(expect), key->aux);
	if ((v->num = conf_word_index(key->aux, text)) < 0)
	    goto out;
	break;
    case CONF_T_LIST:
    case CONF_T_OPTLIST:
	if (conf_split(key, v) < 0) {
	    (void) snprintf(err, errlen, "out of memory");
	    status = STATUS_FAIL;
	    goto out;
	}
	for (i = 0; i < v->count; i++) {
	    bad = v->list[i];
	    if (*key->aux) {
		(void) str_copy(expect, sizeof(expect), "expected a list of ");
		(void) conf_fmt_words(expect + strlen(expect),
				      sizeof(expect) - strlen(expect), key->aux);
		if (conf_word_index(key->aux, bad) < 0)
		    goto out;
	    }
	    if (conf_check_text(key->check, bad, &why) < 0) {
		(void) str_copy(expect, sizeof(expect), why);
		goto out;
	    }
	}
	bad = text;
	break;
    default:
	log_panic("conf_value_parse: key %s has unknown type %d", key->name, key->type);
    }
    status = STATUS_OK;

out:
    if (status == STATUS_INVAL)
	(void) snprintf(err, errlen, "bad value \"%s\" for parameter \"%s\" (%s)",
			conf_quote(q1, sizeof(q1), bad), key->name, expect);
    if (status != STATUS_OK)
	conf_value_free(v);
    return (status);
}

/* conf_new - a CONF with every value at its default */

static CONF *conf_new(const char *source)
{
    CONF   *conf;
    char    err[CONF_ERR_MAX];
    int     i;
    int     ok = 0;

    if ((conf = calloc(1, sizeof(*conf))) == 0)
	goto out;
    atomic_init(&conf->refs, 1);
    if ((conf->source = strdup(source)) == 0)
	goto out;
    for (i = 0; i < CONF_KEY_COUNT; i++) {
	switch (conf_value_parse(conf_table + i, conf_table[i].def, conf->val + i,
				 err, sizeof(err))) {
	case STATUS_OK:
	    break;
	case STATUS_INVAL:
	    log_panic("conf_new: bad default in conf_table.h: %s", err);
	default:
	    goto out;
	}
    }
    ok = 1;

out:
    if (!ok)
	conf_unref(&conf);
    return (conf);
}

/* conf_line - handle one logical line "name = value" */

static int conf_line(CONF *conf, const char *source, int lineno, char *line, WHY *why)
{
    char    q1[CONF_QUOTE_MAX];
    char    err[CONF_ERR_MAX];
    CONF_VALUE v;
    char   *eq;
    char   *name;
    char   *value;
    int     id;
    int     status = STATUS_INVAL;

    if ((eq = strchr(line, '=')) == 0) {
	why_set(why, "%s:%d: missing \"=\" after parameter name \"%s\"",
		source, lineno, conf_quote(q1, sizeof(q1), line));
	goto out;
    }
    *eq = 0;
    name = str_trim(line);
    value = str_trim(eq + 1);
    if (*name == 0) {
	why_set(why, "%s:%d: missing parameter name before \"=\"", source, lineno);
	goto out;
    }
    if ((id = conf_lookup_name(name)) < 0) {
	why_set(why, "%s:%d: unknown parameter \"%s\"",
		source, lineno, conf_quote(q1, sizeof(q1), name));
	goto out;
    }
    if ((status = conf_value_parse(conf_table + id, value, &v, err, sizeof(err))) != STATUS_OK) {
	why_set(why, "%s:%d: %s", source, lineno, err);
	goto out;
    }
    /* Like Postfix: when a name is given twice, the last value wins. */
    conf_value_free(conf->val + id);
    conf->val[id] = v;
    conf->val[id].set = 1;
    status = STATUS_OK;

out:
    return (status);
}

/* conf_parse - parse configuration text */

int     conf_parse(const char *source, const char *text, size_t len, CONF **out, WHY *why)
{
    CONF   *conf = 0;
    char    logical[CONF_VALUE_MAX + 1];
    char    phys[CONF_LINE_MAX + 1];
    size_t  used = 0;
    int     have = 0;
    int     start = 0;
    int     lineno = 0;
    size_t  pos = 0;
    size_t  n;
    const char *nl;
    char   *piece;
    int     status = STATUS_FAIL;

    *out = 0;
    if ((conf = conf_new(source)) == 0) {
	why_set(why, "%s: out of memory", source);
	goto out;
    }
    status = STATUS_INVAL;
    while (pos < len) {
	lineno++;
	nl = memchr(text + pos, '\n', len - pos);
	n = nl ? (size_t) (nl - (text + pos)) : len - pos;
	if (n > CONF_LINE_MAX) {
	    why_set(why, "%s:%d: line too long (more than %d bytes)",
		    source, lineno, CONF_LINE_MAX);
	    goto out;
	}
	if (memchr(text + pos, 0, n) != 0) {
	    why_set(why, "%s:%d: NUL byte in line", source, lineno);
	    goto out;
	}
	memcpy(phys, text + pos, n);
	phys[n] = 0;
	pos += n + (nl ? 1 : 0);

	piece = str_trim(phys);
	if (*piece == 0 || *piece == '#')
	    continue;				/* blank or comment line */
	if (piece != phys) {			/* continuation line */
	    if (!have) {
		why_set(why, "%s:%d: line starts with whitespace but there is"
			" no parameter before it to continue", source, lineno);
		goto out;
	    }
	    if (used + 1 + strlen(piece) > CONF_VALUE_MAX) {
		why_set(why, "%s:%d: logical line too long (more than %d bytes)",
			source, start, CONF_VALUE_MAX);
		goto out;
	    }
	    logical[used++] = ' ';
	    memcpy(logical + used, piece, strlen(piece) + 1);
	    used += strlen(piece);
	    continue;
	}
	if (have && (status = conf_line(conf, source, start, logical, why)) != STATUS_OK)
	    goto out;
	status = STATUS_INVAL;
	memcpy(logical, piece, strlen(piece) + 1);
	used = strlen(piece);
	start = lineno;
	have = 1;
    }
    if (have && (status = conf_line(conf, source, start, logical, why)) != STATUS_OK)
	goto out;
    *out = conf;
    conf = 0;
    status = STATUS_OK;

out:
    conf_unref(&conf);
    return (status);
}

/* conf_load - read and parse a file */

int     conf_load(const char *path, CONF **out, WHY *why)
{
    FILE   *fp = 0;
    char   *buf = 0;
    size_t  len = 0;
    size_t  n;
    int     status = STATUS_FAIL;

    *out = 0;
    if ((fp = fopen(path, "r")) == 0) {
	status = (errno == ENOENT) ? STATUS_NOTFOUND : STATUS_FAIL;
	why_set(why, "%s: %s", path, strerror(errno));
	goto out;
    }
    if ((buf = malloc(CONF_FILE_MAX + 1)) == 0) {
	why_set(why, "%s: out of memory", path);
	goto out;
    }
    while (len <= CONF_FILE_MAX
	   && (n = fread(buf + len, 1, CONF_FILE_MAX + 1 - len, fp)) > 0)
	len += n;
    if (ferror(fp)) {
	why_set(why, "%s: read error: %s", path, strerror(errno));
	goto out;
    }
    if (len > CONF_FILE_MAX) {
	why_set(why, "%s: file too large (more than %d bytes)", path, CONF_FILE_MAX);
	status = STATUS_INVAL;
	goto out;
    }
    status = conf_parse(path, buf, len, out, why);

out:
    if (fp)
	(void) fclose(fp);
    free(buf);
    return (status);
}

/* conf_defaults - every parameter at its default */

int     conf_defaults(CONF **out)
{
    return ((*out = conf_new("")) ? STATUS_OK : STATUS_FAIL);
}

/* conf_ref - add a reference */

CONF   *conf_ref(CONF *conf)
{
    if (conf)
	(void) atomic_fetch_add(&conf->refs, 1);
    return (conf);
}

/* conf_unref - drop a reference, free at zero */

void    conf_unref(CONF **confp)
{
    CONF   *conf = *confp;
    int     i;

    *confp = 0;
    if (conf == 0 || atomic_fetch_sub(&conf->refs, 1) != 1)
	return;
    for (i = 0; i < CONF_KEY_COUNT; i++)
	conf_value_free(conf->val + i);
    free(conf->source);
    free(conf);
}

/* conf_val - checked access to one value */

static const CONF_VALUE *conf_val(const CONF *conf, int id, int type, const char *who)
{
    if (conf == 0 || id < 0 || id >= CONF_KEY_COUNT)
	log_panic("%s: bad configuration handle or key id %d", who, id);
    if (type != 0 && conf_table[id].type != type
	&& !(type == CONF_T_LIST && conf_table[id].type == CONF_T_OPTLIST))
	log_panic("%s: parameter %s has another type", who, conf_table[id].name);
    return (conf->val + id);
}

const char *conf_str(const CONF *conf, int id)
{
    return (conf_val(conf, id, 0, "conf_str")->text);
}

int     conf_int(const CONF *conf, int id)
{
    return ((int) conf_val(conf, id, CONF_T_INT, "conf_int")->num);
}

int     conf_bool(const CONF *conf, int id)
{
    return ((int) conf_val(conf, id, CONF_T_BOOL, "conf_bool")->num);
}

long    conf_time(const CONF *conf, int id)
{
    return (conf_val(conf, id, CONF_T_TIME, "conf_time")->num);
}

long    conf_size(const CONF *conf, int id)
{
    return (conf_val(conf, id, CONF_T_SIZE, "conf_size")->num);
}

int     conf_enum(const CONF *conf, int id)
{
    return ((int) conf_val(conf, id, CONF_T_ENUM, "conf_enum")->num);
}

const char *const *conf_list(const CONF *conf, int id, int *count)
{
    const CONF_VALUE *v = conf_val(conf, id, CONF_T_LIST, "conf_list");

    if (count)
	*count = v->count;
    return ((const char *const *) v->list);
}

int     conf_is_set(const CONF *conf, int id)
{
    return (conf_val(conf, id, 0, "conf_is_set")->set);
}

int     conf_lookup_name(const char *name)
{
    int     i;

    for (i = 0; i < CONF_KEY_COUNT; i++)
	if (strcmp(conf_table[i].name, name) == 0)
	    return (i);
    return (-1);
}

const CONF_KEY *conf_key(int id)
{
    return ((id >= 0 && id < CONF_KEY_COUNT) ? conf_table + id : 0);
}

const char *conf_source(const CONF *conf)
{
    return (conf->source);
}

/* conf_print - postconf-style output */

int     conf_print(const CONF *conf, FILE *fp, int only_non_default)
{
    int     i;

    for (i = 0; i < CONF_KEY_COUNT; i++) {
	if (only_non_default && !conf->val[i].set)
	    continue;
	if (*conf->val[i].text)
	    (void) fprintf(fp, "%s = %s\n", conf_table[i].name, conf->val[i].text);
	else
	    (void) fprintf(fp, "%s =\n", conf_table[i].name);
    }
    return ((fflush(fp) != 0 || ferror(fp)) ? -1 : 0);
}
