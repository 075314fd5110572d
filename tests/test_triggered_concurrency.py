"""Two simultaneous deliveries of the same message send once (PostgreSQL).

QStash may deliver one message twice at the same moment. Each delivery here
runs on its own thread with its own connection and JobContext, released
together by a barrier; between them they must send what one would. The one
that loses either finds the work done, or finds it still held by the other
and defers (503) so that QStash comes back.
"""

import threading
from datetime import timedelta

import pytest

from devtools.fake_invoicing import FakeInvoicingServer
from exceptions import Deferred
from jobs import triggered
from jobs.context import Budget, JobContext
from models import Booking, Invoice, JobRun, NotificationLog, db
from senders.invoicing import InvoicingClient
from tests import factories as f
from tests.triggered_support import SIGNING_SECRET, local_session


@pytest.fixture
def postgres_only(backend):
    if backend != "postgres":
        pytest.skip("SQLite serialises every writer; the race needs PostgreSQL")


def deliver(app, senders, clock, job, run, payload, times=2):
    """Run `run` on `times` threads at once; answers, "deferred" for a 503."""
    barrier = threading.Barrier(times)
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
        except Deferred:
            answers.append("deferred")
        except Exception as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=delivery) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    return answers


def assert_done_once(answers, done, nothing):
    """One delivery did the work; the other found it done, or held and deferred."""
    assert done in answers
    others = list(answers)
    others.remove(done)
    assert others in ([nothing], ["deferred"])


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
    job = ("post-service-followup", triggered.post_service_followup)
    payload = {"bookingId": booking.id}

    answers = deliver(app, senders, clock, *job, payload)
    retry = deliver(app, senders, clock, *job, payload, times=1)

    nothing = {"success": True, "sent": False}
    assert_done_once(answers, {"success": True, "sent": True}, nothing)
    assert retry == [nothing]
    assert [e.to for e in senders.email.sent] == ["priya@x.in"]


def test_simultaneous_stale_alerts_reject_once_and_notify_once(
    postgres_only, app, senders, clock, scene, caplog
):
    branch, customer = scene
    booking = f.booking(
        customer,
        branch,
        clock.now() + timedelta(days=1),
        status="pending",
        created_at=clock.now() - timedelta(hours=30),
    )
    job = ("stale-booking-alert", triggered.stale_booking_alert)
    payload = {"bookingId": booking.id}

    answers = deliver(app, senders, clock, *job, payload)
    retry = deliver(app, senders, clock, *job, payload, times=1)

    # The delivery that rejects may lose the customer's notice to the other
    # one, which then finishes it as a retry would (action "none", notified 1)
    # while the rejecter defers; either way the booking is rejected once and
    # the customer told once.
    answered = [a for a in answers if a != "deferred"]
    assert [a["action"] for a in answered].count("rejected") <= 1
    rejections = [r for r in caplog.records if r.getMessage().endswith("auto-rejected")]
    assert len(rejections) == 1
    assert sum(a["notified"] for a in answered) == 1
    assert retry == [{"success": True, "action": "none", "notified": 0}]
    row = Booking.get_by_id(booking.id)
    assert (row.status, row.status_reason) == ("rejected", triggered.AUTO_REJECT_REASON)
    assert len(senders.email.sent) == 1 and len(senders.push.sent) == 1


@pytest.mark.parametrize(
    "job, run, status",
    [
        ("stale-booking-alert", triggered.stale_booking_alert, "pending"),
        ("noshow-check", triggered.noshow_check, "confirmed"),
    ],
)
def test_simultaneous_receptionist_alerts_push_each_person_once(
    postgres_only, app, senders, clock, scene, job, run, status
):
    branch, customer = scene
    booking = f.booking(
        customer,
        branch,
        clock.now() - timedelta(hours=2),
        status=status,
        created_at=clock.now() - timedelta(hours=3),
    )

    answers = deliver(app, senders, clock, job, run, {"bookingId": booking.id})
    retry = deliver(app, senders, clock, job, run, {"bookingId": booking.id}, times=1)

    counted = [a["notified"] for a in answers if a != "deferred"]
    assert sum(counted) == 2
    assert retry[0]["notified"] == 0
    assert sorted(t.endpoint for t, _ in senders.push.sent) == [
        "https://push.example.test/stf_a",
        "https://push.example.test/stf_b",
    ]


def test_simultaneous_expired_notices_send_one_email(
    postgres_only, app, senders, clock, scene
):
    membership = f.membership(scene[1], clock.now() - timedelta(hours=1))
    job = ("membership-expired-notice", triggered.membership_expired_notice)
    payload = {"membershipId": membership.id}

    answers = deliver(app, senders, clock, *job, payload)
    retry = deliver(app, senders, clock, *job, payload, times=1)

    nothing = {"success": True, "sent": False}
    assert_done_once(answers, {"success": True, "sent": True}, nothing)
    assert retry == [nothing]
    assert len(senders.email.sent) == 1


def test_simultaneous_invoice_deliveries_render_once_and_email_once(
    postgres_only, app, senders, clock, scene
):
    branch, customer = scene
    invoice = f.invoice(customer, branch, paid_at=clock.now())
    job = ("invoice-pdf", triggered.invoice_pdf)
    payload = {"invoiceId": invoice.id}

    with FakeInvoicingServer(SIGNING_SECRET) as service:
        senders.invoicing = InvoicingClient(
            {"INVOICING_URL": service.url, "INVOICING_SIGNING_SECRET": SIGNING_SECRET},
            session=local_session(),
        )
        answers = deliver(app, senders, clock, *job, payload)
        retry = deliver(app, senders, clock, *job, payload, times=1)

    nothing = {"success": True, "attached": False, "reason": None, "sent": False}
    done = {"success": True, "attached": True, "reason": None, "sent": True}
    assert_done_once(answers, done, nothing)
    assert retry == [nothing]
    assert len(service.renders) == 1
    assert Invoice.get_by_id(invoice.id).pdf_url.startswith(service.url)
    [email] = senders.email.sent
    assert len(email.attachments) == 1


def held_by_a_crashed_run(key, customer, at):
    """The row a delivery claimed and never marked: it died mid-send."""
    NotificationLog.create(
        dedupe_key=key,
        channel="email",
        type="test",
        recipient_type="customer",
        recipient_id=customer.id,
        status="pending",
        attempts=1,
        created_at=at,
        updated_at=at,
    )


@pytest.mark.parametrize(
    "route, key, payload",
    [
        ("post-service-followup", "review-request:bk_done", {"bookingId": "bk_done"}),
        ("invoice-pdf", "invoice:inv_done", {"invoiceId": "inv_done"}),
    ],
)
def test_notice_held_by_another_delivery_makes_qstash_come_back(
    call_job, senders, clock, scene, route, key, payload
):
    branch, customer = scene
    start = clock.now() - timedelta(hours=25)
    f.booking(customer, branch, start, id="bk_done", status="completed")
    f.invoice(customer, branch, paid_at=clock.now(), id="inv_done")
    held_by_a_crashed_run(key, customer, clock.now() - timedelta(minutes=1))

    held = call_job(route, payload)
    clock.advance(minutes=10)
    after_the_lease = call_job(route, payload)

    assert (held.status_code, held.headers["Retry-After"]) == (503, "30")
    assert JobRun.select().order_by(JobRun.id).first().outcome == "deferred"
    assert after_the_lease.status_code == 200
    assert after_the_lease.get_json()["sent"] is True
    assert [e.to for e in senders.email.sent] == ["priya@x.in"]
