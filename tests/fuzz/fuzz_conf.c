/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	fuzz_conf 1
 * SUMMARY
 *	libFuzzer target for the configuration parser (conf.h)
 * DESCRIPTION
 *	The input is the text of a stsfilter.conf, given to conf_parse().
 *
 *	On an error the reason must start with "SOURCE:" (file:line, as
 *	DEVELOPERS.md requires) and no CONF is returned.
 *
 *	For a parsed CONF every key is read through conf_str(),
 *	conf_is_set() and the accessor of its type, and the typed value
 *	must lie inside the table's range (INT, TIME, SIZE), be 0 or 1
 *	(BOOL), index a word of aux (ENUM), or be a null-terminated array of
 *	the announced length (LIST, OPTLIST). The CONF is then printed the
 *	way "postconf -n" would (conf_print(), only the keys set) and the
 *	output parsed again: the same keys are set, to the same text.
 *	The only allowed failure of that round trip is a printed line over
 *	the line caps (" = " adds two octets to a "name=value" line).
 *	conf_ref() and conf_unref() are exercised on the way out.
 *
 *	A broken property calls abort(), which libFuzzer reports as a crash
 *	with the input saved. Nothing is leaked.
 *
 *	fuzz-max-len: 9000 (a few lines past CONF_LINE_MAX; read by tests/fuzz/run)
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "status.h"
#include "why.h"

#define FUZZ_SOURCE	"fuzz.conf"

extern int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
extern const char *__ubsan_default_options(void);

/* __ubsan_default_options - make UBSan findings fatal, so libFuzzer saves them */

const char *__ubsan_default_options(void)
{
    return ("halt_on_error=1:print_stacktrace=1");
}

/* fuzz_fail - report a broken property; libFuzzer saves the input */

static void fuzz_fail(const char *key, const char *what)
{
    fprintf(stderr, "fuzz_conf: %s: property violated: %s\n", key, what);
    abort();
}

/* fuzz_enum_words - number of "|"-separated words in aux */

static int fuzz_enum_words(const char *aux)
{
    int     n = 1;

    for (; *aux; aux++)
	if (*aux == '|')
	    n++;
    return (n);
}

/* fuzz_check_values - read every key through its accessor */

static void fuzz_check_values(const CONF *conf)
{
    const CONF_KEY *key;
    const char *const *list;
    int     count;
    long    num;
    int     id;
    int     i;

    for (id = 0; id < CONF_KEY_COUNT; id++) {
	if ((key = conf_key(id)) == 0)
	    fuzz_fail("?", "conf_key returned null for a valid id");
	if (conf_lookup_name(key->name) != id)
	    fuzz_fail(key->name, "conf_lookup_name disagrees with conf_key");
	if (conf_str(conf, id) == 0)
	    fuzz_fail(key->name, "conf_str returned null");
	if (conf_is_set(conf, id) != 0 && conf_is_set(conf, id) != 1)
	    fuzz_fail(key->name, "conf_is_set not 0 or 1");
	switch (key->type) {
	case CONF_T_INT:
	    num = conf_int(conf, id);
	    if (num < key->min || num > key->max)
		fuzz_fail(key->name, "int value outside its range");
	    break;
	case CONF_T_TIME:
	    num = conf_time(conf, id);
	    if (num < key->min || num > key->max)
		fuzz_fail(key->name, "time value outside its range");
	    break;
	case CONF_T_SIZE:
	    num = conf_size(conf, id);
	    if (num < key->min || num > key->max)
		fuzz_fail(key->name, "size value outside its range");
	    break;
	case CONF_T_BOOL:
	    num = conf_bool(conf, id);
	    if (num != 0 && num != 1)
		fuzz_fail(key->name, "bool value not 0 or 1");
	    break;
	case CONF_T_ENUM:
	    num = conf_enum(conf, id);
	    if (num < 0 || num >= fuzz_enum_words(key->aux))
		fuzz_fail(key->name, "enum value not an index of its words");
	    break;
	case CONF_T_LIST:
	case CONF_T_OPTLIST:
	    count = -1;
	    list = conf_list(conf, id, &count);
	    if (count < 0 || list == 0)
		fuzz_fail(key->name, "list without a count or array");
	    for (i = 0; i < count; i++)
		if (list[i] == 0)
		    fuzz_fail(key->name, "list shorter than its count");
	    if (list[count] != 0)
		fuzz_fail(key->name, "list not null-terminated at its count");
	    break;
	default:
	    break;
	}
    }
}

/* fuzz_longest_line - longest line in text */

static size_t fuzz_longest_line(const char *text, size_t len)
{
    size_t  longest = 0;
    size_t  cur = 0;
    size_t  i;

    for (i = 0; i < len; i++) {
	if (text[i] == '\n')
	    cur = 0;
	else if (++cur > longest)
	    longest = cur;
    }
    return (longest);
}

/* fuzz_round_trip - print the keys set, parse the output again */

static void fuzz_round_trip(const CONF *conf)
{
    CONF   *again = 0;
    FILE   *fp;
    char   *text = 0;
    size_t  len = 0;
    WHY     why;
    int     id;

    if ((fp = open_memstream(&text, &len)) == 0)
	return;
    if (conf_print(conf, fp, 1) != 0)
	fuzz_fail("-", "conf_print failed on a memory stream");
    (void) fclose(fp);
    if (conf_parse(FUZZ_SOURCE, text, len, &again, &why) != STATUS_OK) {
	size_t  longest = fuzz_longest_line(text, len);

	if (longest <= CONF_LINE_MAX && longest <= CONF_VALUE_MAX) {
	    fprintf(stderr, "fuzz_conf: reparse: %s\n", why_text(&why));
	    fuzz_fail("-", "conf_print output does not parse again");
	}
	goto out;
    }
    for (id = 0; id < CONF_KEY_COUNT; id++) {
	if (conf_is_set(conf, id) != conf_is_set(again, id))
	    fuzz_fail(conf_key(id)->name, "set/unset changed in the round trip");
	if (strcmp(conf_str(conf, id), conf_str(again, id)) != 0)
	    fuzz_fail(conf_key(id)->name, "value text changed in the round trip");
    }

out:
    conf_unref(&again);
    free(text);
}

/* LLVMFuzzerTestOneInput - one configuration text */

int     LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    CONF   *conf = (CONF *) 1;
    CONF   *ref;
    WHY     why;
    int     status;

    why.text[0] = 0;
    status = conf_parse(FUZZ_SOURCE, (const char *) data, size, &conf, &why);
    if (status == STATUS_OK) {
	if (conf == 0)
	    fuzz_fail("-", "STATUS_OK without a CONF");
	if (strcmp(conf_source(conf), FUZZ_SOURCE) != 0)
	    fuzz_fail("-", "conf_source is not the source given");
	fuzz_check_values(conf);
	fuzz_round_trip(conf);
	ref = conf_ref(conf);
	conf_unref(&conf);
	if (conf != 0)
	    fuzz_fail("-", "conf_unref did not clear the pointer");
	fuzz_check_values(ref);			/* still alive: one ref left */
	conf_unref(&ref);
    } else if (status == STATUS_INVAL) {
	if (conf != 0)
	    fuzz_fail("-", "CONF left in *out after an error");
	if (strncmp(why.text, FUZZ_SOURCE ":", sizeof(FUZZ_SOURCE)) != 0)
	    fuzz_fail("-", "error does not start with the file name");
    } else if (status != STATUS_FAIL) {
	fuzz_fail("-", "undocumented status");
    }
    return (0);
}
