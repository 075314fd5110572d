"""The time budget: past it a job starts no new sends and answers 503 with
Retry-After; the next delivery sends the rest and nothing twice.

The provider here is slow on a clock of the test's own: each email call moves
the budget's timer forward, so the budget runs out at a known point without
the test waiting or timing anything.
"""

import functools
from datetime import timedelta

import pytest

import blueprints.jobs
from jobs.context import Budget
from models import JobRun, NotificationLog
from senders import Senders
from tests import factories as f
from tests.fakes import (
    RecordingEmail,
    RecordingHeartbeat,
    RecordingPush,
    RecordingSlack,
)

JOB = "appointment-reminders"
SECONDS_PER_EMAIL_CALL = 0.6


class FakeTimer:
    """A monotonic clock that moves only when the slow provider takes its time."""

    def __init__(self):
        self.seconds = 1000.0

    def __call__(self):
        return self.seconds

    def advance(self, seconds):
        self.seconds += seconds


class SlowEmail(RecordingEmail):
    """Two emails a call, each call taking SECONDS_PER_EMAIL_CALL on the timer."""

    batch_size = 2

    def __init__(self, timer):
        super().__init__()
        self.timer = timer

    def send_many(self, emails):
        self.timer.advance(SECONDS_PER_EMAIL_CALL)
        return super().send_many(emails)


@pytest.fixture
def timer(monkeypatch):
    timer = FakeTimer()
    monkeypatch.setattr(
        blueprints.jobs, "Budget", functools.partial(Budget, timer=timer)
    )
    return timer


@pytest.fixture
def senders(timer):
    return Senders(
        email=SlowEmail(timer),
        push=RecordingPush(),
        slack=RecordingSlack(),
        heartbeat=RecordingHeartbeat(),
        invoicing=None,
    )


@pytest.fixture
def config_overrides():
    return {"JOB_TIME_BUDGET": 1.0, "RETRY_AFTER_SECONDS": 45}


@pytest.fixture
def customers(app, clock):
    """Five customers, each with a browser and a booking starting in 45 minutes."""
    branch = f.branch()
    start = clock.now() + timedelta(minutes=45)
    people = []
    for n in range(1, 6):
        customer = f.customer(id=f"cus_budget_{n}", email=f"guest{n}@example.com")
        f.push_subscription(customer, endpoint=f"https://push.example.test/guest{n}")
        f.booking(customer, branch, start, id=f"bk_budget_{n}")
        people.append(customer)
    return people


def emails_to(senders):
    return sorted(email.to for email in senders.email.sent)


def pushes_to(senders):
    return sorted(target.endpoint.rsplit("/", 1)[1] for target, _ in senders.push.sent)


def log_rows():
    Log = NotificationLog
    query = Log.select(
        Log.recipient_id, Log.channel, Log.status, Log.attempts, Log.last_error
    ).order_by(Log.recipient_id, Log.channel)
    return list(query.tuples())


def test_run_past_its_budget_answers_503_and_the_next_delivery_sends_the_rest(
    call_job, senders, customers
):
    first = call_job(JOB)

    assert first.status_code == 503
    assert first.headers["Retry-After"] == "45"
    assert first.data == b"Time budget spent"
    assert emails_to(senders) == [f"guest{n}@example.com" for n in (1, 2, 3, 4)]
    assert pushes_to(senders) == [f"guest{n}" for n in (1, 2, 3, 4, 5)]
    assert log_rows() == [
        *[
            row
            for n in (1, 2, 3, 4)
            for row in (
                (f"cus_budget_{n}", "email", "sent", 1, None),
                (f"cus_budget_{n}", "push", "sent", 1, None),
            )
        ],
        ("cus_budget_5", "email", "failed", 0, "deferred: time budget spent"),
        ("cus_budget_5", "push", "sent", 1, None),
    ]
    assert [(run.outcome, run.processed) for run in JobRun.select()] == [
        ("deferred", None)
    ]
    assert senders.heartbeat.pings == []

    second = call_job(JOB)

    assert second.status_code == 200
    assert second.get_json() == {"success": True, "processed": 1}
    assert emails_to(senders) == [f"guest{n}@example.com" for n in range(1, 6)]
    assert pushes_to(senders) == [f"guest{n}" for n in range(1, 6)]
    assert {
        (channel, status, attempts) for _, channel, status, attempts, _ in log_rows()
    } == {
        ("email", "sent", 1),
        ("push", "sent", 1),
    }
    assert len(log_rows()) == 10
    assert senders.heartbeat.pings == [(JOB, False)]


def test_delivery_after_everything_was_sent_sends_nothing(call_job, senders, customers):
    call_job(JOB)
    call_job(JOB)

    third = call_job(JOB)

    assert third.status_code == 200
    assert third.get_json() == {"success": True, "processed": 0}
    assert len(senders.email.sent) == 5
    assert len(senders.push.sent) == 5


@pytest.mark.parametrize(
    "config_overrides", [{"JOB_TIME_BUDGET": 0.0, "RETRY_AFTER_SECONDS": 30}]
)
def test_budget_spent_before_the_first_send_claims_nothing(
    app, call_job, senders, customers
):
    first = call_job(JOB)

    assert first.status_code == 503
    assert first.headers["Retry-After"] == "30"
    assert senders.email.sent == []
    assert senders.push.sent == []
    assert log_rows() == []

    app.config["JOB_TIME_BUDGET"] = 20.0
    second = call_job(JOB)

    assert second.status_code == 200
    assert second.get_json() == {"success": True, "processed": 5}
    assert emails_to(senders) == [f"guest{n}@example.com" for n in range(1, 6)]
    assert pushes_to(senders) == [f"guest{n}" for n in range(1, 6)]


@pytest.mark.parametrize(
    "config_overrides",
    [{"JOB_TIME_BUDGET": 1.0, "RETRY_AFTER_SECONDS": 45, "NOTIFY_CHUNK_SIZE": 2}],
)
def test_chunks_after_the_budget_are_left_unclaimed_for_the_next_delivery(
    call_job, senders, customers
):
    first = call_job(JOB)

    assert first.status_code == 503
    assert emails_to(senders) == [f"guest{n}@example.com" for n in (1, 2, 3, 4)]
    assert pushes_to(senders) == [f"guest{n}" for n in (1, 2, 3, 4)]
    assert {recipient for recipient, *_ in log_rows()} == {
        f"cus_budget_{n}" for n in (1, 2, 3, 4)
    }

    second = call_job(JOB)

    assert second.status_code == 200
    assert second.get_json() == {"success": True, "processed": 1}
    assert emails_to(senders) == [f"guest{n}@example.com" for n in range(1, 6)]
    assert pushes_to(senders) == [f"guest{n}" for n in range(1, 6)]
