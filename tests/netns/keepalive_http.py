#!/usr/bin/env python3
"""Keep-alive HTTP/1.1 for the flood test: a pod's server, and clients that
each hold one connection open and send requests on it until told to stop.

  keepalive_http.py serve NAME ADDRESS PORT
  keepalive_http.py client HOST PORT SESSIONS INTERVAL STOPFILE
      Runs SESSIONS clients, each on one kernel TCP connection, a request
      every INTERVAL seconds, until STOPFILE exists; then prints
      "sessions S requests R failed F reconnects C" and exits 0 only if no
      request failed and no connection had to be opened again.
"""
import http.client
import http.server
import os
import socket
import sys
import threading
import time


def serve(name, addr, port):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"   # keep-alive: one connection, many requests
        # The head and the body go out in two writes: with Nagle the body
        # waits for the head's ACK, which a receiver delays (40 ms here).
        disable_nagle_algorithm = True

        def do_GET(self):
            body = f"{name} {self.path}\n".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *args):
            # One line per request: tests count what each pod served.
            sys.stderr.write("%s %s\n" % (self.client_address[0], fmt % args))

    http.server.ThreadingHTTPServer.allow_reuse_address = True
    http.server.ThreadingHTTPServer((addr, int(port)), Handler).serve_forever()


def session(host, port, interval, stopfile, out, n):
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    first_sock = None
    requests = failed = reconnects = 0
    while not os.path.exists(stopfile):
        path = f"/s{n}/r{requests}"
        try:
            conn.request("GET", path)
            if first_sock is None:
                first_sock = conn.sock
            elif conn.sock is not first_sock:
                reconnects += 1
                first_sock = conn.sock
            r = conn.getresponse()
            body = r.read().decode()
            if r.status != 200 or not body.endswith(f" {path}\n"):
                failed += 1
                print(f"session {n}: {path}: status {r.status} body {body!r}", file=sys.stderr)
        except (OSError, http.client.HTTPException) as e:
            failed += 1
            print(f"session {n}: {path}: {e!r}", file=sys.stderr)
            conn.close()
        requests += 1
        time.sleep(interval)
    conn.close()
    out[n] = (requests, failed, reconnects)


def client(host, port, sessions, interval, stopfile):
    out = {}
    threads = [threading.Thread(target=session, args=(host, port, float(interval), stopfile, out, n))
               for n in range(int(sessions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = [sum(v[i] for v in out.values()) for i in range(3)]
    print(f"sessions {len(out)} requests {total[0]} failed {total[1]} reconnects {total[2]}")
    return 0 if total[1] == 0 and total[2] == 0 and len(out) == int(sessions) else 1


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "serve":
        serve(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == "client":
        sys.exit(client(*sys.argv[2:]))
    else:
        print(__doc__)
        sys.exit(2)
