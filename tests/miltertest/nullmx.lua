-- SPDX-License-Identifier: ISC
-- RFC 7505: a null MX domain is rejected (556 5.1.10, checked in the log).
dofile(os.getenv("MT_DIR") .. "/common.lua")
conn = open("127.0.0.1")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom")
rcpt(conn, "bob@nullmx.test", SMFIR_REPLYCODE, "null-mx: reply code (reject)")
mt.disconnect(conn)
