#!/usr/bin/python3
"""xss_pcap.py — writes a capture and a rule file whose incidents carry
markup, script URLs and invalid UTF-8 in every field the web console shows:
the rule's message, the HTTP URI, host and user agent. The console must show
them as text; tests/browser/console.py checks that no script ran.

Usage: xss_pcap.py OUT.pcap RULES_DIR

Each request comes from its own source address (one incident each), over a
whole TCP handshake, with correct IPv4 and TCP checksums. Every payload that
would run sets window.__cg_xss, the flag the browser test looks for.
Invariant: the bytes written are only those listed in REQUESTS and RULES."""
import os
import struct
import sys

FLAG = b"window.__cg_xss=1"
# (source address, method, URI, host, user agent) as raw bytes
REQUESTS = [
    (b"GET", b"/q?XSSPROBE=<script>" + FLAG + b"</script>", b"<script>" + FLAG + b"</script>.example",
     b"Mozilla/5.0 <script>" + FLAG + b"</script>"),
    (b"GET", b"/XSSPROBE/\"><img/src=x/onerror=" + FLAG + b">", b"\"><img src=x onerror=" + FLAG + b">",
     b"\"><img src=x onerror=" + FLAG + b"> <svg onload=" + FLAG + b">"),
    (b"GET", b"javascript:" + FLAG + b"//XSSPROBE", b"javascript:alert(1)",
     b"javascript:alert(1)"),
    (b"POST", b"/XSSPROBE/\xff\xfe\xc3\x28bad-utf8\xed\xa0\x80", b"h\xc3\x28st\xff.example",
     b"agent \xf0\x28\x8c\x28 \xff end"),
]
# the rule messages: markup; a quote, entities and invalid UTF-8
RULES = [
    b'alert http any any -> any any (msg:"CANHGAC TEST <script>window.__cg_xss=1</script> markup in a message"; '
    b'flow:to_server; http.uri; content:"XSSPROBE"; classtype:web-application-attack; sid:9199001; rev:1;)\n',
    b'alert http any any -> any any (msg:"CANHGAC TEST \'><img src=x onerror=window.__cg_xss=1> &amp &lt b&gt \xff\xfe\xc3\x28 bad UTF-8"; '
    b'flow:to_server; http.header; content:"XSSPROBE-HDR"; classtype:web-application-attack; sid:9199002; rev:1;)\n',
]


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def packet(src, dst, sport, dport, seq, ack, flags, payload=b""):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00"
    return eth + ip + tcp


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: xss_pcap.py OUT.pcap RULES_DIR\n")
        return 2
    out, rules_dir = sys.argv[1], sys.argv[2]
    pkts = []
    t = 1764000000
    dst = bytes([10, 20, 1, 10])
    for i, (method, uri, host, ua) in enumerate(REQUESTS):
        src = bytes([203, 0, 113, 10 + i])
        sport, dport = 40000 + i, 80
        req = (method + b" " + uri + b" HTTP/1.1\r\nHost: " + host + b"\r\nUser-Agent: " + ua +
               b"\r\nX-Probe: XSSPROBE-HDR\r\nAccept: */*\r\n")
        if method == b"POST":
            req += b"Content-Length: 4\r\n\r\nabcd"
        else:
            req += b"\r\n"
        cs, ss = 1000 * (i + 1), 5000 * (i + 1)
        pkts += [
            (t, packet(src, dst, sport, dport, cs, 0, 0x02)),
            (t, packet(dst, src, dport, sport, ss, cs + 1, 0x12)),
            (t, packet(src, dst, sport, dport, cs + 1, ss + 1, 0x10)),
            (t, packet(src, dst, sport, dport, cs + 1, ss + 1, 0x18, req)),
            (t, packet(dst, src, dport, sport, ss + 1, cs + 1 + len(req), 0x10)),
        ]
        t += 1
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, (ts, p) in enumerate(pkts):
            f.write(struct.pack("<IIII", ts, i * 1000, len(p), len(p)) + p)
    os.makedirs(rules_dir, exist_ok=True)
    with open(os.path.join(rules_dir, "xss.rules"), "wb") as f:
        f.write(b"# xss.rules - hostile text in rule messages, for the console's browser test\n")
        f.writelines(RULES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
