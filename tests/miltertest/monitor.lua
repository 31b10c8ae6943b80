-- SPDX-License-Identifier: ISC
-- monitor_mode = yes: nothing refused; what would be is tagged.
dofile(os.getenv("MT_DIR") .. "/common.lua")
conn = open("127.0.0.1")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom")
rcpt(conn, "bob@notlisted.test", SMFIR_CONTINUE, "monitor: enforce-fail continues")
rcpt(conn, "bob@good.test", SMFIR_CONTINUE, "monitor: ok continues")
-- DATA, headers and body are negotiated away (SMFIP_NO*): straight to EOM.
check(mt.eom(conn) == nil, "eom")
check(mt.eom_check(conn, MT_HDRADD, tag), "monitor: tag header added")
hv = mt.getheader(conn, tag, 0)
check(hv ~= nil and string.find(hv, "notlisted.test enforce-fail (", 1, true)
      and string.find(hv, "would-defer", 1, true), "monitor: tag says notlisted.test would-defer")
mt.disconnect(conn)
