"""Fake email, push, Slack and heartbeat providers on 127.0.0.1.

One threaded HTTP server stands in for Resend, browser push services, a
Slack webhook, the Slack Web API and Better Stack. It keeps a receipt for
every message it accepts, so that a run can count what reached each
recipient, and it can be told to misbehave: answer 500 at the k-th email
call, 429 with Retry-After, stall a push past the client's timeout, or hold
a call open (after accepting it) until released, for a crash in between.
"""

import base64
import json
import logging
import secrets
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

log = logging.getLogger(__name__)


def b64url(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class Browser:
    """A push subscription's keys, as a browser holds them."""

    token: str  # the last part of the endpoint path
    private_key: object
    auth: bytes

    @classmethod
    def new(cls):
        return cls(
            secrets.token_hex(12),
            ec.generate_private_key(ec.SECP256R1()),
            secrets.token_bytes(16),
        )

    @property
    def p256dh(self):
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    @property
    def auth_key(self):
        return b64url(self.auth)

    def read(self, body):
        """The push's JSON payload, decrypted as the browser would."""
        data = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth
        )
        return data.decode()


@dataclass(frozen=True)
class Receipt:
    channel: str  # email, push, slack, heartbeat
    recipient: str  # email address, push endpoint token, slack target, job
    subject: str  # email subject, push payload, slack text, heartbeat kind
    key: str  # Idempotency-Key header, when there was one
    phase: str


@dataclass
class Faults:
    """What the next calls get instead of a plain 2xx."""

    email_fail_at: set = field(default_factory=set)  # k-th email call -> 500
    email_throttle: int = 0  # the next n email calls -> 429
    retry_after: int = 1
    push_stall: int = 0  # the next n push calls stall, then drop
    stall_seconds: float = 3.0
    hold_email_at: int | None = None  # accept the k-th email call, then hang
    hang_email_at: int | None = None  # hang at the k-th call before accepting
    slow_seconds: float = 0.0  # every accepted call takes this long


class QuietServer(ThreadingHTTPServer):
    """A caller that hangs up (a killed worker, a client timeout) is expected."""

    def handle_error(self, request, client_address):
        log.info("providers: a caller from %s hung up", client_address[0])


class Providers:
    """The server, its receipts and its faults; start() and stop() it."""

    def __init__(self):
        self.lock = threading.Lock()
        self.receipts = []
        self.browsers = {}  # endpoint token -> Browser, to read pushes
        self.faults = Faults()
        self.phase = "-"
        self.email_calls = 0
        self.injected = Counter()  # fault kind -> times it fired
        self.keys = set()  # Idempotency-Keys of accepted email calls
        self.absorbed = 0  # emails a repeated Idempotency-Key kept from going out
        self.held = threading.Event()  # set when a call is being held
        self.release = threading.Event()
        self.server = QuietServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def browser(self):
        """A new subscription's keys and endpoint: (Browser, endpoint URL)."""
        browser = Browser.new()
        self.browsers[browser.token] = browser
        return browser, f"{self.url}/push/{browser.token}"

    def begin(self, phase, **faults):
        """Start counting a new phase, with these faults armed."""
        with self.lock:
            self.phase = phase
            self.faults = Faults(**faults)
            self.email_calls = 0
            self.held.clear()
            self.release.clear()

    def received(self, phase=None, channel=None):
        with self.lock:
            return [
                r
                for r in self.receipts
                if (phase is None or r.phase == phase)
                and (channel is None or r.channel == channel)
            ]

    def duplicates(self, phase):
        """Messages received more than once in a phase: {(channel, recipient,
        subject): times}."""
        counts = Counter(
            (r.channel, r.recipient, r.subject)
            for r in self.received(phase)
            if r.channel != "heartbeat"
        )
        return {identity: n for identity, n in counts.items() if n > 1}

    def _record(self, receipts):
        with self.lock:
            self.receipts.extend(receipts)

    def _seen_key(self, key):
        with self.lock:
            seen = key in self.keys
            self.keys.add(key)
            return seen

    def _next_email_call(self):
        with self.lock:
            self.email_calls += 1
            return self.email_calls


