"""No key, token, signature, full email address or push endpoint is ever
logged, answered or stored as an error.

The real senders talk to the fake providers of reliability/providers.py on
127.0.0.1, with secret-looking keys configured, while the providers fail in
every way they can; then everything the service wrote down is scanned.
"""

import logging
import secrets

import pytest

from jobs.catalog import JOBS
from models import JobRun, NotificationLog
from reliability.harness import vapid_key
from reliability.providers import Providers
from settings import heartbeat_setting
from tests import factories as f
from tests.qstash_tokens import BASE, CURRENT_KEY, NEXT_KEY, make_token

RESEND_KEY = "re_" + secrets.token_hex(16)
SLACK_SECRET = "B0SECRET/" + secrets.token_hex(12)
HEARTBEAT_TOKEN = "hb" + secrets.token_hex(10)


VAPID_KEY = vapid_key()


@pytest.fixture
def providers():
    fake = Providers().start()
    yield fake
    fake.stop()


# At DEBUG, urllib3 would log every request's path (heartbeat URLs carry their
# token, push endpoints are the subscription's secret) and peewee every
# query's parameters; logs.configure keeps those libraries at INFO.
@pytest.fixture(params=["INFO", "DEBUG"])
def log_level(request):
    return request.param


@pytest.fixture
def config_overrides(providers, log_level):
    config = {
        "SENDERS": None,  # build the real senders from this configuration
        "RESEND_API_KEY": RESEND_KEY,
        "RESEND_API_URL": f"{providers.url}/resend",
        "VAPID_PRIVATE_KEY": VAPID_KEY,
        "VAPID_SUBJECT": "mailto:ops@theroyalglow.in",
        "SLACK_WEBHOOK_URL": f"{providers.url}/slack/webhook/T0/{SLACK_SECRET}",
        "HTTP_TIMEOUT": 0.5,
        "LOG_LEVEL": log_level,
    }
    for spec in JOBS:
        url = f"{providers.url}/heartbeat/{spec.name}/{HEARTBEAT_TOKEN}"
        config[heartbeat_setting(spec.name)] = url
    return config


@pytest.fixture
def people(app, providers):
    """Three customers due a 1 h reminder, each with a browser, and a report
    recipient."""
    branch = f.branch()
    found = []
    for _ in range(3):
        customer = f.customer(email=f"{secrets.token_hex(5)}@gmail.test")
        browser, endpoint = providers.browser()
        f.push_subscription(
            customer, endpoint=endpoint, p256dh=browser.p256dh, auth=browser.auth_key
        )
        f.booking(customer, branch, f.at("2026-12-04 16:00"))
        found.append((customer.email, endpoint))
    recipient = f.report_recipient(email=f"{secrets.token_hex(5)}@theroyalglow.in")
    found.append((recipient.email, None))
    return found


def secrets_in(text, people, tokens):
    """Every secret that appears in `text`."""
    candidates = [
        CURRENT_KEY,
        NEXT_KEY,
        RESEND_KEY,
        VAPID_KEY,
        SLACK_SECRET,
        HEARTBEAT_TOKEN,
        *tokens,
        *(token.rsplit(".", 1)[-1] for token in tokens),
    ]
    for address, endpoint in people:
        candidates.append(address)
        if endpoint:
            candidates += [endpoint, endpoint.rsplit("/", 1)[-1]]
    return [secret for secret in candidates if secret and secret in text]


def stored_errors():
    errors = NotificationLog.select(NotificationLog.last_error).tuples()
    runs = JobRun.select(JobRun.error).tuples()
    return "\n".join(text for (text,) in [*errors, *runs] if text)


def test_failing_providers_leave_no_secret_in_logs_answers_or_errors(
    client, providers, people, caplog, log_level
):
    tokens, answers = [], []

    def call(name, body=b"", key=CURRENT_KEY, url=None):
        token = make_token(url or f"{BASE}/api/jobs/{name}", body, key=key)
        tokens.append(token)
        response = client.post(
            f"/api/jobs/{name}", data=body, headers={"Upstash-Signature": token}
        )
        answers.append(response.get_data(as_text=True))
        return response

    with caplog.at_level(log_level):
        providers.begin("secrets", email_fail_at={1}, push_stall=3, stall_seconds=1)
        first = call("appointment-reminders")
        providers.begin("secrets", email_throttle=1)
        second = call("appointment-reminders")
        providers.begin("secrets")
        third = call("appointment-reminders")
        report = call("daily-sales-report", key=NEXT_KEY)
        rejected = [
            call("appointment-reminders", key="guessed-signing-key-000000000000"),
            call("daily-sales-report", url=f"{BASE}/api/jobs/birthday-emails"),
        ]

    # The 429 is waited out within the second delivery (its Retry-After fits
    # the time budget), so only the 500 needs QStash's retry.
    assert [first.status_code, second.status_code, third.status_code] == [
        500,
        200,
        200,
    ]
    assert report.status_code == 200
    assert [r.status_code for r in rejected] == [401, 401]
    assert providers.injected["email 500"] >= 1
    assert providers.injected["email 429"] >= 1
    assert providers.injected["push timeout"] == 3
    assert {r.recipient for r in providers.received("secrets", "email")} == {
        address for address, _ in people
    }
    assert secrets_in(caplog.text, people, tokens) == []
    assert secrets_in("\n".join(answers), people, tokens) == []
    assert secrets_in(stored_errors(), people, tokens) == []
    assert "resend answered 500" in caplog.text
    assert "timed out" in caplog.text


def test_scan_finds_a_secret_that_is_logged(caplog):
    token = make_token(f"{BASE}/api/jobs/session-cleanup")
    people = [("meera.k@gmail.test", "http://127.0.0.1:9/push/abc123def456")]

    with caplog.at_level(logging.INFO):
        logging.getLogger("leaky").info(
            "sent to %s at /push/abc123def456 with %s", people[0][0], token
        )

    assert secrets_in(caplog.text, people, [token]) == [
        token,
        token.rsplit(".", 1)[-1],
        "meera.k@gmail.test",
        "abc123def456",
    ]
