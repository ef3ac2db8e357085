#!/usr/bin/env python3
"""Traffic with known gaps for the link-type test captures (issue 14).

    linktype-traffic.py lo          pings (IPv4 and IPv6), a TCP exchange and
                                    UDP datagrams over the loopback interface
    linktype-traffic.py tun NAME    on the tun device NAME (made and given
                                    10.14.0.1 peer 10.14.0.2 beforehand):
                                    pings answered by this script (it plays
                                    10.14.0.2), and UDP datagrams

Run as root (raw ICMP sockets, the tun device). Only the standard library:
the echo replies on the tun device are built here from RFC 791/792.
"""
import fcntl
import os
import select
import socket
import struct
import sys
import threading
import time

GAP = 0.05


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def echo_request(ident, seq, v6=False):
    payload = b"bloomtime-%02d" % seq + bytes(20)
    ty = 128 if v6 else 8
    h = struct.pack("!BBHHH", ty, 0, 0, ident, seq)
    if v6:
        return h + payload  # the kernel fills the ICMPv6 checksum
    c = checksum(h + payload)
    return struct.pack("!BBHHH", ty, 0, c, ident, seq) + payload


def pings(dst, ident, n, v6=False):
    fam = socket.AF_INET6 if v6 else socket.AF_INET
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    s = socket.socket(fam, socket.SOCK_RAW, proto)
    for i in range(n):
        s.sendto(echo_request(ident, i + 1, v6), (dst, 0))
        time.sleep(GAP * (i + 1))  # growing gaps: 50, 100, 150 ms ...
    s.close()


def udp(dst, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(n):
        s.sendto(b"datagram %d" % i, (dst, port))
        time.sleep(GAP)
    s.close()


def tcp_exchange(port, n):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)

    def serve():
        c, _ = srv.accept()
        while True:
            d = c.recv(100)
            if not d:
                break
            c.sendall(d)
        c.close()

    t = threading.Thread(target=serve)
    t.start()
    c = socket.create_connection(("127.0.0.1", port))
    for i in range(n):
        c.sendall(b"message %d" % i)
        c.recv(100)
        time.sleep(GAP)
    c.close()
    t.join()
    srv.close()


def lo():
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 14014))
    pings("127.0.0.1", 0x1401, 5)
    pings("::1", 0x1406, 5, v6=True)
    tcp_exchange(14080, 5)
    udp("127.0.0.1", 14014, 5)
    sink.close()


TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    stop = threading.Event()

    def answer():
        # Plays 10.14.0.2: every ICMP echo request comes back as a reply.
        while not stop.is_set():
            r, _, _ = select.select([fd], [], [], 0.1)
            if not r:
                continue
            p = bytearray(os.read(fd, 2048))
            if len(p) < 28 or p[0] >> 4 != 4 or p[9] != 1:
                continue
            ihl = (p[0] & 15) * 4
            if p[ihl] != 8:
                continue
            p[12:16], p[16:20] = p[16:20], p[12:16]
            p[10:12] = b"\0\0"
            p[10:12] = struct.pack("!H", checksum(bytes(p[:ihl])))
            p[ihl] = 0
            p[ihl + 2 : ihl + 4] = b"\0\0"
            p[ihl + 2 : ihl + 4] = struct.pack("!H", checksum(bytes(p[ihl:])))
            os.write(fd, bytes(p))

    t = threading.Thread(target=answer)
    t.start()
    time.sleep(0.3)
    pings("10.14.0.2", 0x140E, 5)
    udp("10.14.0.2", 14014, 5)
    time.sleep(0.2)
    stop.set()
    t.join()
    os.close(fd)


if __name__ == "__main__":
    if sys.argv[1:2] == ["lo"]:
        lo()
    elif sys.argv[1:2] == ["tun"] and len(sys.argv) == 3:
        tun(sys.argv[2])
    else:
        sys.exit(__doc__)
