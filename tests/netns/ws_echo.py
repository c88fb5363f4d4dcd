#!/usr/bin/python3
# WebSocket ends for netns_websocket (python3-websockets, Debian's 10.4):
#   ws_echo.py server ADDR PORT
#       echoes every message; "whoami" is answered with the path and the
#       X-Forwarded-For the handshake carried.
#   ws_echo.py client GATEWAY HOST
#       through the gateway (port 80, Host HOST): messages of every size up to
#       1 MiB (several over 64 KiB; no compression, so frames are that big
#       on the wire), text and binary, compared with their
#       echoes; prints one line "ok ..." or fails with a reason.
#   ws_echo.py idle GATEWAY HOST SECONDS
#       opens a connection, exchanges one message, stays silent (no pings)
#       for SECONDS, then sends another: prints "open" when it is echoed,
#       "closed" when the gateway ended the connection meanwhile.
import asyncio
import os
import sys

import websockets


async def serve(addr, port):
    async def echo(ws, path):
        async for msg in ws:
            if msg == "whoami":
                await ws.send(f"path={path} xff={ws.request_headers.get('X-Forwarded-For', '')}")
            else:
                await ws.send(msg)

    async with websockets.serve(echo, addr, port, max_size=None, ping_interval=None, compression=None):
        await asyncio.Future()


def connect(gateway, host):
    return websockets.connect(f"ws://{host}/chat", host=gateway, port=80, max_size=None, ping_interval=None, compression=None,
                              open_timeout=5, close_timeout=5)


async def client(gateway, host):
    async with connect(gateway, host) as ws:
        await ws.send("whoami")
        who = await asyncio.wait_for(ws.recv(), 5)
        sizes = [1, 125, 126, 65535, 65536, 70000, 200_000, 1 << 20, 3]
        sent = 0
        for i, n in enumerate(sizes):
            msg = os.urandom(n) if i % 2 == 0 else os.urandom(n).hex()[:n]
            await ws.send(msg)
            back = await asyncio.wait_for(ws.recv(), 10)
            if back != msg:
                sys.exit(f"FAIL: message {i} of {n} bytes came back different")
            sent += n
        # Many small messages in flight at once, then their echoes in order.
        burst = [f"burst {i}" for i in range(200)]
        for m in burst:
            await ws.send(m)
        for m in burst:
            back = await asyncio.wait_for(ws.recv(), 10)
            if back != m:
                sys.exit(f"FAIL: burst: expected {m!r}, got {back!r}")
        print(f"ok {len(sizes) + len(burst)} messages {sent} bytes {who}")


async def idle(gateway, host, seconds):
    async with connect(gateway, host) as ws:
        await ws.send("before")
        if await asyncio.wait_for(ws.recv(), 5) != "before":
            sys.exit("FAIL: no echo before the idle wait")
        await asyncio.sleep(seconds)
        try:
            await ws.send("after")
            back = await asyncio.wait_for(ws.recv(), 2)
            print("open" if back == "after" else f"open, but the echo was {back!r}")
        except websockets.ConnectionClosed:
            print("closed")


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "server":
        asyncio.run(serve(sys.argv[2], int(sys.argv[3])))
    elif mode == "client":
        asyncio.run(client(sys.argv[2], sys.argv[3]))
    elif mode == "idle":
        asyncio.run(idle(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    else:
        sys.exit(f"unknown mode {mode}")
