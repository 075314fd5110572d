"""appointment-reminders: the 24 h and 1 h reminders (JOBS.md section 5)."""

import json
from datetime import timedelta

import pytest

from messages import PUSH_LIMIT
from models import Booking, NotificationLog, PushSubscription
from senders import Outcome, Result
from senders.push import push_payload
from tests import factories as f
from tests.reminder_support import log_rows

JOB = "appointment-reminders"
# The default clock: Friday 4 December 2026, 15:30 IST.


@pytest.fixture
def branch(app):
    return f.branch(name="Indiranagar")


@pytest.fixture
def massage(app):
    return f.service(name="Swedish Massage (60 min)")


def customer_with_push(name="Priya Sharma", **kw):
    customer = f.customer(name=name, **kw)
    f.push_subscription(customer, endpoint=f"https://push.example.test/{customer.id}")
    return customer


def test_booking_30_minutes_ahead_gets_only_the_1h_reminder(
    call_job, senders, branch, massage
):
    customer = customer_with_push()
    booking = f.booking(customer, branch, f.at("2026-12-04 16:00"), service=massage)

    response = call_job(JOB)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 1}
    [(target, push)] = senders.push.sent
    assert target.endpoint == f"https://push.example.test/{customer.id}"
    assert push.title == "Your appointment starts soon"
    assert push.body == (
        "Priya, your Swedish Massage (60 min) at Indiranagar starts at "
        "Fri 4 Dec, 4:00 PM."
    )
    assert push.url == f"https://theroyalglow.in/bookings/{booking.id}"
    assert push.tag == f"booking-{booking.id}"
    [email] = senders.email.sent
    assert email.to == customer.email
    assert email.subject == (
        "Starting soon: your Swedish Massage (60 min) at Fri 4 Dec, 4:00 PM"
    )
    key = f"appointment-reminder:1h:{booking.id}:2026-12-04T10:30:00Z"
    assert email.idempotency_key == key
    assert log_rows() == [(key, "email", "sent"), (key, "push", "sent")]


def test_booking_23_hours_ahead_gets_only_the_24h_reminder_with_its_real_time(
    call_job, senders, branch, massage
):
    customer = customer_with_push()
    booking = f.booking(customer, branch, f.at("2026-12-05 14:30"), service=massage)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    [(_, push)] = senders.push.sent
    assert push.title == "Appointment reminder"
    assert push.body == (
        "Priya, your Swedish Massage (60 min) at Indiranagar is on Sat 5 Dec, 2:30 PM."
    )
    [email] = senders.email.sent
    assert (
        email.subject == "Reminder: your Swedish Massage (60 min) on Sat 5 Dec, 2:30 PM"
    )
    assert "Sat 5 Dec, 2:30 PM (IST)" in email.text
    assert "Sat 5 Dec, 2:30 PM (IST)" in email.html
    for text in (push.body, email.subject, email.text, email.html):
        assert "24 hours" not in text
    key = f"appointment-reminder:24h:{booking.id}:2026-12-05T09:00:00Z"
    assert log_rows() == [(key, "email", "sent"), (key, "push", "sent")]


@pytest.mark.parametrize(
    "start, window",
    [
        (timedelta(0), None),
        (timedelta(minutes=1), "1h"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=1, minutes=1), "24h"),
        (timedelta(hours=24), "24h"),
        (timedelta(hours=24, minutes=1), None),
        (timedelta(minutes=-30), None),
    ],
    ids=["now", "1 min", "exactly 1h", "1h 1min", "exactly 24h", "24h 1min", "past"],
)
def test_window_edges_are_exact_to_the_minute(
    call_job, senders, clock, branch, massage, start, window
):
    customer = customer_with_push()
    booking = f.booking(customer, branch, clock.now() + start, service=massage)

    response = call_job(JOB)

    expected = [] if window is None else [f"appointment-reminder:{window}:{booking.id}"]
    assert [row[0].rsplit(":", 3)[0] for row in log_rows()[::2]] == expected
    assert response.get_json() == {"success": True, "processed": len(expected)}
    assert len(senders.push.sent) == len(senders.email.sent) == len(expected)


@pytest.mark.parametrize(
    "status", ["pending", "cancelled", "completed", "rejected", "no_show"]
)
def test_booking_that_is_not_confirmed_gets_nothing(
    call_job, senders, branch, massage, status
):
    customer = customer_with_push()
    f.booking(
        customer, branch, f.at("2026-12-04 16:00"), service=massage, status=status
    )

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == [] and senders.email.sent == []
    assert log_rows() == []


