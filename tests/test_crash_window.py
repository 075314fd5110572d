"""A delivery that died between claiming its notices and marking them.

Its `notification_log` rows stay `pending` until their lease runs out. A
QStash retry inside the lease must not be answered 2xx as if all were done,
or QStash stops and, for a daily job, nothing runs again with those keys.
`python -m reliability` shows the same with a worker SIGKILLed mid-send.
"""

from datetime import date, timedelta

import pytest

from models import NotificationLog
from tests import factories as f
from tests.conftest import DEFAULT_NOW

# The default clock: Friday 4 December 2026, 15:30 IST.
TODAY = date(2026, 12, 4)


def strand(dedupe_key, channel, recipient_id, seconds_ago=60):
    """The row a dead delivery leaves: claimed, never marked."""
    when = DEFAULT_NOW - timedelta(seconds=seconds_ago)
    return NotificationLog.create(
        dedupe_key=dedupe_key,
        channel=channel,
        type="birthday",
        recipient_type="customer",
        recipient_id=recipient_id,
        status="pending",
        attempts=1,
        created_at=when,
        updated_at=when,
    )


@pytest.fixture
def stranded_birthday(app):
    """Two customers with a birthday today; one's notices held by a dead run."""
    held = f.customer(date_of_birth=date(1990, 12, 4))
    free = f.customer(date_of_birth=date(1991, 12, 4))
    for channel in ("email", "in_app"):
        strand(f"birthday:{held.id}:2026", channel, held.id)
    return held, free


# A 200 here would stop QStash, and the next day's birthday-emails run does
# not select this customer: the notice would be lost.
def test_retry_within_the_lease_of_a_dead_run_is_told_to_come_back(
    call_job, senders, stranded_birthday
):
    held, free = stranded_birthday

    response = call_job("birthday-emails")

    assert [email.to for email in senders.email.sent] == [free.email]
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0


def test_run_after_the_lease_sends_what_the_dead_run_held(
    call_job, senders, stranded_birthday, clock
):
    held, free = stranded_birthday
    call_job("birthday-emails")
    clock.advance(minutes=11)

    response = call_job("birthday-emails")

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 1}
    assert sorted(email.to for email in senders.email.sent) == sorted(
        [held.email, free.email]
    )
    statuses = NotificationLog.select(NotificationLog.status).tuples()
    assert sorted(statuses) == [("sent",)] * 4
