"""build_senders: which provider each setting picks, without any network call."""

import pytest
import responses

from senders import Outcome, PushMessage, PushTarget, SlackMessage, build_senders
from senders.base import NullEmailSender, NullPushSender, NullSlackSender
from senders.email import BrevoSender, ResendSender
from senders.push import WebPushSender
from senders.slack import SlackBotSender, SlackWebhookSender
from tests.sender_support import make_config, new_vapid_key, refuse_remote_connections
from tests.sender_support import make_email as email


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    refuse_remote_connections(monkeypatch)


@pytest.fixture(autouse=True)
def no_http():
    """Any HTTP call through requests fails the test."""
    with responses.RequestsMock() as mock:
        yield mock
    assert len(mock.calls) == 0


@pytest.fixture(scope="module")
def vapid_key():
    return new_vapid_key()


EMAIL_CHOICES = {
    "both keys": ({"RESEND_API_KEY": "re_1", "BREVO_API_KEY": "xkeysib"}, ResendSender),
    "resend only": ({"RESEND_API_KEY": "re_1"}, ResendSender),
    "brevo only": ({"BREVO_API_KEY": "xkeysib"}, BrevoSender),
    "neither": ({}, NullEmailSender),
}


@pytest.mark.parametrize(
    "settings, kind", list(EMAIL_CHOICES.values()), ids=list(EMAIL_CHOICES)
)
def test_email_provider_prefers_resend_over_brevo(settings, kind):
    senders = build_senders(make_config(**settings))

    assert type(senders.email) is kind


SLACK_CHOICES = {
    "webhook and bot": (
        {
            "SLACK_WEBHOOK_URL": "https://hooks.slack.test/services/x",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_REPORT_CHANNEL": "C1",
        },
        SlackWebhookSender,
    ),
    "bot with channel": (
        {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_REPORT_CHANNEL": "C1"},
        SlackBotSender,
    ),
    "bot without channel": ({"SLACK_BOT_TOKEN": "xoxb-1"}, NullSlackSender),
    "channel without bot": ({"SLACK_REPORT_CHANNEL": "C1"}, NullSlackSender),
    "nothing": ({}, NullSlackSender),
}


@pytest.mark.parametrize(
    "settings, kind", list(SLACK_CHOICES.values()), ids=list(SLACK_CHOICES)
)
def test_slack_prefers_the_webhook_over_the_bot(settings, kind):
    senders = build_senders(make_config(**settings))

    assert type(senders.slack) is kind


def test_push_needs_a_vapid_key(vapid_key):
    configured = build_senders(
        make_config(VAPID_PRIVATE_KEY=vapid_key, VAPID_SUBJECT="mailto:a@b.in")
    )
    unconfigured = build_senders(make_config(VAPID_SUBJECT="mailto:a@b.in"))

    assert type(configured.push) is WebPushSender
    assert type(unconfigured.push) is NullPushSender


def test_with_no_keys_every_sender_is_a_logging_noop(caplog):
    senders = build_senders(make_config())

    with caplog.at_level("INFO", logger="senders"):
        results = [
            senders.email.send(email(1)),
            *senders.email.send_many([email(2), email(3)]),
            senders.push.send(
                PushTarget("ps_1", "https://p.test/1", "k", "a"),
                PushMessage("Hi", "there", "/"),
            ),
            senders.slack.send(SlackMessage("Daily sales")),
        ]

    assert [r.outcome for r in results] == [Outcome.NOOP] * 5
    assert not any(s.configured for s in (senders.email, senders.push, senders.slack))
    assert "email: not configured, skipped 'Your booking 1'" in caplog.text
    assert "push: not configured, skipped 'Hi'" in caplog.text
    assert "slack: not configured, skipped 'Daily sales'" in caplog.text
