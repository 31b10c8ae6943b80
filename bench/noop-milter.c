/* SPDX-License-Identifier: ISC */
/*
 * NAME
 *	noop-milter 1
 * SUMMARY
 *	the milter protocol's floor: a libmilter milter that does nothing
 * SYNOPSIS
 *	noop-milter SOCKET
 * DESCRIPTION
 *	Registered for the same callbacks as stsfilter-milter (connect,
 *	MAIL, RCPT, DATA, end of message, abort, close) and negotiated the same
 *	way (the same steps and no-reply flags asked away, the add-header
 *	action only); every callback answers SMFIS_CONTINUE at once. Built
 *	by bench/run with the same libmilter; Postfix with this milter is
 *	what Postfix with stsfilter-milter is compared with.
 */

#include <stdio.h>
#include <libmilter/mfapi.h>

#define STEPS_OFF	(SMFIP_NOHELO | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NOBODY \
			| SMFIP_NOUNKNOWN)
#define STEPS_NR	(SMFIP_NR_HELO | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY \
			| SMFIP_NR_UNKN)

static sfsistat noop_connect(SMFICTX *ctx, char *h, _SOCK_ADDR *a)
{
    (void) ctx, (void) h, (void) a;
    return (SMFIS_CONTINUE);
}

static sfsistat noop_argv(SMFICTX *ctx, char **argv)
{
    (void) ctx, (void) argv;
    return (SMFIS_CONTINUE);
}

static sfsistat noop_ctx(SMFICTX *ctx)
{
    (void) ctx;
    return (SMFIS_CONTINUE);
}

static sfsistat noop_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			               unsigned long f2, unsigned long f3, unsigned long *pf0,
			               unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
    (void) ctx, (void) f2, (void) f3;
    *pf0 = f0 & SMFIF_ADDHDRS;
    *pf1 = f1 & (STEPS_OFF | STEPS_NR);
    *pf2 = 0;
    *pf3 = 0;
    return (SMFIS_CONTINUE);
}

static struct smfiDesc noop_desc = {
    "noop", SMFI_VERSION, SMFIF_ADDHDRS,
    noop_connect, 0, noop_argv, noop_argv, 0, 0, 0,
    noop_ctx, noop_ctx, noop_ctx, 0, noop_ctx, noop_negotiate,
};

int     main(int argc, char **argv)
{
    if (argc != 2) {
	fprintf(stderr, "usage: noop-milter SOCKET\n");
	return (64);
    }
    if (smfi_register(noop_desc) != MI_SUCCESS || smfi_setconn(argv[1]) != MI_SUCCESS
	|| smfi_opensocket(1) != MI_SUCCESS)
	return (71);
    return (smfi_main() == MI_SUCCESS ? 0 : 70);
}
