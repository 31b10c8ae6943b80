-- SPDX-License-Identifier: ISC
-- One RCPT decision through the packaged stsfilter-milter (packages.t):
-- a client in mynetworks, an enforce-mode domain with no valid route is
-- deferred (reply code), a good one continues.
dofile(os.getenv("MT_DIR") .. "/common.lua")

conn = open("127.0.0.1")
mt.macro(conn, SMFIC_MAIL, "i", "PKG001")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "mynetworks client: MAIL continues")
rcpt(conn, "bob@notlisted.test", SMFIR_REPLYCODE, "enforce-fail (notlisted.test): reply code (defer)")
rcpt(conn, "bob@good.test", SMFIR_CONTINUE, "ok (good.test): continue")
mt.disconnect(conn)
