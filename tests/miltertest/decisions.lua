-- SPDX-License-Identifier: ISC
-- The default decisions of stsfilter-milter, without an MTA:
-- enforce-fail deferred (reply code set), ok / testing-fail / no-policy
-- (also a policy that cannot be fetched, RFC 8461 section 3.3) continue, the tag header at end of message, an unauthenticated
-- client outside mynetworks left alone, an authenticated one checked.
dofile(os.getenv("MT_DIR") .. "/common.lua")

-- A client in mynetworks.
conn = open("127.0.0.1")
mt.macro(conn, SMFIC_MAIL, "i", "MT0001")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "mynetworks client: MAIL continues")
rcpt(conn, "bob@good.test", SMFIR_CONTINUE, "ok (good.test): continue")
rcpt(conn, "bob@dane.test", SMFIR_CONTINUE, "ok (dane.test): continue")
rcpt(conn, "bob@nopolicy.test", SMFIR_CONTINUE, "no-policy: continue")
rcpt(conn, "bob@notlisted.test", SMFIR_REPLYCODE, "enforce-fail (notlisted.test): reply code (defer)")
rcpt(conn, "bob@expired.test", SMFIR_REPLYCODE, "enforce-fail (expired.test): reply code (defer)")
rcpt(conn, "bob@testing.test", SMFIR_CONTINUE, "testing-fail: continue (tag)")
rcpt(conn, "bob@fetcherr.test", SMFIR_CONTINUE, "no-policy (policy cannot be fetched): continue")
rcpt(conn, "bob@[192.0.2.1]", SMFIR_CONTINUE, "address literal: not judged")
-- DATA, headers and body are negotiated away (SMFIP_NO*): straight to EOM.
check(mt.eom(conn) == nil, "eom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "eom continues")
check(mt.eom_check(conn, MT_HDRADD, tag), "tag header added")
hv = mt.getheader(conn, tag, 0)
check(hv ~= nil and string.find(hv, "testing.test testing-fail (", 1, true), "tag names testing.test")
check(not string.find(hv, "fetcherr.test", 1, true), "tag leaves out the no-policy fetcherr.test")
check(not string.find(hv, "good.test", 1, true), "tag leaves out good.test")
check(not string.find(hv, "notlisted.test", 1, true), "tag leaves out the deferred notlisted.test")
mt.disconnect(conn)

-- Inbound: unauthenticated, outside mynetworks: accepted at MAIL, untouched.
conn = open("192.0.2.1")
check(mt.mailfrom(conn, "<someone@elsewhere.test>") == nil, "mailfrom (inbound)")
check(mt.getreply(conn) == SMFIR_ACCEPT, "inbound client: accepted without checks")
mt.disconnect(conn)

-- Authenticated, outside mynetworks: checked.
conn = open("192.0.2.1")
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom (authenticated)")
check(mt.getreply(conn) == SMFIR_CONTINUE, "authenticated client: MAIL continues")
rcpt(conn, "bob@plain.test", SMFIR_REPLYCODE, "authenticated: enforce-fail (plain.test) deferred")
mt.disconnect(conn)
