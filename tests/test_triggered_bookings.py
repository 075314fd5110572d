"""stale-booking-alert and noshow-check: receptionists alerted, state re-read."""

from datetime import timedelta

import pytest

import jobs.triggered
from models import Booking
from senders import Outcome, Result
from tests import factories as f
from tests.triggered_support import log_rows


@pytest.fixture
def desk(clock):
    """A branch, its customer, and the staff around it.

    Two receptionists get alerts: the branch's own and one with no branch.
    An inactive one, one of another branch and a manager do not.
    """
    branch = f.branch(name="Koramangala")
    other = f.branch(name="Whitefield")
    staff = {
        "own": f.staff(branch, id="stf_own", name="Ananya Iyer"),
        "roaming": f.staff(None, id="stf_roam", name="Kavya Rao"),
        "inactive": f.staff(branch, id="stf_gone", is_active=False),
        "elsewhere": f.staff(other, id="stf_else"),
        "manager": f.staff(branch, id="stf_mgr", role="manager"),
    }
    for person in staff.values():
        f.push_subscription(person, endpoint=f"https://push.example.test/{person.id}")
    customer = f.customer(id="cus_priya", name="Priya Sharma", email="priya@x.in")
    f.push_subscription(customer, endpoint="https://push.example.test/cus_priya")
    service = f.service(name="Swedish Massage (60 min)")
    return {"branch": branch, "customer": customer, "service": service, **staff}


def pending(desk, clock, age, **kw):
    """A pending booking created `age` before now, for tomorrow 11:00 IST."""
    return f.booking(
        desk["customer"],
        desk["branch"],
        f.at("2026-12-05 11:00"),
        service=desk["service"],
        status="pending",
        created_at=clock.now() - age,
        **kw,
    )


def pushed_to(senders):
    return sorted(target.endpoint.rsplit("/", 1)[1] for target, _ in senders.push.sent)


def test_young_pending_booking_alerts_the_branch_receptionists(
    call_job, senders, desk, clock
):
    booking = pending(desk, clock, timedelta(hours=2))

    response = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert response.status_code == 200
    assert response.get_json() == {
        "success": True,
        "action": "alerted",
        "notified": 2,
    }
    assert pushed_to(senders) == ["stf_own", "stf_roam"]
    message = senders.push.sent[0][1]
    assert message.title == "Booking waiting for confirmation"
    assert message.body == (
        "Priya Sharma's Swedish Massage (60 min) on Sat 5 Dec, 11:00 AM at "
        "Koramangala is still pending. Confirm or decline it."
    )
    assert message.url == f"https://admin.theroyalglow.in/bookings/{booking.id}"
    assert senders.email.sent == []
    assert Booking.get_by_id(booking.id).status == "pending"
    assert log_rows() == [
        (f"stale-booking:{booking.id}:alerted:stf_own", "push", "sent", "stf_own"),
        (f"stale-booking:{booking.id}:alerted:stf_roam", "push", "sent", "stf_roam"),
    ]
    assert senders.heartbeat.pings == [("stale-booking-alert", False)]


def test_receptionist_without_a_push_subscription_is_not_counted(
    call_job, senders, desk, clock
):
    f.staff(desk["branch"], id="stf_nopush")
    booking = pending(desk, clock, timedelta(hours=2))

    response = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert response.get_json()["notified"] == 2
    assert (
        f"stale-booking:{booking.id}:alerted:stf_nopush",
        "push",
        "skipped",
        "stf_nopush",
    ) in log_rows()


def test_second_delivery_of_an_alert_sends_nothing_more(call_job, senders, desk, clock):
    booking = pending(desk, clock, timedelta(hours=2))
    call_job("stale-booking-alert", {"bookingId": booking.id})

    again = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert again.get_json() == {"success": True, "action": "alerted", "notified": 0}
    assert len(senders.push.sent) == 2


def test_booking_pending_over_24_hours_is_rejected_and_the_customer_told(
    call_job, senders, desk, clock
):
    booking = pending(desk, clock, timedelta(hours=24, minutes=1))

    response = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert response.get_json() == {
        "success": True,
        "action": "rejected",
        "notified": 1,
    }
    row = Booking.get_by_id(booking.id)
    assert (row.status, row.status_reason, row.updated_at) == (
        "rejected",
        "Auto-rejected: not confirmed within 24 hours",
        clock.now(),
    )
    assert pushed_to(senders) == ["cus_priya"]
    push = senders.push.sent[0][1]
    assert push.title == "Booking not confirmed"
    assert push.body == (
        "Sorry, Priya: your Swedish Massage (60 min) at Koramangala on "
        "Sat 5 Dec, 11:00 AM could not be confirmed. Please pick another slot."
    )
    [email] = senders.email.sent
    assert email.to == "priya@x.in"
    assert email.subject == (
        "Your booking at The Royal Glow Koramangala could not be confirmed"
    )
    assert "Branch:  Koramangala" in email.text
    assert "When:    Sat 5 Dec, 11:00 AM (IST)" in email.text
    assert "Book another slot: https://theroyalglow.in/book" in email.text
    assert "Koramangala" in email.html
    key = f"stale-booking:{booking.id}:rejected:cus_priya"
    assert email.idempotency_key == key
    assert log_rows() == [
        (key, "email", "sent", "cus_priya"),
        (key, "push", "sent", "cus_priya"),
    ]


def test_booking_pending_exactly_24_hours_is_only_alerted(
    call_job, senders, desk, clock
):
    booking = pending(desk, clock, timedelta(hours=24))

    response = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert response.get_json()["action"] == "alerted"
    assert Booking.get_by_id(booking.id).status == "pending"


