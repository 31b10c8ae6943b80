-- SPDX-License-Identifier: ISC
-- Recipients whose decisions tests/integration/metrics.t then counts in
-- stsfilter-milter's metrics: good.test three times (ok, accept; the last
-- two from the kept answer), notlisted.test (enforce-fail, defer) and
-- testing.test (testing-fail, tag).
dofile(os.getenv("MT_DIR") .. "/common.lua")

conn = open("127.0.0.1")
mt.macro(conn, SMFIC_MAIL, "i", "MT0100")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "MAIL continues")
rcpt(conn, "bob@good.test", SMFIR_CONTINUE, "good.test 1: continue")
rcpt(conn, "carol@good.test", SMFIR_CONTINUE, "good.test 2: continue")
rcpt(conn, "dave@good.test", SMFIR_CONTINUE, "good.test 3: continue")
rcpt(conn, "bob@notlisted.test", SMFIR_REPLYCODE, "notlisted.test: reply code (defer)")
rcpt(conn, "bob@testing.test", SMFIR_CONTINUE, "testing.test: continue (tag)")
mt.disconnect(conn)
