"""Helpers for the sender tests: a recording HTTP server on 127.0.0.1, and a
guard that makes any connection to another host fail the test loudly."""

import json
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import settings
from senders import Email

LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost"}


class RemoteConnectionAttempted(AssertionError):
    """A test tried to reach a host other than 127.0.0.1."""


def refuse_remote_connections(monkeypatch):
    """Let sockets reach 127.0.0.1 only; anything else (DNS included) fails."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOCAL_HOSTS:
            raise RemoteConnectionAttempted(f"DNS lookup of {host!r} in a test")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in LOCAL_HOSTS:
            raise RemoteConnectionAttempted(f"connection to {host!r} in a test")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)


def make_config(**overrides):
    """The service's defaults with a short timeout, then the given settings."""
    config = settings.defaults()
    config["HTTP_TIMEOUT"] = 2.0
    config.update(overrides)
    return config


def make_email(n=1, key=None, **fields):
    """Email number n to guest<n>@example.com, keyed like a reminder."""
    values = {
        "to": f"guest{n}@example.com",
        "subject": f"Your booking {n}",
        "text": f"See you soon {n}\n",
        "html": f"<p>See you soon {n}</p>",
        "idempotency_key": key if key is not None else f"appointment-reminder:{n}",
    }
    values.update(fields)
    return Email(**values)


def new_vapid_key():
    """A fresh VAPID private key, as the raw base64url string operators set."""
    from py_vapid import Vapid
    from py_vapid.utils import b64urlencode

    vapid = Vapid()
    vapid.generate_keys()
    raw = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    return b64urlencode(raw)


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeout tests)


class LocalServer:
    """An HTTP server on 127.0.0.1 that records each request and answers from
    a script (200 "ok" once the script is empty)."""

    def __init__(self):
        self.received = []
        self.answers = deque()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.received.append(
                    Received(
                        "POST", self.path, dict(self.headers), self.rfile.read(length)
                    )
                )
                answer = server.answers.popleft() if server.answers else Answer()
                if answer.delay:
                    time.sleep(answer.delay)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except ConnectionError:
                    pass  # the client timed out and left, as a timeout test wants

            def log_message(self, format, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self):
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, status=200, body=b"ok", headers=None, delay=0.0):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers = {"Content-Type": "application/json", **(headers or {})}
        self.answers.append(Answer(status, body, headers or {}, delay))
        return self

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url():
    """An http URL on 127.0.0.1 where nothing listens: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