@pytest.mark.parametrize(
    "status", ["confirmed", "completed", "cancelled", "rejected", "no_show"]
)
def test_booking_no_longer_pending_is_left_alone(
    call_job, senders, desk, clock, status
):
    booking = pending(desk, clock, timedelta(hours=30))
    Booking.update(status=status).where(Booking.id == booking.id).execute()

    response = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert response.get_json() == {"success": True, "action": "none", "notified": 0}
    assert Booking.get_by_id(booking.id).status == status
    assert senders.push.sent == [] and senders.email.sent == []
    assert log_rows() == []


def test_confirmation_landing_between_read_and_reject_wins(
    call_job, senders, desk, clock, monkeypatch
):
    booking = pending(desk, clock, timedelta(hours=30))
    read = jobs.triggered._booking

    def read_then_confirmed_by_the_desk(booking_id):
        found = read(booking_id)
        Booking.update(status="confirmed").where(Booking.id == booking_id).execute()
        return found

    monkeypatch.setattr(jobs.triggered, "_booking", read_then_confirmed_by_the_desk)

    response = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert response.get_json() == {"success": True, "action": "none", "notified": 0}
    row = Booking.get_by_id(booking.id)
    assert (row.status, row.status_reason) == ("confirmed", None)
    assert senders.push.sent == [] and senders.email.sent == []


def test_retry_after_a_failed_rejection_email_sends_only_the_email(
    call_job, senders, desk, clock
):
    booking = pending(desk, clock, timedelta(hours=30))
    senders.email.script.then(Result(Outcome.TRANSIENT, "503 from provider"))

    first = call_job("stale-booking-alert", {"bookingId": booking.id})
    retry = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert first.status_code == 500
    assert retry.get_json() == {"success": True, "action": "none", "notified": 1}
    assert [e.to for e in senders.email.sent] == ["priya@x.in"]
    assert pushed_to(senders) == ["cus_priya"]
    assert Booking.get_by_id(booking.id).status == "rejected"
    assert {status for _, _, status, _ in log_rows()} == {"sent"}


def test_rejection_of_a_deleted_customers_booking_notifies_nobody(
    call_job, senders, desk, clock
):
    booking = pending(desk, clock, timedelta(hours=30))
    desk["customer"].deleted_at = clock.now() - timedelta(days=1)
    desk["customer"].save()

    response = call_job("stale-booking-alert", {"bookingId": booking.id})

    assert response.get_json() == {
        "success": True,
        "action": "rejected",
        "notified": 0,
    }
    assert Booking.get_by_id(booking.id).status == "rejected"
    assert senders.push.sent == [] and senders.email.sent == []


def ended(desk, clock, minutes_ago, status="confirmed"):
    """A booking of 60 minutes whose end was `minutes_ago` before now."""
    end = clock.now() - timedelta(minutes=minutes_ago)
    return f.booking(
        desk["customer"],
        desk["branch"],
        end - timedelta(minutes=60),
        service=desk["service"],
        status=status,
    )


def test_confirmed_booking_past_its_end_alerts_receptionists(
    call_job, senders, desk, clock
):
    booking = ended(desk, clock, minutes_ago=15)
    before = Booking.get_by_id(booking.id)

    response = call_job("noshow-check", {"bookingId": booking.id})

    assert response.get_json() == {"success": True, "notified": 2}
    assert pushed_to(senders) == ["stf_own", "stf_roam"]
    message = senders.push.sent[0][1]
    assert message.title == "Did the customer come?"
    assert message.body == (
        "Priya Sharma's Swedish Massage (60 min) at Koramangala ended at "
        "Fri 4 Dec, 3:15 PM and is still confirmed. Mark it completed or a no-show."
    )
    after = Booking.get_by_id(booking.id)
    assert (after.status, after.updated_at, after.status_reason) == (
        "confirmed",
        before.updated_at,
        None,
    )
    assert log_rows() == [
        (f"noshow:{booking.id}:stf_own", "push", "sent", "stf_own"),
        (f"noshow:{booking.id}:stf_roam", "push", "sent", "stf_roam"),
    ]


def test_noshow_check_counts_people_not_browsers(call_job, senders, desk, clock):
    f.push_subscription(desk["own"], endpoint="https://push.example.test/stf_own_2")
    booking = ended(desk, clock, minutes_ago=15)

    response = call_job("noshow-check", {"bookingId": booking.id})

    assert response.get_json() == {"success": True, "notified": 2}
    assert pushed_to(senders) == ["stf_own", "stf_own_2", "stf_roam"]


@pytest.mark.parametrize("minutes_ago", [0, -10])
def test_booking_not_yet_ended_is_not_checked(
    call_job, senders, desk, clock, minutes_ago
):
    booking = ended(desk, clock, minutes_ago=minutes_ago)

    response = call_job("noshow-check", {"bookingId": booking.id})

    assert response.get_json() == {"success": True, "notified": 0}
    assert senders.push.sent == []


@pytest.mark.parametrize(
    "status", ["completed", "no_show", "cancelled", "pending", "rejected"]
)
def test_booking_no_longer_confirmed_needs_no_review(
    call_job, senders, desk, clock, status
):
    booking = ended(desk, clock, minutes_ago=15, status=status)

    response = call_job("noshow-check", {"bookingId": booking.id})

    assert response.get_json() == {"success": True, "notified": 0}
    assert senders.push.sent == []
    assert Booking.get_by_id(booking.id).status == status


def test_second_noshow_delivery_sends_nothing_more(call_job, senders, desk, clock):
    booking = ended(desk, clock, minutes_ago=15)
    call_job("noshow-check", {"bookingId": booking.id})

    again = call_job("noshow-check", {"bookingId": booking.id})

    assert again.get_json() == {"success": True, "notified": 0}
    assert len(senders.push.sent) == 2
