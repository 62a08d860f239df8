"""A webhook receiver for the benchmark, run as a process of its own: verifies every signature, counts.

``python -m bench.receiver SECRET`` prints its port, then serves until killed;
GET /count answers ``{"received": n, "verified": n}``.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


def serve(secret):
    webhook = Webhook(secret)
    counts = {"received": 0, "verified": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                webhook.verify(body, dict(self.headers))
                verified = 1
            except WebhookVerificationError:
                verified = 0
            with lock:
                counts["received"] += 1
                counts["verified"] += verified
            self._answer(204 if verified else 401, b"")

        def do_GET(self):
            with lock:
                self._answer(200, json.dumps(counts).encode())

        def _answer(self, status, body):
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    serve(sys.argv[1])
