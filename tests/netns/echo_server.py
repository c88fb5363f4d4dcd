#!/usr/bin/env python3
"""A pod's echo service for the L4 tests: every UDP datagram (port 9053,
IPv4 and IPv6) and every TCP read (port 9000) is answered with
"NAME PEER <what was received>": which pod answered, and the source address
it saw (the client's, or the gateway's SNAT address).

usage: echo_server.py NAME ADDRESS4 [ADDRESS6]
"""
import selectors
import socket
import sys


def main():
    name = sys.argv[1].encode()
    sel = selectors.DefaultSelector()
    for family, addr in [(socket.AF_INET, sys.argv[2])] + ([(socket.AF_INET6, sys.argv[3])] if len(sys.argv) > 3 else []):
        u = socket.socket(family, socket.SOCK_DGRAM)
        u.bind((addr, 9053))
        sel.register(u, selectors.EVENT_READ, "udp")
        t = socket.socket(family, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((addr, 9000))
        t.listen(64)
        t.setblocking(False)
        sel.register(t, selectors.EVENT_READ, "listen")
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data == "udp":
                data, peer = s.recvfrom(2048)
                s.sendto(name + b" " + peer[0].encode() + b" " + data, peer)
            elif key.data == "listen":
                c, peer = s.accept()
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, name + b" " + peer[0].encode())
            else:
                try:
                    data = s.recv(2048)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(s)
                    s.close()
                else:
                    s.sendall(key.data + b" " + data)


if __name__ == "__main__":
    main()
