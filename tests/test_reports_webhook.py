"""The daily report through the real Slack webhook sender, to a local server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models import NotificationLog
from senders.slack import SlackWebhookSender
from tests import factories as f


class Webhook(BaseHTTPRequestHandler):
    """Answer each POST with the next scripted (status, body); keep the JSON."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self.server.received.append(json.loads(self.rfile.read(length)))
        status, body = self.server.answers.pop(0)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Webhook)
    server.received, server.answers = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_error_answer_fails_the_run_and_the_retry_posts_once(
    app, call_job, clock, senders, webhook
):
    port = webhook.server_address[1]
    senders.slack = SlackWebhookSender(
        {"SLACK_WEBHOOK_URL": f"http://127.0.0.1:{port}/hook", "HTTP_TIMEOUT": 5}
    )
    clock.set(f.at("2026-12-04 22:30"))
    branch = f.branch(name="Indiranagar")
    f.invoice(f.customer(), branch, f.at("2026-12-04 12:00"), "1000.00")
    webhook.answers += [(500, b"internal_error"), (200, b"ok")]

    failed = call_job("daily-sales-report")
    retried = call_job("daily-sales-report")
    again = call_job("daily-sales-report")

    assert [failed.status_code, retried.status_code, again.status_code] == [
        500,
        200,
        200,
    ]
    assert len(webhook.received) == 2
    payload = webhook.received[1]
    assert payload["text"] == (
        "Daily sales report · Fri 4 Dec 2026: ₹1,180.00 gross from "
        "1 paid invoice, 0 completed bookings"
    )
    assert payload["blocks"][0]["text"]["text"] == "Daily sales report · Fri 4 Dec 2026"
    assert "Gross sales: *₹1,180.00*\n" in payload["blocks"][2]["text"]["text"]
    row = NotificationLog.get()
    assert (row.channel, row.status, row.attempts) == ("slack", "sent", 2)
