"""The notification log protocol: claim, send, mark (spec/JOBS.md section 3)."""

import threading
from datetime import timedelta

import pytest

from exceptions import DeliveryHeld
from jobs.context import Budget, JobContext
from models import InAppNotification, NotificationLog, PushSubscription, db
from notifications import InAppMessage, Notice
from senders import Email, Outcome, PushMessage, Result
from tests import factories as f


@pytest.fixture
def make_ctx(app, senders, clock):
    def make(budget_seconds=20.0, timer=None):
        budget = Budget("test-job", budget_seconds)
        if timer is not None:
            budget.timer = timer
            budget.started = timer()
        return JobContext("test-job", clock.now(), {}, senders, app.config, budget)

    return make


def notice_for(customer, key=None, push=True, email=True, in_app=False):
    return Notice(
        dedupe_key=key or f"test:{customer.id}",
        type="test",
        recipient_type="customer",
        recipient_id=customer.id,
        push=PushMessage("Hello", "A message", "https://app.test/x") if push else None,
        email=Email(customer.email, "Subject", "text", "<p>html</p>")
        if email
        else None,
        in_app=InAppMessage("test", "Title", "Body") if in_app else None,
    )


def log_rows():
    query = NotificationLog.select().order_by(
        NotificationLog.dedupe_key, NotificationLog.channel
    )
    return [(r.dedupe_key, r.channel, r.status, r.attempts) for r in query]


def test_each_channel_is_sent_and_marked_once(make_ctx, senders):
    customer = f.customer(name="Priya Sharma", email="priya@example.com")
    f.push_subscription(customer, endpoint="https://push.example.test/priya")
    notice = notice_for(customer, in_app=True)

    first = make_ctx().notify([notice])
    second = make_ctx().notify([notice])

    assert first.processed == 1 and second.processed == 0
    assert [e.to for e in senders.email.sent] == ["priya@example.com"]
    assert [t.endpoint for t, _ in senders.push.sent] == [
        "https://push.example.test/priya"
    ]
    assert log_rows() == [
        (f"test:{customer.id}", "email", "sent", 1),
        (f"test:{customer.id}", "in_app", "sent", 1),
        (f"test:{customer.id}", "push", "sent", 1),
    ]
    inbox = InAppNotification.get()
    assert (inbox.customer_id, inbox.title, inbox.body) == (
        customer.id,
        "Title",
        "Body",
    )


def test_no_address_and_no_subscription_are_skipped_not_processed(make_ctx, senders):
    customer = f.customer(email=None)

    tally = make_ctx().notify([notice_for(customer)])

    assert tally.processed == 0
    assert senders.email.sent == [] and senders.push.sent == []
    assert [row[2] for row in log_rows()] == ["skipped", "skipped"]


def test_a_noop_sender_counts_as_processed(make_ctx, senders):
    from senders.base import NullEmailSender

    senders.email = NullEmailSender()
    customer = f.customer()

    tally = make_ctx().notify([notice_for(customer, push=False)])

    assert tally.processed == 1
    assert log_rows() == [(f"test:{customer.id}", "email", "skipped", 1)]


def test_transient_failure_is_retried_by_the_next_run(make_ctx, senders):
    ok, flaky = (
        f.customer(email="ok@example.com"),
        f.customer(email="flaky@example.com"),
    )
    senders.email.by_address["flaky@example.com"] = Result(
        Outcome.TRANSIENT, "HTTP 503"
    )
    notices = [notice_for(ok, push=False), notice_for(flaky, push=False)]

    ctx = make_ctx()
    first = ctx.notify(notices)

    assert ctx.transient_failures == 1
    assert first.processed == 1
    assert [e.to for e in senders.email.sent] == ["ok@example.com"]
    failed = NotificationLog.get(NotificationLog.dedupe_key == f"test:{flaky.id}")
    assert (failed.status, failed.attempts, failed.last_error) == (
        "failed",
        1,
        "HTTP 503",
    )

    del senders.email.by_address["flaky@example.com"]
    retry = make_ctx()
    second = retry.notify(notices)

    assert retry.transient_failures == 0
    assert second.processed == 1
    assert [e.to for e in senders.email.sent] == ["ok@example.com", "flaky@example.com"]
    assert [row[2:] for row in log_rows()] == [("sent", 1), ("sent", 2)]