def _handler_for(providers):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            return  # receipts are the record; no access log on stderr

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = self.path.split("?", 1)[0]
            if path.startswith("/resend/"):
                return self._email(path, body)
            if path.startswith("/push/"):
                return self._push(path, body)
            if path.startswith("/slack/"):
                return self._slack(path, body)
            if path.startswith("/heartbeat/"):
                return self._heartbeat(path)
            return self._answer(404, {"message": "no such fake"})

        def _email(self, path, body):
            faults = providers.faults
            call = providers._next_email_call()
            if call in faults.email_fail_at:
                providers.injected["email 500"] += 1
                return self._answer(
                    500, {"name": "internal_server_error", "message": "fake outage"}
                )
            if faults.email_throttle > 0:
                with providers.lock:
                    faults.email_throttle -= 1
                providers.injected["email 429"] += 1
                return self._answer(
                    429,
                    {"name": "rate_limit_exceeded", "message": "slow down"},
                    {"Retry-After": str(faults.retry_after)},
                )
            if faults.hang_email_at == call:
                providers.injected["crash before the provider accepted"] += 1
                providers.held.set()
                providers.release.wait(timeout=60)
                self.close_connection = True
                return
            payload = json.loads(body or b"null")
            emails = payload if isinstance(payload, list) else [payload]
            key = self.headers.get("Idempotency-Key") or ""
            if key and providers._seen_key(key):
                # Resend answers a repeated key with the first answer and sends
                # nothing again (for 24 hours).
                providers.absorbed += len(emails)
                data = [{"id": f"repeat-{i}"} for i in range(len(emails))]
                if path.endswith("/batch"):
                    return self._answer(200, {"data": data})
                return self._answer(200, data[0])
            providers._record(
                Receipt("email", to, e.get("subject", ""), key, providers.phase)
                for e in emails
                for to in e.get("to", [])
            )
            self._slow()
            if faults.hold_email_at == call:
                providers.injected["crash while a send is in flight"] += 1
                providers.held.set()
                providers.release.wait(timeout=60)
            ids = [{"id": str(uuid.uuid4())} for _ in emails]
            if path.endswith("/batch"):
                return self._answer(200, {"data": ids})
            return self._answer(200, ids[0])

        def _push(self, path, body):
            faults = providers.faults
            if faults.push_stall > 0:
                with providers.lock:
                    faults.push_stall -= 1
                providers.injected["push timeout"] += 1
                time.sleep(faults.stall_seconds)
                self.close_connection = True
                return
            token = path.rsplit("/", 1)[-1]
            browser = providers.browsers.get(token)
            try:
                payload = browser.read(body) if browser else ""
            except Exception:  # a push the browser cannot read is refused
                providers.injected["unreadable push"] += 1
                return self._answer(400, {"message": "cannot decrypt"})
            providers._record([Receipt("push", token, payload, "", providers.phase)])
            self._slow()
            return self._answer(201, None)

        def _slack(self, path, body):
            try:
                payload = json.loads(body or b"{}")
            except ValueError:  # the Web API client may send a form
                payload = {}
            text = payload.get("text", "") if isinstance(payload, dict) else ""
            providers._record([Receipt("slack", "report", text, "", providers.phase)])
            if path.startswith("/slack/api/"):
                return self._answer(200, {"ok": True, "ts": str(time.time())})
            return self._answer(200, "ok")

        def _heartbeat(self, path):
            parts = path.strip("/").split("/")
            kind = "fail" if parts[-1] == "fail" else "ok"
            providers._record(
                [Receipt("heartbeat", parts[1], kind, "", providers.phase)]
            )
            return self._answer(200, "OK")

        def _slow(self):
            if providers.faults.slow_seconds:
                time.sleep(providers.faults.slow_seconds)

        def _answer(self, status, payload, headers=None):
            if payload is None:
                data, kind = b"", "text/plain"
            elif isinstance(payload, str):
                data, kind = payload.encode(), "text/plain"
            else:
                data, kind = json.dumps(payload).encode(), "application/json"
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                log.info("providers: caller hung up before the answer")

    return Handler
