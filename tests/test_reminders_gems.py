"""gems-expiry-reminder: one push per customer with the unspent gems expiring."""

from datetime import timedelta

import pytest

from senders import Outcome, Result
from tests import factories as f
from tests.reminder_support import log_rows

JOB = "gems-expiry-reminder"
EXPIRY = "2026-12-11"  # 7 IST days after the run


@pytest.fixture(autouse=True)
def at_half_past_ten(clock):
    clock.set(f.at("2026-12-04 10:30"))


def holder(name="Priya Sharma", **kw):
    customer = f.customer(name=name, **kw)
    f.push_subscription(customer, endpoint=f"https://push.example.test/{customer.id}")
    return customer


def earn(customer, amount, expires):
    expires_at = f.at(expires)
    return f.gems(
        customer,
        "earned",
        amount,
        expires_at - timedelta(days=365),
        expires_at=expires_at,
    )


def redeem(customer, amount, when="2026-06-01 12:00"):
    return f.gems(customer, "redeemed", -amount, f.at(when))


def test_only_the_unspent_part_of_the_expiring_lot_is_announced(app, call_job, senders):
    customer = holder()
    earn(customer, 100, f"{EXPIRY} 11:00")
    earn(customer, 50, "2027-03-01 11:00")
    redeem(customer, 60)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    [(target, push)] = senders.push.sent
    assert target.endpoint == f"https://push.example.test/{customer.id}"
    assert push.title == "40 gems expire in 7 days"
    assert push.body == (
        "Priya, 40 gems in your account expire on Fri 11 Dec 2026. "
        "Redeem them on your next visit."
    )
    assert push.url == "https://theroyalglow.in/gems"
    assert log_rows() == [(f"gems-expiry:{customer.id}:{EXPIRY}", "push", "sent")]


def test_lots_expiring_the_same_ist_day_make_one_message_with_the_total(
    app, call_job, senders
):
    customer = holder()
    earn(customer, 30, f"{EXPIRY} 00:15")  # under 7 x 24 h away, same IST date
    earn(customer, 45, f"{EXPIRY} 23:50")
    earn(customer, 200, "2026-12-12 00:00")  # the day after

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    [(_, push)] = senders.push.sent
    assert push.title == "75 gems expire in 7 days"


@pytest.mark.parametrize(
    "expires", ["2026-12-10 23:59", "2026-12-12 00:00", "2026-12-04 12:00"]
)
def test_lot_expiring_on_another_ist_day_is_not_announced(
    app, call_job, senders, expires
):
    earn(holder(), 100, expires)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == []


def test_spent_lot_gets_nothing(app, call_job, senders):
    customer = holder()
    earn(customer, 100, f"{EXPIRY} 11:00")
    earn(customer, 50, "2027-03-01 11:00")
    redeem(customer, 120)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == [] and log_rows() == []


def test_one_gem_reads_in_the_singular(app, call_job, senders):
    customer = holder()
    earn(customer, 10, f"{EXPIRY} 11:00")
    redeem(customer, 9)

    call_job(JOB)

    [(_, push)] = senders.push.sent
    assert push.title == "1 gem expires in 7 days"
    assert push.body == (
        "Priya, 1 gem in your account expires on Fri 11 Dec 2026. "
        "Redeem it on your next visit."
    )


def test_each_customer_gets_their_own_total(app, call_job, senders):
    priya = holder("Priya Sharma")
    rohan = holder("Rohan Gupta")
    earn(priya, 100, f"{EXPIRY} 11:00")
    earn(rohan, 25, f"{EXPIRY} 18:00")
    redeem(rohan, 5)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 2}
    assert sorted((t.endpoint, m.title) for t, m in senders.push.sent) == sorted(
        [
            (f"https://push.example.test/{priya.id}", "100 gems expire in 7 days"),
            (f"https://push.example.test/{rohan.id}", "20 gems expire in 7 days"),
        ]
    )


def test_deleted_customer_gets_nothing(app, call_job, senders, clock):
    gone = holder(deleted_at=clock.now() - timedelta(days=2))
    earn(gone, 100, f"{EXPIRY} 11:00")

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == [] and log_rows() == []


def test_second_run_the_same_day_sends_nothing_new(app, call_job, senders, clock):
    earn(holder(), 100, f"{EXPIRY} 11:00")
    call_job(JOB)
    clock.advance(hours=3)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert len(senders.push.sent) == 1


def test_one_bad_recipient_never_stops_the_others(app, call_job, senders):
    dead = holder("Meera Nair")
    unreachable = f.customer(name="Isha Kapoor")
    fine = holder("Rohan Gupta")
    for customer in (dead, unreachable, fine):
        earn(customer, 100, f"{EXPIRY} 11:00")
    senders.push.by_endpoint[f"https://push.example.test/{dead.id}"] = Result(
        Outcome.PERMANENT, "410 Gone", gone=True
    )

    response = call_job(JOB)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 1}
    assert [t.endpoint for t, _ in senders.push.sent] == [
        f"https://push.example.test/{fine.id}"
    ]
    statuses = {row[0].split(":")[1]: row[2] for row in log_rows()}
    assert statuses == {dead.id: "skipped", unreachable.id: "skipped", fine.id: "sent"}
