"""A stand-in for the email and push providers, on 127.0.0.1 only.

It runs in a process of its own, so that its threads do not compete with the
job for the interpreter. Every answer comes after a fixed latency. Email
(Resend's `/emails` and `/emails/batch`, Brevo's `/smtp/email`) is rate
limited: past `email_rate` requests in the last second the answer is 429
with `Retry-After`, as Resend does. Any `/push/...` path takes a web push and
answers 201. The server keeps what it received and answers `GET /_received`
with it, so a run can check that nothing arrived twice.
"""

import json
import multiprocessing
import threading
import time
import urllib.request
import uuid
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EMAIL_PATHS = ("/emails", "/emails/batch", "/smtp/email")


class Received:
    """What the provider was sent, counted under one lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.email_requests = 0
        self.push_requests = 0
        self.rate_limited = 0
        self.emails = Counter()  # recipient address -> times accepted
        self.pushes = Counter()  # push endpoint path -> times accepted
        self.in_flight = 0
        self.most_in_flight = 0

    def summary(self):
        with self.lock:
            return {
                "email_requests": self.email_requests,
                "push_requests": self.push_requests,
                "rate_limited": self.rate_limited,
                "emails": len(self.emails),
                "pushes": len(self.pushes),
                "received_twice": sum(1 for n in self.emails.values() if n > 1)
                + sum(1 for n in self.pushes.values() if n > 1),
                "most_in_flight": self.most_in_flight,
            }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real providers allow

    def log_message(self, format, *args):
        pass  # one line per request would drown the report

    def do_GET(self):
        if self.path == "/_received":
            self._answer(200, self.server.received.summary())
        else:
            self._answer(404, {"message": "no such path"})

    def do_POST(self):
        server = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        received = server.received
        with received.lock:
            received.in_flight += 1
            received.most_in_flight = max(received.most_in_flight, received.in_flight)
        try:
            time.sleep(server.latency)
            if self.path.startswith("/push/"):
                self._push()
            elif self.path in EMAIL_PATHS:
                self._email(body)
            else:
                self._answer(404, {"message": "no such path"})
        finally:
            with received.lock:
                received.in_flight -= 1

    def _push(self):
        received = self.server.received
        with received.lock:
            received.push_requests += 1
            received.pushes[self.path] += 1
        self._answer(201, None)

    def _email(self, body):
        received = self.server.received
        if not self.server.take_email_slot():
            with received.lock:
                received.rate_limited += 1
            self._answer(
                429,
                {"name": "rate_limit_exceeded", "message": "Too many requests"},
                {"Retry-After": "1"},
            )
            return
        payload = json.loads(body or b"null")
        addresses = _addresses(self.path, payload)
        with received.lock:
            received.email_requests += 1
            received.emails.update(addresses)
        if self.path == "/emails/batch":
            data = {"data": [{"id": str(uuid.uuid4())} for _ in addresses]}
        elif self.path == "/smtp/email":
            ids = [f"<{uuid.uuid4()}@bench>" for _ in addresses]
            data = {"messageIds": ids} if len(ids) > 1 else {"messageId": ids[0]}
        else:
            data = {"id": str(uuid.uuid4())}
        self._answer(200, data)

    def _answer(self, status, data, headers=None):
        raw = b"" if data is None else json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)


def _addresses(path, payload):
    if path == "/emails/batch":
        return [email["to"][0] for email in payload]
    if path == "/smtp/email" and payload.get("messageVersions"):
        return [v["to"][0]["email"] for v in payload["messageVersions"]]
    if path == "/smtp/email":
        return [payload["to"][0]["email"]]
    return [payload["to"][0]]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # The pool opens 32 connections at once; the default backlog of 5 would
    # refuse some, which no real provider does.
    request_queue_size = 128

    def __init__(self, latency=0.1, email_rate=5):
        super().__init__(("127.0.0.1", 0), Handler)
        self.latency = latency
        self.email_rate = email_rate
        self.received = Received()
        self._accepted = deque()
        self._slots = threading.Lock()

    def take_email_slot(self):
        """True if an email request fits in the rate limit (a 1 s sliding window)."""
        with self._slots:
            now = time.monotonic()
            while self._accepted and now - self._accepted[0] >= 1.0:
                self._accepted.popleft()
            if len(self._accepted) >= self.email_rate:
                return False
            self._accepted.append(now)
            return True


def _serve(latency, email_rate, ready):
    server = Server(latency, email_rate)
    ready.send(server.server_address[1])
    ready.close()
    server.serve_forever()


class FakeProvider:
    """`with FakeProvider() as fake:` serves from another process until the end."""

    def __init__(self, latency=0.1, email_rate=5):
        self.latency = latency
        self.email_rate = email_rate
        self.url = None
        self._process = None

    def received(self):
        with urllib.request.urlopen(self.url + "/_received", timeout=5) as answer:
            return json.loads(answer.read())

    def __enter__(self):
        parent, child = multiprocessing.Pipe(duplex=False)
        self._process = multiprocessing.Process(
            target=_serve, args=(self.latency, self.email_rate, child), daemon=True
        )
        self._process.start()
        if not parent.poll(10):
            self._process.terminate()
            raise RuntimeError("fake provider did not start")
        self.url = f"http://127.0.0.1:{parent.recv()}"
        return self

    def __exit__(self, *exc):
        self._process.terminate()
        self._process.join(timeout=5)
