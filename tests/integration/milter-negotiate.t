#!/usr/bin/python3
# SPDX-License-Identifier: ISC
"""Integration test (TAP): stsfilter-milter's side of the milter protocol
(issue 12), driven by a raw milter-protocol client in the `testing-mode`
world (testing.test's messages are tagged):
- option negotiation against an MTA that offers every step and action: the
  milter asks for the add-header action only, negotiates away HELO,
  headers, end of headers, body and unknown commands, and keeps connect,
  MAIL, RCPT and DATA with their replies (no SMFIP_NODATA: Postfix would
  then send the DATA macros as a lone packet that stalls the next one; no
  no-reply flag on a step that remains);
- a tagged message: RCPT, DATA and end of message answered, the tag header
  (SMFIR_ADDHEADER) before the final continue;
- TCP_NODELAY is set on the accepted TCP connection (the milter runs under
  strace -e setsockopt), so that the two replies at end of message do not
  wait on Nagle's algorithm.
No timing is asserted. Needs root."""

import os, subprocess, sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("STS_BUILDDIR", TOP)
MILTER = os.path.join(BUILD, "stsfilter-milter")
RUN = os.path.join(TOP, "tests/world/run")

INSIDE = r'''
import json, os, socket, struct, subprocess, sys, time
MILTER = sys.argv[1]
W = os.environ["STS_WORLD"]
PORT = 10050
conf = os.path.join(W, "milter.conf")
with open(conf, "w") as fp:
    fp.write(open(os.environ["STS_WORLD_CONF"]).read() + """
milter_socket = inet:%d@127.0.0.1
user = root
pid_file =
act_on = mynetworks
mynetworks = 127.0.0.0/8
check_time_budget = 5s
recipient_time_budget = 5s
""" % PORT)
trace = os.path.join(W, "setsockopt.trace")
log = open(os.path.join(W, "milter.log"), "w")
p = subprocess.Popen(["strace", "-f", "-e", "trace=setsockopt", "-o", trace, MILTER, "-f", "-c", conf],
                     stdout=log, stderr=subprocess.STDOUT)
res = []
def emit(ok, desc, diag=""):
    res.append([bool(ok), desc, str(diag)])
def pkt(cmd, data=b""):
    return struct.pack(">I", len(data) + 1) + cmd + data
s = None
for _ in range(100):
    try:
        s = socket.create_connection(("127.0.0.1", PORT), timeout=30)
        break
    except OSError:
        time.sleep(0.1)
buf = b""
def reply():
    global buf
    while True:
        if len(buf) >= 4:
            n = struct.unpack(">I", buf[:4])[0]
            if len(buf) >= 4 + n:
                body, buf = buf[4:4 + n], buf[4 + n:]
                return body[:1].decode(), body[1:]
        c = s.recv(65536)
        if not c:
            raise EOFError("closed")
        buf += c
try:
    s.sendall(pkt(b"O", struct.pack(">III", 6, 0x1ff, 0x1fffff)))
    code, data = reply()
    ver, act, proto = struct.unpack(">III", data[:12])
    emit(code == "O", "option negotiation answered", code)
    emit(act == 0x01, "only the add-header action is asked for", hex(act))
    off = 0x02 | 0x10 | 0x20 | 0x40 | 0x100      # NOHELO NOBODY NOHDRS NOEOH NOUNKNOWN
    emit(proto & off == off, "HELO, body, headers, end of headers and unknown commands negotiated away", hex(proto))
    keep = 0x01 | 0x04 | 0x08 | 0x200            # NOCONNECT NOMAIL NORCPT NODATA
    emit(proto & keep == 0, "connect, MAIL, RCPT and DATA kept (no SMFIP_NODATA)", hex(proto))
    nr = 0x1000 | 0x4000 | 0x8000 | 0x10000     # NR_CONN NR_MAIL NR_RCPT NR_DATA
    emit(proto & nr == 0, "every step that remains gets a reply", hex(proto))
    s.sendall(pkt(b"C", b"client.test\0" + b"4" + struct.pack(">H", 25) + b"127.0.0.1\0"))
    emit(reply()[0] == "c", "connect: continue")
    s.sendall(pkt(b"D", b"Mi\0QID1\0") + pkt(b"M", b"<alice@sender.test>\0"))
    emit(reply()[0] == "c", "MAIL: continue")
    s.sendall(pkt(b"R", b"<u@testing.test>\0"))
    emit(reply()[0] == "c", "RCPT to a testing-mode failure: continue (tag)")
    s.sendall(pkt(b"D", b"Ti\0QID1\0") + pkt(b"T"))
    emit(reply()[0] == "c", "DATA answered")
    s.sendall(pkt(b"D", b"Ei\0QID1\0") + pkt(b"E"))
    r1 = reply()
    r2 = reply()
    emit(r1[0] == "h" and r2[0] == "c", "end of message: the tag header, then continue", (r1, r2))
    s.sendall(pkt(b"Q"))
except Exception as e:
    emit(False, "protocol exchange", repr(e))
s and s.close()
time.sleep(0.5)
p.terminate()
try:
    p.wait(20)
except subprocess.TimeoutExpired:
    p.kill()
text = open(trace).read() if os.path.exists(trace) else ""
emit("TCP_NODELAY, [1], 4) = 0" in text, "TCP_NODELAY set on the accepted connection",
     "".join(l for l in text.splitlines(True) if "setsockopt" in l)[-800:])
print("RESULTS " + json.dumps(res))
'''

if os.geteuid() != 0:
    print("1..0 # SKIP needs root")
    sys.exit(0)
r = subprocess.run([RUN, "testing-mode", "--", sys.executable, "-c", INSIDE, MILTER], capture_output=True, text=True,
                   timeout=600)
import json
res = None
for line in r.stdout.splitlines():
    if line.startswith("RESULTS "):
        res = json.loads(line[8:])
if res is None:
    print("1..1\nnot ok 1 - the world ran the test")
    print("# " + (r.stdout[-1500:] + r.stderr[-1500:]).replace("\n", "\n# "))
    sys.exit(0)
print("1..%d" % len(res))
for i, (ok, desc, diag) in enumerate(res, 1):
    print("%sok %d - %s" % ("" if ok else "not ", i, desc))
    if not ok and diag:
        print("# " + diag.replace("\n", "\n# "))