def test_permanent_failure_gives_up_after_three_attempts(make_ctx, senders):
    customer = f.customer(email="bounce@example.com")
    senders.email.by_address["bounce@example.com"] = Result(
        Outcome.PERMANENT, "invalid address"
    )
    notice = notice_for(customer, push=False)

    for _ in range(5):
        ctx = make_ctx()
        ctx.notify([notice])
        assert ctx.transient_failures == 0

    row = NotificationLog.get()
    assert (row.status, row.attempts, row.last_error) == (
        "failed",
        3,
        "invalid address",
    )


def test_stale_pending_claim_is_taken_again_once(make_ctx, senders, clock):
    customer = f.customer(email="crash@example.com")
    NotificationLog.create(
        dedupe_key=f"test:{customer.id}",
        channel="email",
        type="test",
        recipient_type="customer",
        recipient_id=customer.id,
        status="pending",
        attempts=1,
        created_at=clock.now() - timedelta(minutes=11),
        updated_at=clock.now() - timedelta(minutes=11),
    )
    notice = notice_for(customer, push=False)

    make_ctx().notify([notice])
    make_ctx().notify([notice])

    assert [e.to for e in senders.email.sent] == ["crash@example.com"]
    assert log_rows() == [(f"test:{customer.id}", "email", "sent", 2)]


def test_fresh_pending_claim_belongs_to_its_run_and_defers_this_one(
    make_ctx, senders, clock
):
    customer = f.customer()
    NotificationLog.create(
        dedupe_key=f"test:{customer.id}",
        channel="email",
        type="test",
        recipient_type="customer",
        recipient_id=customer.id,
        status="pending",
        attempts=1,
        updated_at=clock.now() - timedelta(minutes=9),
    )
    ctx = make_ctx()
    ctx.config = {**ctx.config, "NOTIFY_HELD_WAIT_SECONDS": 0}

    with pytest.raises(DeliveryHeld):
        ctx.notify([notice_for(customer, push=False)])

    assert senders.email.sent == []


def test_a_holder_that_finishes_meanwhile_lets_the_run_answer(
    make_ctx, senders, clock, app
):
    customer = f.customer()
    row = NotificationLog.create(
        dedupe_key=f"test:{customer.id}",
        channel="email",
        type="test",
        recipient_type="customer",
        recipient_id=customer.id,
        status="pending",
        attempts=1,
        updated_at=clock.now(),
    )

    def holder_finishes():
        NotificationLog.update(status="sent").where(
            NotificationLog.id == row.id
        ).execute()

    timer = threading.Timer(0.3, lambda: _in_app(app, holder_finishes))
    timer.start()
    tally = make_ctx().notify([notice_for(customer, push=False)])
    timer.join()

    assert tally.processed == 0
    assert senders.email.sent == []


def _in_app(app, work):
    with app.app_context(), db.connection_context():
        work()


def test_sent_row_is_never_sent_again_even_long_after(make_ctx, senders, clock):
    customer = f.customer()
    notice = notice_for(customer, push=False)
    make_ctx().notify([notice])

    clock.advance(days=30)
    make_ctx().notify([notice])

    assert len(senders.email.sent) == 1


def test_gone_subscription_is_deleted_and_others_still_get_the_push(make_ctx, senders):
    customer = f.customer()
    dead = f.push_subscription(customer, endpoint="https://push.example.test/dead")
    f.push_subscription(customer, endpoint="https://push.example.test/alive")
    senders.push.by_endpoint[dead.endpoint] = Result(
        Outcome.PERMANENT, "410", gone=True
    )

    tally = make_ctx().notify([notice_for(customer, email=False)])

    assert tally.processed == 1
    assert [t.endpoint for t, _ in senders.push.sent] == [
        "https://push.example.test/alive"
    ]
    assert [s.endpoint for s in PushSubscription.select()] == [
        "https://push.example.test/alive"
    ]


def test_spent_budget_releases_unsent_claims_for_the_next_delivery(make_ctx, senders):
    customers = [f.customer(email=f"c{i}@example.com") for i in range(3)]
    notices = [notice_for(c, push=False) for c in customers]
    ticks = iter([0, 0, 0, 0, 100, 100, 100, 100, 100, 100])

    ctx = make_ctx(budget_seconds=10, timer=lambda: next(ticks, 100))
    senders.email.batch_size = 1
    with pytest.raises(Exception) as raised:
        ctx.notify(notices)

    assert type(raised.value).__name__ == "BudgetExceeded"
    sent_first = [e.to for e in senders.email.sent]
    assert 0 < len(sent_first) < 3

    make_ctx().notify(notices)

    assert sorted(e.to for e in senders.email.sent) == sorted(
        c.email for c in customers
    )
    assert {row[2] for row in log_rows()} == {"sent"}
    assert {row[3] for row in log_rows()} == {1}


