"""membership-usage-nudges: a random few members reminded of their unused hours."""

from datetime import timedelta
from decimal import Decimal

import pytest

from models import NotificationLog, PushSubscription
from senders import Outcome, Result
from tests import factories as f
from tests.reminder_support import log_rows

JOB = "membership-usage-nudges"


@pytest.fixture(autouse=True)
def at_eleven(clock):
    clock.set(f.at("2026-12-04 11:00"))


def member(name="Priya Sharma", used="4.50", **kw):
    customer = f.customer(name=name, **kw)
    f.push_subscription(customer, endpoint=f"https://push.example.test/{customer.id}")
    membership = f.membership(
        customer,
        f.at("2027-03-31 21:00"),
        total_hours=Decimal("12.00"),
        used_hours=Decimal(used),
    )
    return customer, membership


def nudged(customer, membership, when, status="sent"):
    NotificationLog.create(
        dedupe_key=f"usage-nudge:{membership.id}:{when.date().isoformat()}",
        channel="push",
        type="usage-nudge",
        recipient_type="customer",
        recipient_id=customer.id,
        status=status,
        attempts=1,
        created_at=when,
        updated_at=when,
    )


def pushed_to(senders):
    return sorted(t.endpoint.rsplit("/", 1)[1] for t, _ in senders.push.sent)


def test_member_with_unused_hours_is_nudged(app, call_job, senders):
    customer, membership = member()

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    [(target, push)] = senders.push.sent
    assert target.endpoint == f"https://push.example.test/{customer.id}"
    assert push.title == "7.5 hours of spa time waiting for you"
    assert push.body == (
        "Priya, your Gold Spa 12 Hours membership has 7.5 hours left until "
        "Wed 31 Mar 2027. Book a session and make time for yourself."
    )
    assert push.url == f"https://theroyalglow.in/book?membership={membership.id}"
    # Its own tag, so it never replaces an expiry warning on the customer's phone.
    assert push.tag == f"usage-nudge-{membership.id}"
    assert log_rows() == [(f"usage-nudge:{membership.id}:2026-12-04", "push", "sent")]


def test_at_most_20_members_are_picked_and_each_only_once(
    app, call_job, senders, clock
):
    members = [member(f"Member {n}")[0].id for n in range(25)]

    first = call_job(JOB)
    again = call_job(JOB)

    assert first.get_json() == {"success": True, "processed": 20}
    assert again.get_json() == {"success": True, "processed": 0}
    picked = pushed_to(senders)
    assert len(picked) == len(set(picked)) == 20
    assert set(picked) <= set(members)


def test_the_next_day_picks_the_members_not_nudged_yet(app, call_job, senders, clock):
    members = {member(f"Member {n}")[0].id for n in range(25)}
    call_job(JOB)
    first_day = set(pushed_to(senders))
    clock.set(f.at("2026-12-05 11:00"))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 5}
    assert set(pushed_to(senders)) == members
    assert set(pushed_to(senders)) - first_day == members - first_day


@pytest.mark.parametrize("config_overrides", [{"USAGE_NUDGE_LIMIT": 3}])
def test_the_limit_is_configurable(app, call_job, senders, config_overrides):
    for n in range(5):
        member(f"Member {n}")

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 3}
    assert len(senders.push.sent) == 3


def test_member_who_cannot_receive_a_push_is_not_picked(app, call_job, senders):
    customer = f.customer()
    f.membership(customer, f.at("2027-03-31 21:00"))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert log_rows() == []


@pytest.mark.parametrize(
    "ago, status, picked",
    [
        (timedelta(days=6, hours=23), "sent", False),
        (timedelta(days=3), "skipped", False),
        (timedelta(days=7, minutes=1), "sent", True),
        (timedelta(days=2), "failed", True),
    ],
)
def test_member_nudged_in_the_last_7_days_is_left_alone(
    app, call_job, senders, clock, ago, status, picked
):
    customer, membership = member()
    nudged(customer, membership, clock.now() - ago, status=status)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": int(picked)}
    assert pushed_to(senders) == ([customer.id] if picked else [])


def test_nudge_about_another_membership_counts_for_the_owner(
    app, call_job, senders, clock
):
    customer, old = member()
    f.membership(customer, f.at("2027-06-30 21:00"))
    nudged(customer, old, clock.now() - timedelta(days=2))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}


@pytest.mark.parametrize(
    "used, status",
    [
        ("12.00", "active"),
        ("13.00", "active"),
        ("2.00", "expired"),
        ("2.00", "cancelled"),
    ],
)
def test_member_without_hours_to_use_gets_nothing(app, call_job, senders, used, status):
    customer = f.customer()
    f.push_subscription(customer)
    f.membership(
        customer,
        f.at("2027-03-31 21:00"),
        total_hours=Decimal("12.00"),
        used_hours=Decimal(used),
        status=status,
    )

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == []


def test_deleted_customer_gets_nothing(app, call_job, senders, clock):
    member(deleted_at=clock.now() - timedelta(days=1))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == []


def test_owner_of_two_memberships_gets_one_nudge_about_the_one_ending_first(
    app, call_job, senders
):
    customer, later = member()
    sooner = f.membership(
        customer,
        f.at("2027-01-15 21:00"),
        plan_name="Silver 6 Hours",
        total_hours=Decimal("6.00"),
        used_hours=Decimal("5.00"),
    )

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    [(_, push)] = senders.push.sent
    assert push.title == "1 hour of spa time waiting for you"
    assert push.body.startswith("Priya, your Silver 6 Hours membership has 1 hour left")
    assert log_rows() == [(f"usage-nudge:{sooner.id}:2026-12-04", "push", "sent")]
    assert later.id not in push.url


@pytest.mark.parametrize("config_overrides", [{"USAGE_NUDGE_LIMIT": 2}])
def test_retry_after_a_transient_failure_resends_that_nudge_first(
    app, call_job, senders, config_overrides
):
    for n in range(4):
        member(f"Member {n}")
    senders.push.script.then(Result(Outcome.TRANSIENT, "503"))

    failed = call_job(JOB)
    [failed_for] = [
        row.recipient_id
        for row in NotificationLog.select().where(NotificationLog.status == "failed")
    ]
    delivered_first = pushed_to(senders)
    retried = call_job(JOB)

    assert failed.status_code == 500
    assert retried.get_json() == {"success": True, "processed": 1}
    assert len(delivered_first) == 1
    assert pushed_to(senders) == sorted(delivered_first + [failed_for])


def test_one_bad_recipient_never_stops_the_others(app, call_job, senders):
    dead, _ = member("Meera Nair")
    fine, _ = member("Rohan Gupta")
    gone = f"https://push.example.test/{dead.id}"
    senders.push.by_endpoint[gone] = Result(Outcome.PERMANENT, "410 Gone", gone=True)

    response = call_job(JOB)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 1}
    assert pushed_to(senders) == [fine.id]
    assert (
        not PushSubscription.select().where(PushSubscription.endpoint == gone).exists()
    )
