"""Real HTTP servers on 127.0.0.1 for the integration tests: a webhook receiver and a stand-in Slack Web API.

Both run in a thread of the test process (or a process of their own for the
worker tests) and record what they were sent; nothing is mocked on the
sending side.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from standardwebhooks import Webhook, WebhookVerificationError


class Received:
    def __init__(self, headers, body, verified):
        self.headers = headers
        self.body = body
        self.verified = verified

    @property
    def webhook_id(self):
        return self.headers.get("webhook-id")

    def json(self):
        return json.loads(self.body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class _LocalServer:
    """Serves ``handler`` on a free port of 127.0.0.1 in a thread, inside a ``with`` block."""

    path = "/"

    def _serve(self, handler):
        self.server = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _reply(handler, status, body):
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class Receiver(_LocalServer):
    """A webhook endpoint: checks each request's signature with the standardwebhooks library.

    ``answer`` decides the status code of each request (a function of the
    request number, from 0), default 200; a request with a bad signature gets 401.
    """

    path = "/hooks/funnel"

    def __init__(self, secret=None, *, answer=None, delay=0.0):
        self.secret = secret
        self.answer = answer or (lambda number: 200)
        self.delay = delay
        self.received = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {key.lower(): value for key, value in self.headers.items()}
                verified = None
                if receiver.secret:
                    try:
                        Webhook(receiver.secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError:
                        verified = False
                with receiver.lock:
                    number = len(receiver.received)
                    receiver.received.append(Received(headers, body, verified))
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = 401 if verified is False else receiver.answer(number)
                _reply(self, status, json.dumps({"ok": 200 <= status < 300, "n": number}).encode())

            def log_message(self, *args):
                pass

        self._serve(Handler)

    def ids(self):
        return [request.webhook_id for request in self.received]


class SlackAPI(_LocalServer):
    """A stand-in for Slack's Web API (SLACK_API_URL points here): records calls, answers like Slack.

    ``users`` maps Slack user ids to e-mail addresses (users.lookupByEmail, users.info).
    """

    path = "/api/"

    def __init__(self, users=None):
        self.users = dict(users or {})
        self.calls = []
        self.lock = threading.Lock()
        self.next_ts = 1000
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    args = json.loads(raw or b"{}")
                else:
                    args = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
                method = self.path.rsplit("/", 1)[-1]
                reply = api.answer(method, args, self.headers.get("Authorization", ""))
                _reply(self, 200, json.dumps(reply).encode())

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self._serve(Handler)

    def answer(self, method, args, authorization):
        with self.lock:
            self.calls.append((method, args))
            if authorization != "Bearer xoxb-test-token":
                return {"ok": False, "error": "invalid_auth"}
            if method == "users.lookupByEmail":
                for user_id, email in self.users.items():
                    if email.lower() == args.get("email", "").lower():
                        return {"ok": True, "user": {"id": user_id, "profile": {"email": email}}}
                return {"ok": False, "error": "users_not_found"}
            if method == "users.info":
                email = self.users.get(args.get("user"))
                if email is None:
                    return {"ok": False, "error": "user_not_found"}
                return {"ok": True, "user": {"id": args["user"], "profile": {"email": email}}}
            if method == "chat.postMessage":
                self.next_ts += 1
                channel = args.get("channel")
                # A message to a user id lands in the DM channel with that user.
                if channel.startswith("U"):
                    channel = "D" + channel[1:]
                return {"ok": True, "channel": channel, "ts": f"{self.next_ts}.000100"}
            if method in ("chat.update", "chat.postEphemeral", "views.open"):
                return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
            return {"ok": False, "error": "unknown_method"}

    def called(self, method):
        return [args for name, args in self.calls if name == method]
