#!/usr/bin/env python3
"""A kernel TCP echo server for the active-open tests: every byte read is
written back; when the peer half-closes, what it sent is finished and then
ours is shut too (as kgw's RFC 862 service). One thread per connection.

usage: tcp_echo_server.py ADDRESS PORT
"""
import socket
import sys
import threading


def serve(c):
    with c:
        while True:
            b = c.recv(262144)
            if not b:
                break
            c.sendall(b)
        c.shutdown(socket.SHUT_WR)
        # Wait for the peer's close, so that ours is the orderly one.
        while c.recv(65536):
            pass


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(128)
    print(f"listening on {addr}:{port}", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
