-- SPDX-License-Identifier: ISC
-- action_temporary = defer: only a temporary verdict is deferred. A domain
-- whose MTA-STS policy cannot be fetched is no-policy (RFC 8461 section
-- 3.3: senders deliver without MTA-STS) and continues; a domain whose DNS
-- answers SERVFAIL is temporary and gets a reply code (451 4.4.3).
dofile(os.getenv("MT_DIR") .. "/common.lua")
conn = open("127.0.0.1")
check(mt.mailfrom(conn, "<alice@sender.test>") == nil, "mailfrom")
rcpt(conn, "bob@fetcherr.test", SMFIR_CONTINUE, "defer: fetch-error domain (no-policy) continues")
rcpt(conn, "bob@nosuch.example", SMFIR_REPLYCODE, "defer: SERVFAIL domain (temporary) gets a reply code")
mt.disconnect(conn)