def test_two_threads_claiming_the_same_notice_send_it_once(
    app, backend, senders, clock
):
    if backend != "postgres":
        pytest.skip("concurrent claims need two PostgreSQL connections")
    customers = [f.customer(email=f"both{i}@example.com") for i in range(50)]
    notices = [notice_for(c, push=False) for c in customers]
    start = threading.Barrier(2)
    tallies = []

    def run():
        with app.app_context(), db.connection_context():
            ctx = JobContext(
                "test-job", clock.now(), {}, senders, app.config, Budget("t", 20)
            )
            start.wait()
            tallies.append(ctx.notify(notices))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(e.to for e in senders.email.sent) == sorted(
        c.email for c in customers
    )
    assert sum(t.processed for t in tallies) == 50
    assert (
        NotificationLog.select().where(NotificationLog.status == "sent").count() == 50
    )


def test_recipient_whose_every_subscription_is_gone_is_skipped(make_ctx, senders):
    customer = f.customer()
    dead = f.push_subscription(customer, endpoint="https://push.example.test/dead")
    senders.push.by_endpoint[dead.endpoint] = Result(
        Outcome.PERMANENT, "410 Gone", gone=True
    )

    tally = make_ctx().notify([notice_for(customer, email=False)])

    assert tally.processed == 0
    row = NotificationLog.get()
    assert (row.status, row.last_error) == (
        "skipped",
        "every push subscription is gone",
    )
    assert PushSubscription.select().count() == 0


def test_rate_limited_emails_are_sent_again_within_the_run(make_ctx, senders):
    first, second = f.customer(email="a@example.com"), f.customer(email="b@example.com")
    senders.email.script.then(
        Result(Outcome.SENT),
        Result(Outcome.TRANSIENT, "HTTP 429", retry_after=0.01),
    )

    ctx = make_ctx()
    tally = ctx.notify([notice_for(first, push=False), notice_for(second, push=False)])

    assert ctx.transient_failures == 0
    assert tally.processed == 2
    assert [e.to for e in senders.email.sent] == ["a@example.com", "b@example.com"]
    assert senders.email.calls == 2
    assert {row[2] for row in log_rows()} == {"sent"}


def test_a_rate_limit_longer_than_the_budget_is_left_to_qstash(make_ctx, senders):
    customer = f.customer(email="slow@example.com")
    senders.email.script.then(Result(Outcome.TRANSIENT, "HTTP 429", retry_after=60))

    ctx = make_ctx()
    ctx.notify([notice_for(customer, push=False)])

    assert ctx.transient_failures == 1
    assert senders.email.calls == 1
    assert senders.email.sent == []


def test_claims_are_inserted_in_one_order_whatever_the_notices_order(
    make_ctx, monkeypatch
):
    # Two runs inserting the same keys in different orders (membership nudges
    # are picked at random) can deadlock on PostgreSQL's unique index; one
    # global order cannot.
    customers = [f.customer() for _ in range(5)]
    inserted = []
    real_insert_many = NotificationLog.insert_many

    def recording_insert_many(rows, *args, **kwargs):
        inserted.append([(row["dedupe_key"], row["channel"]) for row in rows])
        return real_insert_many(rows, *args, **kwargs)

    monkeypatch.setattr(NotificationLog, "insert_many", recording_insert_many)
    notices = [notice_for(c, key=f"order:{c.id}", in_app=True) for c in customers]

    make_ctx().notify(notices[::-1])

    assert inserted[0] == sorted(inserted[0])
    assert len(inserted[0]) == 15


def test_an_email_given_as_a_builder_is_built_only_when_claimed(make_ctx, senders):
    customer = f.customer(email="lazy@example.com")
    built = []

    def build():
        built.append(customer.id)
        return Email(customer.email, "Subject", "text", "<p>html</p>")

    notice = notice_for(customer, push=False)
    make_ctx().notify([notice])
    notice.email = build

    again = make_ctx().notify([notice])
    fresh = notice_for(customer, key="lazy:new", push=False)
    fresh.email = build
    make_ctx().notify([fresh])

    assert again.processed == 0
    assert built == [customer.id]
    assert [e.to for e in senders.email.sent] == ["lazy@example.com"] * 2
