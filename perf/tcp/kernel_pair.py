#!/usr/bin/env python3
"""The Linux kernel's side of perf/tcp/run: a client and a server (one
process each, in their own network namespaces over a veth) doing what
tcp_bench does to kgw's stack, each printing its own CPU time
(getrusage: user and system seconds) when done.

  kernel_pair.py server ADDR PORT bulk|conns [--offload-off DEV]
  kernel_pair.py client ADDR PORT bulk MIB [--offload-off DEV]
  kernel_pair.py client ADDR PORT conns N [--offload-off DEV]

--offload-off DEV first turns off DEV's segmentation and checksum offloads
(ethtool -K DEV tso off gso off tx off), so that the kernel, like kgw's
stack in tcp_bench, builds every MSS-sized segment and computes every
checksum itself: the fair comparison. Without it the veth's defaults stay
(TSO/GSO move 64 KiB units, no checksum is computed on a veth).
"""
import resource
import socket
import subprocess
import sys


def usage_line(role):
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(f"{role} utime {r.ru_utime:.6f} stime {r.ru_stime:.6f}", flush=True)


def server(addr, port, mode):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1024)
    print("listening", flush=True)
    if mode == "bulk":
        c, _ = s.accept()
        buf = bytearray(262144)
        total = 0
        while True:
            n = c.recv_into(buf)
            if not n:
                break
            total += n
        c.close()
        print(f"server received {total}", flush=True)
    else:
        while True:
            c, _ = s.accept()
            b = c.recv(1)
            if b == b"q":  # the client is done
                c.close()
                break
            c.sendall(b)
            c.close()
    usage_line("server")


def client(addr, port, mode, amount):
    if mode == "bulk":
        c = socket.create_connection((addr, port))
        chunk = bytes(262144)
        for _ in range(amount * 4):
            c.sendall(chunk)
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
        c.close()
    else:
        for _ in range(amount):
            c = socket.create_connection((addr, port))
            c.sendall(b"x")
            c.recv(1)
            c.close()
        c = socket.create_connection((addr, port))
        c.sendall(b"q")
        c.close()
    usage_line("client")


def main():
    args = sys.argv[1:]
    if "--offload-off" in args:
        i = args.index("--offload-off")
        dev = args[i + 1]
        del args[i:i + 2]
        subprocess.run(["ethtool", "-K", dev, "tso", "off", "gso", "off", "tx", "off"],
                       check=True, stdout=subprocess.DEVNULL)
    role, addr, port, mode = args[0], args[1], int(args[2]), args[3]
    if role == "server":
        server(addr, port, mode)
    else:
        client(addr, port, mode, int(args[4]))


if __name__ == "__main__":
    main()
