-- SPDX-License-Identifier: ISC
-- Shared helpers for the stsfilter-milter miltertest scripts.
-- MT_SOCKET: the milter's socket (inet:PORT@127.0.0.1).
sock = os.getenv("MT_SOCKET")
tag = os.getenv("MT_TAG") or "X-MTA-STS-Check"

function check(cond, what)
	if not cond then
		error("FAIL: " .. what)
	end
	mt.echo("PASS: " .. what)
end

function open(ip)
	local conn = mt.connect(sock, 20, 0.25)
	check(conn ~= nil, "connect to " .. sock)
	check(mt.conninfo(conn, "client.test", ip) == nil, "conninfo " .. ip)
	check(mt.getreply(conn) == SMFIR_CONTINUE, "connect from " .. ip .. " continues")
	return conn
end

function rcpt(conn, addr, want, what)
	check(mt.rcptto(conn, "<" .. addr .. ">") == nil, "rcptto " .. addr)
	check(mt.getreply(conn) == want, what)
end
