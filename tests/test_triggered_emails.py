"""post-service-followup and membership-expired-notice: one email, when due."""

from datetime import timedelta
from decimal import Decimal

import pytest

from models import SpaMembership
from senders import Outcome, Result
from tests import factories as f
from tests.triggered_support import log_rows


@pytest.fixture
def branch():
    return f.branch(name="Koramangala")


@pytest.fixture
def priya():
    return f.customer(id="cus_priya", name="Priya Sharma", email="priya@x.in")


def completed_visit(customer, branch, clock, **kw):
    """A massage yesterday at 14:00 IST, completed an hour later."""
    kw.setdefault("status", "completed")
    return f.booking(
        customer,
        branch,
        f.at("2026-12-03 14:00"),
        service=f.service(name="Swedish Massage (60 min)"),
        completed_at=f.at("2026-12-03 15:00"),
        **kw,
    )


def test_completed_visit_gets_a_review_request(call_job, senders, branch, priya, clock):
    booking = completed_visit(priya, branch, clock)

    response = call_job("post-service-followup", {"bookingId": booking.id})

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "sent": True}
    [email] = senders.email.sent
    assert email.to == "priya@x.in"
    assert email.subject == "How was your visit to The Royal Glow Koramangala?"
    link = f"https://theroyalglow.in/review?booking={booking.id}"
    assert email.text == (
        "Hi Priya,\n\n"
        "Thank you for visiting The Royal Glow Koramangala for your Swedish "
        "Massage (60 min) on Thu 3 Dec, 2:00 PM (IST). We hope you left feeling "
        "wonderful.\n\n"
        "Would you tell us how it went? It takes a minute, and your words help "
        "our therapists and the next guest choosing a treatment.\n\n"
        f"Leave a review: {link}\n\n"
        "With thanks,\n"
        "The Royal Glow Koramangala\n"
    )
    assert f'href="{link}"' in email.html
    assert email.idempotency_key == f"review-request:{booking.id}"
    assert log_rows() == [
        (f"review-request:{booking.id}", "email", "sent", "cus_priya")
    ]
    assert senders.push.sent == []
    assert senders.heartbeat.pings == [("post-service-followup", False)]


@pytest.mark.parametrize(
    "config_overrides", [{"REVIEW_URL": "https://g.page/r/royal-glow/review?src=mail"}]
)
def test_review_link_follows_the_configured_review_url(
    call_job, senders, branch, priya, clock, config_overrides
):
    booking = completed_visit(priya, branch, clock)

    call_job("post-service-followup", {"bookingId": booking.id})

    link = f"https://g.page/r/royal-glow/review?src=mail&amp;booking={booking.id}"
    assert f'href="{link}"' in senders.email.sent[0].html
    assert (
        "Leave a review: https://g.page/r/royal-glow/review?src=mail&booking="
        in senders.email.sent[0].text
    )


def test_review_request_goes_once_across_deliveries(
    call_job, senders, branch, priya, clock
):
    booking = completed_visit(priya, branch, clock)
    call_job("post-service-followup", {"bookingId": booking.id})

    again = call_job("post-service-followup", {"bookingId": booking.id})

    assert again.get_json() == {"success": True, "sent": False}
    assert len(senders.email.sent) == 1


def test_review_request_retried_after_a_transient_failure(
    call_job, senders, branch, priya, clock
):
    booking = completed_visit(priya, branch, clock)
    senders.email.script.then(Result(Outcome.TRANSIENT, "timeout"))

    first = call_job("post-service-followup", {"bookingId": booking.id})
    retry = call_job("post-service-followup", {"bookingId": booking.id})

    assert (first.status_code, first.data) == (500, b"Job failed")
    assert retry.get_json() == {"success": True, "sent": True}
    assert [e.to for e in senders.email.sent] == ["priya@x.in"]


NO_REVIEW = {
    "booking still confirmed": ({"status": "confirmed"}, {}),
    "booking cancelled": ({"status": "cancelled"}, {}),
    "booking a no-show": ({"status": "no_show"}, {}),
    "no marketing consent": ({}, {"marketing_consent": False}),
    "no email address": ({}, {"email": None}),
    "customer deleted": ({}, {"deleted_at": f.at("2026-12-04 09:00")}),
}


@pytest.mark.parametrize("case", sorted(NO_REVIEW))
def test_review_request_is_not_sent_when(call_job, senders, branch, clock, case):
    booking_fields, customer_fields = NO_REVIEW[case]
    customer = f.customer(**customer_fields)
    booking = completed_visit(customer, branch, clock, **booking_fields)

    response = call_job("post-service-followup", {"bookingId": booking.id})

    assert response.get_json() == {"success": True, "sent": False}
    assert senders.email.sent == []
    assert log_rows() == []


def gold(customer, branch, expires_at, **kw):
    return f.membership(
        customer,
        expires_at,
        id="mem_gold",
        branch=branch,
        plan_name="Gold Spa 12 Hours",
        total_hours=Decimal("12.00"),
        used_hours=Decimal("8.50"),
        **kw,
    )


