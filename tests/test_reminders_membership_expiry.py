"""membership-expiry: pushes 30, 7 and 1 IST days before a membership ends."""

from datetime import timedelta
from decimal import Decimal

import pytest

from models import NotificationLog, PushSubscription, SpaMembership
from senders import Outcome, Result
from tests import factories as f
from tests.reminder_support import log_rows

JOB = "membership-expiry"
RUN = "2026-12-05 00:30"  # the job's slot; the UTC date is still 4 December


@pytest.fixture(autouse=True)
def at_half_past_midnight(clock):
    clock.set(f.at(RUN))


def member(name="Priya Sharma", **kw):
    customer = f.customer(name=name, **kw)
    f.push_subscription(customer, endpoint=f"https://push.example.test/{customer.id}")
    return customer


def pushed_ids(senders):
    return sorted(target.endpoint.rsplit("/", 1)[1] for target, _ in senders.push.sent)


@pytest.mark.parametrize(
    "expires, days, title, ends",
    [
        ("2027-01-04 18:00", 30, "Your membership ends in 30 days", "Mon 4 Jan 2027"),
        ("2026-12-12 11:00", 7, "Your membership ends in 7 days", "Sat 12 Dec 2026"),
        ("2026-12-06 20:00", 1, "Your membership ends tomorrow", "Sun 6 Dec 2026"),
    ],
)
def test_owner_is_pushed_30_7_and_1_days_before(
    app, call_job, senders, expires, days, title, ends
):
    customer = member()
    membership = f.membership(
        customer,
        f.at(expires),
        total_hours=Decimal("12.00"),
        used_hours=Decimal("7.50"),
    )

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    [(target, push)] = senders.push.sent
    assert target.endpoint == f"https://push.example.test/{customer.id}"
    assert push.title == title
    assert push.body == (
        f"Priya, your Gold Spa 12 Hours membership ends on {ends}. "
        "You still have 4.5 hours of your 12 hours to use. "
        "Renew to keep your benefits."
    )
    assert push.url == f"https://theroyalglow.in/memberships/{membership.id}"
    key = f"membership-expiry:{membership.id}:{days}:{expires.split()[0]}"
    assert log_rows() == [(key, "push", "sent")]


@pytest.mark.parametrize(
    "used, sentence",
    [
        ("0.00", "You have not used any of your 12 hours yet. "),
        ("11.00", "You still have 1 hour of your 12 hours to use. "),
        ("12.00", ""),
    ],
)
def test_the_push_says_what_is_left_to_use(app, call_job, senders, used, sentence):
    f.membership(
        member(),
        f.at("2026-12-12 11:00"),
        total_hours=Decimal("12.00"),
        used_hours=Decimal(used),
    )

    call_job(JOB)

    [(_, push)] = senders.push.sent
    assert push.body == (
        "Priya, your Gold Spa 12 Hours membership ends on Sat 12 Dec 2026. "
        f"{sentence}Renew to keep your benefits."
    )


@pytest.mark.parametrize(
    "expires, notified",
    [
        ("2026-12-11 23:59", False),  # 6 IST days away
        ("2026-12-12 00:15", True),  # under 7 x 24 h, yet on the 7th IST day
        ("2026-12-12 23:59", True),
        ("2026-12-13 00:00", False),
        ("2026-12-13 23:59", False),  # the 8th day
        ("2026-12-06 00:00", True),
        ("2026-12-05 23:59", False),  # today
        ("2027-01-03 23:59", False),
        ("2027-01-04 00:00", True),
        ("2027-01-05 00:00", False),
    ],
)
def test_days_left_are_counted_in_ist_calendar_dates(
    app, call_job, senders, expires, notified
):
    customer = member()
    f.membership(customer, f.at(expires))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": int(notified)}
    assert pushed_ids(senders) == ([customer.id] if notified else [])


def test_run_at_half_past_midnight_uses_the_ist_date_not_the_utc_one(
    app, call_job, senders, clock
):
    assert clock.now().date().isoformat() == "2026-12-04"
    by_ist = member("Priya Sharma")
    by_utc = member("Rohan Gupta")
    f.membership(by_ist, f.at("2026-12-12 10:00"))  # 5 Dec + 7
    f.membership(by_utc, f.at("2026-12-11 10:00"))  # 4 Dec + 7

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    assert pushed_ids(senders) == [by_ist.id]


@pytest.mark.parametrize("status", ["expired", "cancelled"])
def test_membership_that_is_not_active_gets_nothing(app, call_job, senders, status):
    f.membership(member(), f.at("2026-12-12 10:00"), status=status)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == []


def test_deleted_customer_gets_nothing(app, call_job, senders, clock):
    gone = member(deleted_at=clock.now() - timedelta(days=3))
    f.membership(gone, f.at("2026-12-12 10:00"))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == []
    assert log_rows() == []


def test_second_run_the_same_night_sends_nothing_new(app, call_job, senders, clock):
    f.membership(member(), f.at("2026-12-12 10:00"))
    f.membership(member(), f.at("2026-12-06 10:00"))
    call_job(JOB)
    clock.advance(minutes=5)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert len(senders.push.sent) == 2


def test_renewal_that_moves_the_date_earns_a_new_notice(app, call_job, senders):
    membership = f.membership(member(), f.at("2026-12-12 10:00"))
    call_job(JOB)
    SpaMembership.update(expires_at=f.at("2027-01-04 10:00")).where(
        SpaMembership.id == membership.id
    ).execute()

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    assert [push.title for _, push in senders.push.sent] == [
        "Your membership ends in 7 days",
        "Your membership ends in 30 days",
    ]
    assert [row[0] for row in log_rows()] == [
        f"membership-expiry:{membership.id}:30:2027-01-04",
        f"membership-expiry:{membership.id}:7:2026-12-12",
    ]


def test_fully_used_membership_is_told_only_when_it_ends(app, call_job, senders):
    f.membership(
        member(),
        f.at("2026-12-06 10:00"),
        total_hours=Decimal("10.00"),
        used_hours=Decimal("10.00"),
        plan_name="Silver 10 Hours",
    )

    call_job(JOB)

    [(_, push)] = senders.push.sent
    assert push.body == (
        "Priya, your Silver 10 Hours membership ends on Sun 6 Dec 2026. "
        "Renew to keep your benefits."
    )


def test_one_bad_recipient_never_stops_the_others(app, call_job, senders):
    dead = member("Meera Nair")
    unreachable = f.customer(name="Isha Kapoor")
    fine = member("Rohan Gupta")
    for customer in (dead, unreachable, fine):
        f.membership(customer, f.at("2026-12-12 10:00"))
    senders.push.by_endpoint[f"https://push.example.test/{dead.id}"] = Result(
        Outcome.PERMANENT, "410 Gone", gone=True
    )

    response = call_job(JOB)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 1}
    assert pushed_ids(senders) == [fine.id]
    statuses = {row.recipient_id: row.status for row in NotificationLog.select()}
    assert statuses == {dead.id: "skipped", unreachable.id: "skipped", fine.id: "sent"}
    assert (
        not PushSubscription.select()
        .where(PushSubscription.customer == dead.id)
        .exists()
    )
