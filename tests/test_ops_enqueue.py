"""Enqueueing triggered jobs: `flask jobs enqueue` and ops.enqueue.enqueue."""

import json
from datetime import UTC, datetime

import pytest

from exceptions import ConfigurationError
from ops.enqueue import Enqueued, enqueue, event_id
from ops.qstash import qstash_client
from tests.fake_qstash import TOKEN, FakeQStash

BASE_URL = "https://jobs.example.test"


@pytest.fixture
def fake_qstash():
    with FakeQStash() as fake:
        yield fake


@pytest.fixture
def config_overrides(fake_qstash):
    return {
        "QSTASH_URL": fake_qstash.url,
        "QSTASH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
    }


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["jobs", "enqueue", *args])

    return invoke


def test_enqueue_publishes_after_the_jobs_delay_with_a_deduplication_id(
    cli, fake_qstash
):
    payload = {"bookingId": "bk_8f1c9a2e7d04"}

    result = cli("post-service-followup", "--payload", json.dumps(payload))

    dedup = event_id("post-service-followup", payload)
    assert result.exit_code == 0, result.output
    assert result.output == (
        "post-service-followup: enqueued as msg_000001, due 2026-12-05 15:30 IST "
        f"(dedup id {dedup})\n"
    )
    assert fake_qstash.messages == [
        {
            "messageId": "msg_000001",
            "url": f"{BASE_URL}/api/jobs/post-service-followup",
            "body": '{"bookingId": "bk_8f1c9a2e7d04"}',
            "delay": "86400s",
            "notBefore": None,
            "deduplicationId": dedup,
            "retries": "3",
            "contentType": "application/json",
        }
    ]


def test_the_same_event_enqueued_twice_is_one_message(cli, fake_qstash):
    cli("noshow-check", "--payload", '{"bookingId": "bk_1"}')

    result = cli("noshow-check", "--payload", '{"bookingId": "bk_1"}')

    assert result.exit_code == 0, result.output
    assert result.output.startswith(
        "noshow-check: already enqueued as msg_000001, nothing new"
    )
    assert len(fake_qstash.messages) == 1


def test_events_for_different_records_are_different_messages(cli, fake_qstash):
    cli("noshow-check", "--payload", '{"bookingId": "bk_1"}')
    cli("noshow-check", "--payload", '{"bookingId": "bk_2"}')

    assert [m["body"] for m in fake_qstash.messages] == [
        '{"bookingId": "bk_1"}',
        '{"bookingId": "bk_2"}',
    ]
    assert len({m["deduplicationId"] for m in fake_qstash.messages}) == 2


def test_deduplication_id_ignores_key_order():
    assert event_id("invoice-pdf", {"a": 1, "b": 2}) == event_id(
        "invoice-pdf", {"b": 2, "a": 1}
    )


def test_not_before_replaces_the_delay(cli, fake_qstash):
    result = cli(
        "stale-booking-alert",
        "--payload",
        '{"bookingId": "bk_1"}',
        "--not-before",
        "2026-12-06T09:00",
    )

    assert result.exit_code == 0, result.output
    assert "due 2026-12-06 09:00 IST" in result.output
    due = datetime(2026, 12, 6, 3, 30, tzinfo=UTC)
    assert fake_qstash.messages[0]["notBefore"] == str(int(due.timestamp()))
    assert fake_qstash.messages[0]["delay"] is None


def test_an_explicit_deduplication_id_is_used_as_given(cli, fake_qstash):
    cli("invoice-pdf", "--payload", '{"invoiceId": "inv_1"}', "--dedup-id", "inv_1-v2")

    assert fake_qstash.messages[0]["deduplicationId"] == "inv_1-v2"


def test_invoice_pdf_is_delivered_at_once(cli, fake_qstash):
    result = cli("invoice-pdf", "--payload", '{"invoiceId": "inv_1"}')

    assert "due 2026-12-04 15:30 IST" in result.output
    assert fake_qstash.messages[0]["delay"] is None


def test_python_callers_enqueue_with_the_apps_settings_and_clock(app, fake_qstash):
    with app.app_context():
        result = enqueue("membership-expired-notice", {"membershipId": "mem_1"})

    assert result == Enqueued(
        job="membership-expired-notice",
        message_id="msg_000001",
        deduplicated=False,
        deduplication_id=event_id(
            "membership-expired-notice", {"membershipId": "mem_1"}
        ),
        deliver_at=datetime(2026, 12, 4, 11, 0, tzinfo=UTC),
    )
    assert fake_qstash.messages[0]["delay"] == "3600s"


def test_a_payload_that_is_not_an_object_is_refused(cli, fake_qstash):
    result = cli("noshow-check", "--payload", '["bk_1"]')

    assert result.exit_code == 2
    assert "--payload must be a JSON object" in result.output
    assert fake_qstash.messages == []


def test_an_unknown_job_is_refused(cli, fake_qstash):
    result = cli("no-such-job")

    assert result.exit_code == 2
    assert fake_qstash.messages == []


def test_enqueue_without_a_public_base_url_says_so(app, cli, fake_qstash):
    app.config["PUBLIC_BASE_URL"] = ""

    result = cli("noshow-check", "--payload", '{"bookingId": "bk_1"}')

    assert result.exit_code == 1
    assert "PUBLIC_BASE_URL is not set" in result.output
    assert fake_qstash.messages == []


def test_a_test_cannot_build_a_client_for_the_real_qstash():
    with pytest.raises(ConfigurationError, match="QSTASH_URL"):
        qstash_client({"TESTING": True, "QSTASH_TOKEN": TOKEN, "QSTASH_URL": None})
