"""A fake QStash REST API on 127.0.0.1, enough for schedules and publishing.

It keeps schedules and messages in memory, checks the bearer token, answers
in QStash's JSON shapes, and records every request it served.
"""

import itertools
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

TOKEN = "qstash_test_token_not_a_real_one"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    body: str


class FakeQStash:
    """Start with `with FakeQStash() as fake:`; point QSTASH_URL at fake.url."""

    def __init__(self, token=TOKEN):
        self.token = token
        self.schedules = {}  # schedule id -> QStash's schedule JSON
        self.messages = []  # QStash's message JSON, in publish order
        self.requests = []  # Seen
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def add_schedule(self, destination, cron, schedule_id=None, **extra):
        """Put a schedule in place as if someone had created it earlier."""
        with self._lock:
            schedule = self._schedule(schedule_id, destination, cron, extra)
        return schedule["scheduleId"]

    def changes(self):
        """The requests that changed something: ('POST', path) and so on."""
        return [(r.method, r.path) for r in self.requests if r.method != "GET"]

    def _schedule(self, schedule_id, destination, cron, extra):
        schedule_id = schedule_id or f"scd_{next(self._ids):06d}"
        schedule = {
            "scheduleId": schedule_id,
            "destination": destination,
            "cron": cron,
            "createdAt": 1764800000000 + next(self._ids),
            "method": "POST",
            "retries": 3,
            "isPaused": False,
        }
        schedule.update(extra)
        self.schedules[schedule_id] = schedule
        return schedule

    def handle(self, method, path, headers, body):
        """Answer one request: (status, JSON-able body or None)."""
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "invalid token"}
        with self._lock:
            if path == "/v2/schedules" and method == "GET":
                return 200, list(self.schedules.values())
            if path.startswith("/v2/schedules/"):
                return self._schedules(
                    method, path.removeprefix("/v2/schedules/"), headers, body
                )
            if path.startswith("/v2/publish/") and method == "POST":
                return self._publish(path.removeprefix("/v2/publish/"), headers, body)
        return 404, {"error": "not found"}

    def _schedules(self, method, rest, headers, body):
        if method == "POST":
            extra = {"retries": int(headers.get("upstash-retries", "3"))}
            if headers.get("upstash-method"):
                extra["method"] = headers["upstash-method"]
            if body:
                extra["body"] = body
            schedule = self._schedule(
                headers.get("upstash-schedule-id"),
                rest,
                headers["upstash-cron"],
                extra,
            )
            return 201, {"scheduleId": schedule["scheduleId"]}
        if rest not in self.schedules:
            return 404, {"error": "schedule not found"}
        if method == "GET":
            return 200, self.schedules[rest]
        if method == "DELETE":
            del self.schedules[rest]
            return 200, None
        return 405, {"error": "method not allowed"}

    def _publish(self, destination, headers, body):
        dedup = headers.get("upstash-deduplication-id")
        for message in self.messages:
            if dedup and message["deduplicationId"] == dedup:
                return 202, {"messageId": message["messageId"], "deduplicated": True}
        message = {
            "messageId": f"msg_{next(self._ids):06d}",
            "url": destination,
            "body": body,
            "delay": headers.get("upstash-delay"),
            "notBefore": headers.get("upstash-not-before"),
            "deduplicationId": dedup,
            "retries": headers.get("upstash-retries"),
            "contentType": headers.get("content-type"),
        }
        self.messages.append(message)
        return 201, {"messageId": message["messageId"]}


def _handler_for(fake):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = unquote(self.path)
            fake.requests.append(Seen(self.command, path, headers, body))

            status, answer = fake.handle(self.command, path, headers, body)
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = do_PATCH = _serve

        def log_message(self, *args):
            pass

    return Handler