@pytest.mark.parametrize("status", ["expired", "active"])
def test_expired_membership_gets_the_renewal_email(
    call_job, senders, branch, priya, clock, status
):
    expired_at = clock.now() - timedelta(hours=1)
    gold(priya, branch, expired_at, status=status)

    response = call_job("membership-expired-notice", {"membershipId": "mem_gold"})

    assert response.get_json() == {"success": True, "sent": True}
    [email] = senders.email.sent
    assert email.to == "priya@x.in"
    assert email.subject == "Your Gold Spa 12 Hours membership has expired"
    assert email.text == (
        "Hi Priya,\n\n"
        "Your Gold Spa 12 Hours membership at The Royal Glow Koramangala expired "
        "on Fri 4 Dec 2026. It ended with 3.5 hours unused.\n\n"
        "Renew today to keep your member rates and your regular time for "
        "yourself.\n"
        "Renew your membership: https://theroyalglow.in/memberships/mem_gold\n\n"
        "We hope to see you again soon,\n"
        "The Royal Glow Koramangala\n"
    )
    assert "Koramangala" in email.html
    key = "membership-expired:mem_gold:2026-12-04T09:00:00Z"
    assert email.idempotency_key == key
    assert log_rows() == [(key, "email", "sent", "cus_priya")]


def test_membership_expiring_at_this_very_instant_counts_as_expired(
    call_job, senders, branch, priya, clock
):
    gold(priya, branch, clock.now(), status="active")

    response = call_job("membership-expired-notice", {"membershipId": "mem_gold"})

    assert response.get_json() == {"success": True, "sent": True}


def test_renewed_membership_gets_no_expired_email(
    call_job, senders, branch, priya, clock
):
    gold(priya, branch, clock.now() - timedelta(hours=1), status="expired")
    SpaMembership.update(
        status="active", expires_at=clock.now() + timedelta(days=365)
    ).where(SpaMembership.id == "mem_gold").execute()

    response = call_job("membership-expired-notice", {"membershipId": "mem_gold"})

    assert response.get_json() == {"success": True, "sent": False}
    assert senders.email.sent == []
    assert log_rows() == []


def test_cancelled_membership_gets_no_expired_email(
    call_job, senders, branch, priya, clock
):
    gold(priya, branch, clock.now() - timedelta(hours=1), status="cancelled")

    response = call_job("membership-expired-notice", {"membershipId": "mem_gold"})

    assert response.get_json() == {"success": True, "sent": False}
    assert senders.email.sent == []


@pytest.mark.parametrize(
    "customer_fields",
    [{"email": None}, {"deleted_at": f.at("2026-12-01 10:00")}],
    ids=["no email address", "customer deleted"],
)
def test_expired_email_needs_a_live_customer_with_an_address(
    call_job, senders, branch, clock, customer_fields
):
    gold(f.customer(**customer_fields), branch, clock.now() - timedelta(hours=1))

    response = call_job("membership-expired-notice", {"membershipId": "mem_gold"})

    assert response.get_json() == {"success": True, "sent": False}
    assert log_rows() == []


def test_expired_email_goes_once_per_expiry(call_job, senders, branch, priya, clock):
    gold(priya, branch, clock.now() - timedelta(hours=1), status="expired")
    call_job("membership-expired-notice", {"membershipId": "mem_gold"})

    again = call_job("membership-expired-notice", {"membershipId": "mem_gold"})

    assert again.get_json() == {"success": True, "sent": False}
    assert len(senders.email.sent) == 1


def test_membership_renewed_and_expired_again_gets_a_new_email(
    call_job, senders, branch, priya, clock
):
    gold(priya, branch, clock.now() - timedelta(hours=1), status="expired")
    call_job("membership-expired-notice", {"membershipId": "mem_gold"})
    later = clock.now() + timedelta(days=30)
    SpaMembership.update(expires_at=later - timedelta(hours=1)).where(
        SpaMembership.id == "mem_gold"
    ).execute()
    clock.set(later)

    response = call_job("membership-expired-notice", {"membershipId": "mem_gold"})

    assert response.get_json() == {"success": True, "sent": True}
    assert len(senders.email.sent) == 2
    assert "expired on Sun 3 Jan 2027" in senders.email.sent[1].text


def test_membership_of_no_branch_is_signed_by_the_chain(
    call_job, senders, priya, clock
):
    f.membership(
        priya,
        clock.now() - timedelta(hours=1),
        id="mem_any",
        used_hours=Decimal("12.00"),
        status="expired",
    )

    call_job("membership-expired-notice", {"membershipId": "mem_any"})

    [email] = senders.email.sent
    assert "Your Gold Spa 12 Hours membership expired on Fri 4 Dec 2026.\n" in (
        email.text
    )
    assert email.text.endswith("We hope to see you again soon,\nThe Royal Glow\n")
