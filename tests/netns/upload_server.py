#!/usr/bin/env python3
# A pod's second HTTP server for the proxy test: POST answers with the sha256
# of the body it read (Content-Length or chunked) and the X-Forwarded-For it saw;
# GET /headers answers with the request's fields.
import hashlib
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, text):
        body = text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply("".join(f"{k}: {v}\n" for k, v in self.headers.items()))

    def do_POST(self):
        h = hashlib.sha256()
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    break
                h.update(self.rfile.read(size))
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                h.update(chunk)
                left -= len(chunk)
        self.reply(f"sha256 {h.hexdigest()} xff {self.headers.get('X-Forwarded-For')}\n")

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))


HTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()
