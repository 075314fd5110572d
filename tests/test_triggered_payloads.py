"""Bad bodies on every triggered route: nothing is done and the answer is 200.

The world below holds a record each job would act on, so the same routes
given a good body do act (the last test), and a bad body doing nothing is
the body's doing.
"""

import json
from datetime import timedelta

import pytest
import responses

from models import Booking, Invoice, JobRun, NotificationLog
from tests import factories as f

NOTHING_DONE = {
    "post-service-followup": {"success": True, "sent": False},
    "stale-booking-alert": {"success": True, "action": "none", "notified": 0},
    "noshow-check": {"success": True, "notified": 0},
    "membership-expired-notice": {"success": True, "sent": False},
    "invoice-pdf": {"success": True, "attached": False, "reason": None, "sent": False},
}

# route -> (payload key, the world's record that route would act on)
TARGETS = {
    "post-service-followup": ("bookingId", "completed"),
    "stale-booking-alert": ("bookingId", "stale"),
    "noshow-check": ("bookingId", "ended"),
    "membership-expired-notice": ("membershipId", "membership"),
    "invoice-pdf": ("invoiceId", "invoice"),
}


def bad_bodies(key, real_id):
    """Bodies naming no usable record: name -> raw bytes."""

    def body(payload):
        return json.dumps(payload).encode()

    return {
        "missing body": b"",
        "invalid json": b'{"' + key.encode() + b'": ',
        "json array": body([real_id]),
        "json string": body(real_id),
        "json number": b"42",
        "json null": b"null",
        "empty object": b"{}",
        "deeply nested json": b"[" * 50_000,
        "id under another key": body({"id": real_id}),
        "null id": body({key: None}),
        "numeric id": body({key: 12345}),
        "boolean id": body({key: True}),
        "list id": body({key: [real_id]}),
        "object id": body({key: {"id": real_id}}),
        "empty id": body({key: ""}),
        "absurdly long id": body({key: real_id + "9" * 5000}),
        "id of 129 characters": body({key: "x" * 129}),
        "id with a NUL": body({key: real_id + "\u0000"}),
        "id with a lone surrogate": body({key: real_id + "\ud800"}),
        "unknown id": body({key: real_id + "_gone"}),
    }


CASES = sorted(bad_bodies("bookingId", "bk_1"))


@pytest.fixture(autouse=True)
def no_http():
    """Any HTTP request fails: nothing here may reach a provider."""
    with responses.RequestsMock():
        yield


@pytest.fixture
def world(clock):
    """One record per triggered job, each one the job would act on."""
    now = clock.now()
    branch = f.branch(name="Koramangala")
    customer = f.customer(name="Priya Sharma", email="priya@example.com")
    desk = f.staff(branch, name="Ananya Iyer")
    f.push_subscription(desk, endpoint="https://push.example.test/desk")
    f.push_subscription(customer, endpoint="https://push.example.test/priya")
    completed = f.booking(
        customer, branch, now - timedelta(hours=26), status="completed"
    )
    return {
        "completed": completed.id,
        "stale": f.booking(
            customer,
            branch,
            now + timedelta(days=2),
            status="pending",
            created_at=now - timedelta(hours=30),
        ).id,
        "ended": f.booking(customer, branch, now - timedelta(minutes=75)).id,
        "membership": f.membership(
            customer, now - timedelta(hours=1), status="expired"
        ).id,
        "invoice": f.invoice(
            customer, branch, paid_at=now - timedelta(hours=1), booking=completed
        ).id,
    }


def statuses():
    return sorted((b.id, b.status) for b in Booking.select())


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("route", sorted(TARGETS))
def test_bad_body_does_nothing_and_answers_200(call_job, senders, world, route, case):
    key, target = TARGETS[route]
    before = statuses()
    body = bad_bodies(key, world[target])[case]

    response = call_job(route, body=body)

    assert response.status_code == 200
    assert response.get_json() == NOTHING_DONE[route]
    assert senders.email.sent == [] and senders.push.sent == []
    assert NotificationLog.select().count() == 0
    assert statuses() == before
    assert Invoice.get_by_id(world["invoice"]).pdf_url is None
    assert [run.outcome for run in JobRun.select()] == ["success"]


@pytest.mark.parametrize("case", ["null id", "numeric id", "unknown id"])
def test_invoice_pdf_ignores_a_bad_booking_id_as_well(call_job, senders, world, case):
    body = bad_bodies("bookingId", world["completed"])[case]

    response = call_job("invoice-pdf", body=body)

    assert response.get_json() == NOTHING_DONE["invoice-pdf"]
    assert senders.email.sent == []


@pytest.mark.parametrize("route", sorted(TARGETS))
def test_the_same_world_is_acted_on_given_a_good_body(call_job, world, route):
    key, target = TARGETS[route]

    response = call_job(route, {key: world[target]})

    assert response.status_code == 200
    assert response.get_json() != NOTHING_DONE[route]
    assert NotificationLog.select().count() >= 1