def test_cancelled_after_its_24h_reminder_gets_no_1h_reminder(
    call_job, senders, clock, branch, massage
):
    customer = customer_with_push()
    booking = f.booking(customer, branch, f.at("2026-12-05 09:00"), service=massage)
    call_job(JOB)
    Booking.update(status="cancelled").where(Booking.id == booking.id).execute()
    clock.set(f.at("2026-12-05 08:15"))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert len(senders.push.sent) == len(senders.email.sent) == 1


def test_rescheduled_booking_is_reminded_again_for_its_new_time(
    call_job, senders, branch, massage
):
    customer = customer_with_push()
    booking = f.booking(customer, branch, f.at("2026-12-05 11:00"), service=massage)
    call_job(JOB)
    new_start = f.at("2026-12-05 13:00")
    Booking.update(start_time=new_start, end_time=new_start + timedelta(hours=1)).where(
        Booking.id == booking.id
    ).execute()

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    bodies = [push.body for _, push in senders.push.sent]
    assert bodies == [
        "Priya, your Swedish Massage (60 min) at Indiranagar is on "
        "Sat 5 Dec, 11:00 AM.",
        "Priya, your Swedish Massage (60 min) at Indiranagar is on Sat 5 Dec, 1:00 PM.",
    ]
    assert [email.subject for email in senders.email.sent] == [
        "Reminder: your Swedish Massage (60 min) on Sat 5 Dec, 11:00 AM",
        "Reminder: your Swedish Massage (60 min) on Sat 5 Dec, 1:00 PM",
    ]


def test_second_run_in_the_same_window_sends_nothing_new(
    call_job, senders, clock, branch, massage
):
    f.booking(customer_with_push(), branch, f.at("2026-12-04 16:00"), service=massage)
    f.booking(customer_with_push(), branch, f.at("2026-12-05 12:00"), service=massage)
    assert call_job(JOB).get_json() == {"success": True, "processed": 2}
    clock.advance(minutes=15)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert len(senders.push.sent) == len(senders.email.sent) == 2
    assert NotificationLog.select().count() == 4


def test_booking_gets_the_24h_then_the_1h_reminder_as_time_passes(
    call_job, senders, clock, branch, massage
):
    customer = customer_with_push()
    booking = f.booking(customer, branch, f.at("2026-12-05 12:00"), service=massage)
    call_job(JOB)
    clock.set(f.at("2026-12-05 11:00"))

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 1}
    assert [push.title for _, push in senders.push.sent] == [
        "Appointment reminder",
        "Your appointment starts soon",
    ]
    assert [row[0] for row in log_rows()[::2]] == [
        f"appointment-reminder:1h:{booking.id}:2026-12-05T06:30:00Z",
        f"appointment-reminder:24h:{booking.id}:2026-12-05T06:30:00Z",
    ]


def test_deleted_customer_gets_no_reminder(call_job, senders, clock, branch, massage):
    customer = customer_with_push(deleted_at=clock.now() - timedelta(days=1))
    f.booking(customer, branch, f.at("2026-12-04 16:00"), service=massage)

    response = call_job(JOB)

    assert response.get_json() == {"success": True, "processed": 0}
    assert senders.push.sent == [] and senders.email.sent == []


def test_one_bad_recipient_never_stops_the_others(call_job, senders, branch, massage):
    start = f.at("2026-12-05 12:00")
    no_email = customer_with_push("Arjun Rao", email=None)
    dead_push = customer_with_push("Meera Nair")
    rejected = customer_with_push("Kavya Menon", email="not-an-address@invalid")
    fine = customer_with_push("Rohan Gupta")
    nothing = f.customer(name="Isha Kapoor", email=None)
    for customer in (no_email, dead_push, rejected, fine, nothing):
        f.booking(customer, branch, start, service=massage)
    gone = f"https://push.example.test/{dead_push.id}"
    senders.push.by_endpoint[gone] = Result(Outcome.PERMANENT, "410 Gone", gone=True)
    senders.email.by_address[rejected.email] = Result(
        Outcome.PERMANENT, "422 invalid address"
    )

    response = call_job(JOB)

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 4}
    pushed = sorted(target.endpoint for target, _ in senders.push.sent)
    assert pushed == sorted(
        f"https://push.example.test/{c.id}" for c in (no_email, rejected, fine)
    )
    assert sorted(e.to for e in senders.email.sent) == sorted(
        [dead_push.email, fine.email]
    )
    assert (
        not PushSubscription.select().where(PushSubscription.endpoint == gone).exists()
    )
    statuses = {
        (row.recipient_id, row.channel): (row.status, row.last_error)
        for row in NotificationLog.select()
    }
    assert statuses[(no_email.id, "email")] == ("skipped", "no email")
    assert statuses[(dead_push.id, "push")] == (
        "skipped",
        "every push subscription is gone",
    )
    assert statuses[(rejected.id, "email")] == ("failed", "422 invalid address")
    assert statuses[(nothing.id, "push")] == ("skipped", "no push subscription")
    assert statuses[(fine.id, "push")] == statuses[(fine.id, "email")] == ("sent", None)


