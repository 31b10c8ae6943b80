-- SPDX-License-Identifier: ISC
-- Issue 11, defect 8: new_domain_rate = 1, new_domain_burst = 1 and
-- action_temporary = defer, in a fresh rcpt-syntax world (nothing cached).
-- The first new domain is checked; the next new one is not (temporary,
-- deferred); a known domain is always checked.
dofile(os.getenv("MT_DIR") .. "/common.lua")

conn = open("127.0.0.1")
mt.macro(conn, SMFIC_MAIL, "i", "MT0003")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "mynetworks client: MAIL continues")
rcpt(conn, "bob@nopolicy.test", SMFIR_CONTINUE, "first new domain: checked (no-policy), continue")
rcpt(conn, "bob@notlisted.test", SMFIR_REPLYCODE, "second new domain, bucket empty: temporary, deferred")
rcpt(conn, "carol@nopolicy.test", SMFIR_CONTINUE, "a known domain is checked again, continue")
rcpt(conn, "bob@bücher.test", SMFIR_REPLYCODE, "third new domain: temporary, deferred")
mt.disconnect(conn)
