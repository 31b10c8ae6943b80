-- SPDX-License-Identifier: ISC
-- Issue 11, defect 1: the recipient's domain is read from the raw address,
-- whatever the local part (RFC 5321 section 4.1.2, RFC 6531). In the
-- rcpt-syntax world: notlisted.test and xn--bcher-kva.test (bücher.test)
-- are enforce-fail (deferred), nopolicy.test has no policy.
-- MT_STRICT=1: action_internal_error = defer (an unreadable domain is
-- refused, never passed silently).
dofile(os.getenv("MT_DIR") .. "/common.lua")
strict = os.getenv("MT_STRICT") == "1"

conn = open("127.0.0.1")
mt.macro(conn, SMFIC_MAIL, "i", "MT0002")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom")
check(mt.getreply(conn) == SMFIR_CONTINUE, "mynetworks client: MAIL continues")
if not strict then
	rcpt(conn, string.rep("a", 300) .. "@xn--bcher-kva.test", SMFIR_REPLYCODE,
	     "300-byte local part @xn--bcher-kva.test: checked, deferred")
	rcpt(conn, string.rep("b", 240) .. "@notlisted.test.example", SMFIR_CONTINUE,
	     "240-byte local part @notlisted.test.example: its own domain (not in the world: temporary, tag), not notlisted.test")
	rcpt(conn, "bob@bücher.test", SMFIR_REPLYCODE, "SMTPUTF8 bob@bücher.test: checked through IDNA, deferred")
	rcpt(conn, "\"x@nopolicy.test\"@bücher.test", SMFIR_REPLYCODE,
	     "quoted local part holding @: the domain after it (bücher.test), deferred")
	rcpt(conn, "@nopolicy.test:bob@notlisted.test", SMFIR_REPLYCODE,
	     "source route ignored: notlisted.test, deferred")
	rcpt(conn, "\"" .. string.rep("q", 300) .. "@nopolicy.test\"@notlisted.test", SMFIR_REPLYCODE,
	     "long quoted local part holding @: notlisted.test, deferred")
	rcpt(conn, "bob@[192.0.2.1]", SMFIR_CONTINUE, "address literal: not checked (logged)")
	rcpt(conn, "bob@nopolicy.test", SMFIR_CONTINUE, "no-policy: continue")
	rcpt(conn, "bob@bad_domain.test", SMFIR_CONTINUE,
	     "unreadable domain: action_internal_error (accept by default), logged")
else
	rcpt(conn, "bob@bad_domain.test", SMFIR_REPLYCODE,
	     "unreadable domain, action_internal_error = defer: deferred")
	rcpt(conn, "bob@b\xc3.test", SMFIR_REPLYCODE,
	     "invalid UTF-8 domain, action_internal_error = defer: deferred")
	rcpt(conn, "a@b@nopolicy.test", SMFIR_REPLYCODE,
	     "unquoted @ in the local part, action_internal_error = defer: deferred")
	rcpt(conn, "bob@nopolicy.test", SMFIR_CONTINUE, "a readable no-policy domain still continues")
end
mt.disconnect(conn)