def test_rejected_address_is_tried_three_times_and_push_goes_once(
    call_job, senders, clock, branch, massage
):
    rejected = customer_with_push(email="bounce@example.com")
    f.booking(rejected, branch, f.at("2026-12-05 12:00"), service=massage)
    senders.email.by_address["bounce@example.com"] = Result(Outcome.PERMANENT, "422")
    responses = []
    for _ in range(4):
        responses.append(call_job(JOB).get_json())
        clock.advance(minutes=15)

    assert (
        responses
        == [{"success": True, "processed": 1}] + [{"success": True, "processed": 0}] * 3
    )
    assert senders.email.calls == 3
    assert len(senders.push.sent) == 1
    email_row = NotificationLog.get(NotificationLog.channel == "email")
    assert (email_row.status, email_row.attempts) == ("failed", 3)


def test_transient_email_failure_answers_500_and_the_retry_sends_only_that(
    call_job, senders, branch, massage
):
    first = customer_with_push("Priya Sharma")
    second = customer_with_push("Rohan Gupta")
    for customer in (first, second):
        f.booking(customer, branch, f.at("2026-12-05 12:00"), service=massage)
    senders.email.by_address[first.email] = Result(Outcome.TRANSIENT, "503")

    failed = call_job(JOB)
    del senders.email.by_address[first.email]
    retried = call_job(JOB)

    assert failed.status_code == 500
    assert retried.get_json() == {"success": True, "processed": 1}
    assert sorted(e.to for e in senders.email.sent) == sorted(
        [second.email, first.email]
    )
    assert len(senders.push.sent) == 2


def test_booking_without_a_service_names_the_appointment(call_job, senders, branch):
    f.booking(customer_with_push(), branch, f.at("2026-12-04 16:00"))

    call_job(JOB)

    [(_, push)] = senders.push.sent
    assert push.body == (
        "Priya, your appointment at Indiranagar starts at Fri 4 Dec, 4:00 PM."
    )


def test_email_has_plain_text_and_html_with_every_detail(
    call_job, senders, branch, massage
):
    customer = customer_with_push("Priya Sharma")
    booking = f.booking(customer, branch, f.at("2026-12-05 12:00"), service=massage)

    call_job(JOB)

    [email] = senders.email.sent
    link = f"https://theroyalglow.in/bookings/{booking.id}"
    assert email.text == (
        "Hi Priya,\n\n"
        "A reminder of your upcoming appointment at The Royal Glow.\n\n"
        "Service: Swedish Massage (60 min)\n"
        "Branch:  Indiranagar\n"
        "When:    Sat 5 Dec, 12:00 PM (IST)\n\n"
        "Please arrive ten minutes early so you can settle in.\n"
        f"To see, reschedule or cancel your booking: {link}\n\n"
        "See you soon,\nThe Royal Glow\n"
    )
    for part in ("Hi Priya,", "Swedish Massage (60 min)", "Indiranagar", link):
        assert part in email.html
    assert "<title>Reminder: your Swedish Massage (60 min) on Sat 5 Dec" in email.html


def test_names_are_escaped_in_html_but_not_in_text(call_job, senders, branch):
    odd = f.service(name="Hair & Scalp <Spa>")
    f.booking(customer_with_push(), branch, f.at("2026-12-05 12:00"), service=odd)

    call_job(JOB)

    [email] = senders.email.sent
    assert "Service: Hair & Scalp <Spa>" in email.text
    assert "Hair &amp; Scalp &lt;Spa&gt;" in email.html
    assert "<Spa>" not in email.html


def test_push_payload_stays_under_3_kb_with_very_long_names(call_job, senders):
    branch = f.branch(name="Koramangala " * 80)
    service = f.service(name="Deep tissue ✨ " * 200)
    customer = customer_with_push("🌸" * 300)
    booking = f.booking(customer, branch, f.at("2026-12-04 16:00"), service=service)

    call_job(JOB)

    [(_, push)] = senders.push.sent
    payload = json.loads(push_payload(push))
    assert len(push_payload(push)) <= PUSH_LIMIT
    assert payload["title"] == "Your appointment starts soon"
    assert payload["body"].startswith("🌸🌸🌸") and payload["body"].endswith("…")
    assert payload["url"] == f"https://theroyalglow.in/bookings/{booking.id}"
