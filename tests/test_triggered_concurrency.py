"""Two simultaneous deliveries of the same message send once (PostgreSQL).

QStash may deliver one message twice at the same moment. Each delivery here
runs on its own thread with its own connection and JobContext, released
together by a barrier; between them they must send what one would.
"""

import threading
from datetime import timedelta

import pytest

from devtools.fake_invoicing import FakeInvoicingServer
from jobs import triggered
from jobs.context import Budget, JobContext
from models import Booking, Invoice, db
from senders.invoicing import InvoicingClient
from tests import factories as f
from tests.triggered_support import SIGNING_SECRET, local_session


@pytest.fixture
def postgres_only(backend):
    if backend != "postgres":
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL")


def deliver_twice(app, senders, clock, job, run, payload):
    """Run `run` on two threads at once; return both answers."""
    barrier = threading.Barrier(2)
    answers, errors = [], []

    def delivery():
        try:
            with app.app_context(), db.connection_context():
                ctx = JobContext(
                    job=job,
                    now=clock.now(),
                    payload=dict(payload),
                    senders=senders,
                    config=app.config,
                    budget=Budget(job, 20.0),
                )
                barrier.wait(timeout=10)
                answers.append(run(ctx))
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=delivery) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return answers


@pytest.fixture
def scene(clock):
    branch = f.branch(name="Koramangala")
    customer = f.customer(id="cus_priya", email="priya@x.in")
    f.push_subscription(customer, endpoint="https://push.example.test/cus_priya")
    for name in ("stf_a", "stf_b"):
        person = f.staff(branch, id=name)
        f.push_subscription(person, endpoint=f"https://push.example.test/{name}")
    return branch, customer


def test_simultaneous_review_requests_send_one_email(
    postgres_only, app, senders, clock, scene
):
    branch, customer = scene
    booking = f.booking(customer, branch, clock.now(), status="completed")

    answers = deliver_twice(
        app,
        senders,
        clock,
        "post-service-followup",
        triggered.post_service_followup,
        {"bookingId": booking.id},
    )

    assert sorted(a["sent"] for a in answers) == [False, True]
    assert [e.to for e in senders.email.sent] == ["priya@x.in"]


def test_simultaneous_stale_alerts_reject_once_and_notify_once(
    postgres_only, app, senders, clock, scene
):
    branch, customer = scene
    booking = f.booking(
        customer,
        branch,
        clock.now() + timedelta(days=1),
        status="pending",
        created_at=clock.now() - timedelta(hours=30),
    )

    answers = deliver_twice(
        app,
        senders,
        clock,
        "stale-booking-alert",
        triggered.stale_booking_alert,
        {"bookingId": booking.id},
    )

    assert sorted((a["action"], a["notified"]) for a in answers) == [
        ("none", 0),
        ("rejected", 1),
    ]
    assert Booking.get_by_id(booking.id).status == "rejected"
    assert len(senders.email.sent) == 1 and len(senders.push.sent) == 1


@pytest.mark.parametrize(
    "job, run",
    [
        ("stale-booking-alert", triggered.stale_booking_alert),
        ("noshow-check", triggered.noshow_check),
    ],
)
def test_simultaneous_receptionist_alerts_push_each_person_once(
    postgres_only, app, senders, clock, scene, job, run
):
    branch, customer = scene
    booking = f.booking(
        customer,
        branch,
        clock.now() - timedelta(hours=2),
        status="pending" if job == "stale-booking-alert" else "confirmed",
        created_at=clock.now() - timedelta(hours=3),
    )

    answers = deliver_twice(app, senders, clock, job, run, {"bookingId": booking.id})

    assert sum(a["notified"] for a in answers) == 2
    assert sorted(t.endpoint for t, _ in senders.push.sent) == [
        "https://push.example.test/stf_a",
        "https://push.example.test/stf_b",
    ]


def test_simultaneous_expired_notices_send_one_email(
    postgres_only, app, senders, clock, scene
):
    membership = f.membership(scene[1], clock.now() - timedelta(hours=1))

    answers = deliver_twice(
        app,
        senders,
        clock,
        "membership-expired-notice",
        triggered.membership_expired_notice,
        {"membershipId": membership.id},
    )

    assert sorted(a["sent"] for a in answers) == [False, True]
    assert len(senders.email.sent) == 1


def test_simultaneous_invoice_deliveries_render_once_and_email_once(
    postgres_only, app, senders, clock, scene
):
    branch, customer = scene
    invoice = f.invoice(customer, branch, paid_at=clock.now())

    with FakeInvoicingServer(SIGNING_SECRET) as service:
        senders.invoicing = InvoicingClient(
            {"INVOICING_URL": service.url, "INVOICING_SIGNING_SECRET": SIGNING_SECRET},
            session=local_session(),
        )
        answers = deliver_twice(
            app,
            senders,
            clock,
            "invoice-pdf",
            triggered.invoice_pdf,
            {"invoiceId": invoice.id},
        )

    assert sorted((a["sent"], a["attached"]) for a in answers) == [
        (False, False),
        (True, True),
    ]
    assert len(service.renders) == 1
    assert Invoice.get_by_id(invoice.id).pdf_url.startswith(service.url)
    [email] = senders.email.sent
    assert len(email.attachments) == 1
