"""Slack webhook and bot senders against a recording server on 127.0.0.1.

slack_sdk talks through urllib, which `responses` does not see, so these tests
start a small local HTTP server instead.
"""

import logging

import pytest

from senders import Outcome, SlackMessage
from senders.slack import SlackBotSender, SlackWebhookSender
from tests.sender_support import (
    LocalServer,
    closed_port_url,
    make_config,
    refuse_remote_connections,
)

BLOCKS = [
    {"type": "header", "text": {"type": "plain_text", "text": "Sales, Fri 4 Dec"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Gross* ₹1,23,456.00"}},
]
REPORT = SlackMessage(text="Daily sales: ₹1,23,456.00", blocks=BLOCKS)
HOOK_PATH = "/services/T000/B000/hooksecret"


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    refuse_remote_connections(monkeypatch)


@pytest.fixture
def server():
    with LocalServer() as running:
        yield running


def webhook(server, **settings):
    return SlackWebhookSender(
        make_config(SLACK_WEBHOOK_URL=server.url + HOOK_PATH, **settings)
    )


def bot(server, **settings):
    values = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_REPORT_CHANNEL": "C0REPORTS",
        "SLACK_API_URL": server.url + "/api/",
    }
    values.update(settings)
    return SlackBotSender(make_config(**values))


# Webhook


def test_webhook_posts_text_and_blocks_as_json(server):
    server.answer(200, b"ok")

    result = webhook(server).send(REPORT)

    assert result.outcome is Outcome.SENT
    (request,) = server.received
    assert request.path == HOOK_PATH
    assert request.headers["Content-Type"] == "application/json;charset=utf-8"
    assert request.json() == {"text": "Daily sales: ₹1,23,456.00", "blocks": BLOCKS}


def test_webhook_sends_no_blocks_key_for_a_text_only_message(server):
    webhook(server).send(SlackMessage(text="Weekly report ready"))

    assert server.received[0].json() == {"text": "Weekly report ready"}


WEBHOOK_ANSWERS = {
    "ok": (200, b"ok", {}, Outcome.SENT, None),
    "invalid blocks": (400, b"invalid_blocks", {}, Outcome.PERMANENT, None),
    "invalid payload": (400, b"invalid_payload", {}, Outcome.PERMANENT, None),
    "webhook revoked": (404, b"no_service", {}, Outcome.PERMANENT, None),
    "channel archived": (410, b"channel_is_archived", {}, Outcome.PERMANENT, None),
    "prohibited": (403, b"action_prohibited", {}, Outcome.PERMANENT, None),
    "rate limited": (
        429,
        b"rate_limited",
        {"Retry-After": "30"},
        Outcome.TRANSIENT,
        30,
    ),
    "slack down": (500, b"rollup_error", {}, Outcome.TRANSIENT, None),
    "unavailable": (503, b"", {}, Outcome.TRANSIENT, None),
}


@pytest.mark.parametrize(
    "status, body, headers, outcome, wait",
    list(WEBHOOK_ANSWERS.values()),
    ids=list(WEBHOOK_ANSWERS),
)
def test_webhook_status_maps_to_outcome(server, status, body, headers, outcome, wait):
    server.answer(status, body, headers)

    result = webhook(server).send(REPORT)

    assert (result.outcome, result.retry_after) == (outcome, wait)
    assert len(server.received) == 1  # the client never retries by itself


def test_webhook_refusal_detail_carries_slacks_reason(server):
    server.answer(400, b"invalid_blocks")

    assert webhook(server).send(REPORT).detail == "slack 400: invalid_blocks"


def test_webhook_connection_refused_is_transient():
    sender = SlackWebhookSender(make_config(SLACK_WEBHOOK_URL=closed_port_url()))

    assert sender.send(REPORT).outcome is Outcome.TRANSIENT


def test_webhook_timeout_is_transient(server):
    server.answer(200, b"ok", delay=1.0)

    result = webhook(server, HTTP_TIMEOUT=0.2).send(REPORT)

    assert result.outcome is Outcome.TRANSIENT


def test_webhook_url_never_reaches_the_logs(server, caplog):
    server.answer(404, b"no_service")

    with caplog.at_level(logging.DEBUG):
        webhook(server).send(REPORT)

    assert "slack: webhook answered 404 no_service" in caplog.text
    assert "hooksecret" not in caplog.text


# Bot token


def test_bot_posts_to_the_report_channel_with_its_token(server):
    server.answer(200, {"ok": True, "channel": "C0REPORTS", "ts": "1733300000.0001"})

    result = bot(server).send(REPORT)

    assert (result.outcome, result.detail) == (Outcome.SENT, "1733300000.0001")
    (request,) = server.received
    assert request.path == "/api/chat.postMessage"
    assert request.headers["Authorization"] == "Bearer xoxb-test-token"
    assert request.json() == {
        "channel": "C0REPORTS",
        "text": "Daily sales: ₹1,23,456.00",
        "blocks": BLOCKS,
    }


BOT_ANSWERS = {
    "posted": (200, {"ok": True, "ts": "1.2"}, {}, Outcome.SENT, None),
    "invalid blocks": (
        200,
        {"ok": False, "error": "invalid_blocks"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "no channel": (
        200,
        {"ok": False, "error": "channel_not_found"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "not in channel": (
        200,
        {"ok": False, "error": "not_in_channel"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "bad token": (
        200,
        {"ok": False, "error": "invalid_auth"},
        {},
        Outcome.PERMANENT,
        None,
    ),
    "rate limited": (
        429,
        {"ok": False, "error": "ratelimited"},
        {"Retry-After": "12"},
        Outcome.TRANSIENT,
        12,
    ),
    "slack internal error": (
        200,
        {"ok": False, "error": "internal_error"},
        {},
        Outcome.TRANSIENT,
        None,
    ),
    "slack unavailable": (
        200,
        {"ok": False, "error": "service_unavailable"},
        {},
        Outcome.TRANSIENT,
        None,
    ),
    "gateway error": (502, b"<html>bad gateway</html>", {}, Outcome.TRANSIENT, None),
}


@pytest.mark.parametrize(
    "status, body, headers, outcome, wait",
    list(BOT_ANSWERS.values()),
    ids=list(BOT_ANSWERS),
)
def test_bot_answer_maps_to_outcome(server, status, body, headers, outcome, wait):
    server.answer(status, body, headers)

    result = bot(server).send(REPORT)

    assert (result.outcome, result.retry_after) == (outcome, wait)
    assert len(server.received) == 1


def test_bot_refusal_detail_carries_the_error_code(server):
    server.answer(200, {"ok": False, "error": "channel_not_found"})

    assert bot(server).send(REPORT).detail == "slack 200: channel_not_found"


def test_bot_connection_refused_is_transient():
    sender = SlackBotSender(
        make_config(
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_REPORT_CHANNEL="C0REPORTS",
            SLACK_API_URL=closed_port_url() + "/api/",
        )
    )

    assert sender.send(REPORT).outcome is Outcome.TRANSIENT


def test_bot_timeout_is_transient(server):
    server.answer(200, {"ok": True, "ts": "1.2"}, delay=1.0)

    result = bot(server, HTTP_TIMEOUT=0.2).send(REPORT)

    assert result.outcome is Outcome.TRANSIENT


def test_bot_token_never_reaches_the_logs(server, caplog):
    server.answer(200, {"ok": False, "error": "invalid_auth"})

    with caplog.at_level(logging.DEBUG):
        bot(server).send(REPORT)

    assert "slack: chat.postMessage answered 200 invalid_auth" in caplog.text
    assert "xoxb-test-token" not in caplog.text
