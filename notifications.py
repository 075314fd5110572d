"""Exactly-once notifications: claim a log row, send, mark it.

Every notification has a dedupe key and one `notification_log` row per
channel, unique on (dedupe_key, channel). A run claims rows in bulk (insert
as `pending`; a row someone else holds is skipped), sends what it claimed,
then marks each row `sent`, `skipped` or `failed`. A `failed` row with
attempts left, or a `pending` row whose lease ran out (its run crashed), is
claimed again by a later run; `sent` and `skipped` rows never are.

Work goes in chunks: a fixed number of queries per chunk, however many
recipients it holds. Pushes go out on a bounded thread pool, emails through
the sender's batch call.
"""

import contextvars
import hashlib
import logging
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from peewee import Tuple

from models import InAppNotification, NotificationLog, PushSubscription, db
from senders import Email, Outcome, PushMessage, PushTarget, Result, SlackMessage

log = logging.getLogger(__name__)

HELD_POLL_SECONDS = 0.2
RATE_LIMIT_RETRIES = 2
MAX_RATE_LIMIT_WAIT = 10.0  # seconds; a longer Retry-After is left to QStash

STATUS_FOR = {
    Outcome.SENT: "sent",
    Outcome.NOOP: "skipped",
    Outcome.NO_ADDRESS: "skipped",
    Outcome.PERMANENT: "failed",
    Outcome.TRANSIENT: "failed",
}


@dataclass(frozen=True)
class InAppMessage:
    kind: str
    title: str
    body: str


@dataclass
class Notice:
    """One notification for one recipient, on one or more channels."""

    dedupe_key: str
    type: str
    recipient_type: str  # customer, staff, recipient or channel
    recipient_id: str
    booking_id: str | None = None
    push: PushMessage | None = None
    # An Email, or a function that builds one: it is then called only when
    # this run has claimed the email, so a job that finds 3,000 bookings of
    # which 200 are due renders 200 emails.
    email: Email | None = None
    in_app: InAppMessage | None = None
    slack: SlackMessage | None = None

    def channels(self):
        pairs = (
            ("push", self.push),
            ("email", self.email),
            ("in_app", self.in_app),
            ("slack", self.slack),
        )
        return [name for name, message in pairs if message is not None]


@dataclass
class Tally:
    """What one call to deliver did."""

    processed: int = 0
    outcomes: dict = field(default_factory=lambda: defaultdict(int))
    transient: int = 0
    deferred: int = 0
    held: list = field(default_factory=list)  # pairs another delivery holds

    def summary(self):
        parts = [f"processed {self.processed}"]
        parts += [f"{name} {count}" for name, count in sorted(self.outcomes.items())]
        return ", ".join(parts)


def deliver(ctx, notices):
    """Send each notice once across all runs; return a Tally.

    Transient failures are counted on the context, so that the route answers
    500 after the other recipients are done and QStash retries. When the
    run's time budget is spent, what was claimed but not sent is released
    and BudgetExceeded is raised.
    """
    tally = Tally()
    size = max(1, int(ctx.config.get("NOTIFY_CHUNK_SIZE", 1000)))
    for start in range(0, len(notices), size):
        ctx.budget.check()
        _deliver_chunk(ctx, notices[start : start + size], tally)
    ctx.transient_failures += tally.transient
    if tally.processed or tally.outcomes:
        log.info("%s: %s", ctx.job, tally.summary())
    if tally.held:
        wait_for_holders(ctx, tally.held)
    return tally


def wait_for_holders(ctx, pairs):
    """Return once no other delivery holds these rows; else defer with 503.

    A row still `pending` is held by a delivery running now (QStash sent the
    message twice at once), which finishes in moments, or by one that died
    mid-send, whose lease has not run out. Answering 200 would tell QStash
    the work is done, and for a daily job nothing would ever send those; so
    wait a little for a live holder, then ask QStash to come back.
    """
    log.info("%s: %d notice(s) held by another delivery", ctx.job, len(pairs))
    wait = min(
        float(ctx.config.get("NOTIFY_HELD_WAIT_SECONDS", 5)), ctx.budget.remaining() - 1
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        time.sleep(HELD_POLL_SECONDS)
        if not _still_pending(pairs):
            return
    raise ctx.budget.held()


def _still_pending(pairs):
    Log = NotificationLog
    return Log.select().where(_among(pairs), Log.status == "pending").exists()


def _deliver_chunk(ctx, notices, tally):
    by_key = {notice.dedupe_key: notice for notice in notices}
    claimed, held = claim(ctx, notices)
    tally.held += held
    results = {}
    try:
        _send_claimed(ctx, by_key, claimed, results)
    finally:
        mark(ctx, claimed, results)
    delivered = set()
    for (key, channel), result in results.items():
        tally.outcomes[f"{channel} {result.outcome.value}"] += 1
        if result.outcome is Outcome.TRANSIENT:
            tally.transient += 1
        if result.outcome.delivered:
            delivered.add(key)
    tally.processed += len(delivered)
    tally.deferred += len(claimed) - len(results)
    if len(results) < len(claimed):
        raise ctx.budget.exceeded()


def claim(ctx, notices):
    """Claim the (dedupe_key, channel) rows of these notices.

    Returns ({pair: row id} of what this run now holds, [pairs another
    delivery holds as pending]).
    """
    now = ctx.now
    rows = [
        {
            "dedupe_key": notice.dedupe_key,
            "channel": channel,
            "type": notice.type,
            "recipient_type": notice.recipient_type,
            "recipient_id": notice.recipient_id,
            "booking_id": notice.booking_id,
            "status": "pending",
            "attempts": 1,
            "created_at": now,
            "updated_at": now,
        }
        for notice in notices
        for channel in notice.channels()
    ]
    if not rows:
        return {}, []
    # One order for every run: two runs inserting the same keys in different
    # orders (a random pick, say) could deadlock on PostgreSQL's unique index.
    rows.sort(key=lambda row: (row["dedupe_key"], row["channel"]))
    Log = NotificationLog
    inserted = (
        Log.insert_many(rows)
        .on_conflict_ignore()
        .returning(Log.id, Log.dedupe_key, Log.channel)
        .tuples()
        .execute()
    )
    claimed = {(key, channel): row_id for row_id, key, channel in inserted}
    others = [
        (row["dedupe_key"], row["channel"])
        for row in rows
        if (row["dedupe_key"], row["channel"]) not in claimed
    ]
    if others:
        lease = now - timedelta(
            seconds=int(ctx.config.get("NOTIFY_LEASE_SECONDS", 600))
        )
        attempts = int(ctx.config.get("NOTIFY_MAX_ATTEMPTS", 3))
        retaken = (
            Log.update(status="pending", attempts=Log.attempts + 1, updated_at=now)
            .where(
                _among(others),
                ((Log.status == "failed") & (Log.attempts < attempts))
                | ((Log.status == "pending") & (Log.updated_at < lease)),
            )
            .returning(Log.id, Log.dedupe_key, Log.channel)
            .tuples()
            .execute()
        )
        claimed.update({(key, channel): row_id for row_id, key, channel in retaken})
    held = []
    left = [pair for pair in others if pair not in claimed]
    if left:
        held = list(
            Log.select(Log.dedupe_key, Log.channel)
            .where(_among(left), Log.status == "pending")
            .tuples()
        )
    return claimed, held


def _among(pairs):
    """The log rows of these (dedupe_key, channel) pairs.

    The plain IN on dedupe_key lets PostgreSQL walk the unique index; the
    row-value IN alone would be a filter over the whole table.
    """
    Log = NotificationLog
    keys = sorted({key for key, _ in pairs})
    return Log.dedupe_key.in_(keys) & Tuple(Log.dedupe_key, Log.channel).in_(pairs)


def mark(ctx, claimed, results):
    """Record each result on its row; rows left without a result are released."""
    Log = NotificationLog
    groups = defaultdict(list)
    for pair, result in results.items():
        error = None if result.outcome.delivered else result.detail
        groups[(STATUS_FOR[result.outcome], error)].append(claimed[pair])
    with db.atomic():
        for (status, error), ids in groups.items():
            Log.update(status=status, last_error=error, updated_at=ctx.now).where(
                Log.id.in_(ids)
            ).execute()
        unsent = [row_id for pair, row_id in claimed.items() if pair not in results]
        if unsent:
            # Not sent (the time budget ran out): hand the attempt back so the
            # next delivery takes these at once instead of after the lease.
            Log.update(
                status="failed",
                attempts=Log.attempts - 1,
                last_error="deferred: time budget spent",
                updated_at=ctx.now,
            ).where(Log.id.in_(unsent)).execute()


def _send_claimed(ctx, by_key, claimed, results):
    work = defaultdict(list)
    for key, channel in claimed:
        work[channel].append(by_key[key])
    for notice in work["email"]:
        if callable(notice.email):
            notice.email = notice.email()
    if work["in_app"]:
        _write_in_app(ctx, work["in_app"], results)
    for notice in work["slack"]:
        if ctx.budget.spent():
            return
        results[(notice.dedupe_key, "slack")] = _guard(
            ctx.senders.slack.send, notice.slack
        )
    with ThreadPoolExecutor(
        max_workers=int(ctx.config.get("PUSH_CONCURRENCY", 32))
    ) as pool:
        pending_push = _start_pushes(ctx, pool, work["push"], results)
        _send_emails(ctx, work["email"], results)
        _finish_pushes(ctx, pending_push, results)


def _write_in_app(ctx, notices, results):
    rows = [
        {
            "id": "ian_" + hashlib.sha256(n.dedupe_key.encode()).hexdigest()[:24],
            "customer": n.recipient_id,
            "kind": n.in_app.kind,
            "title": n.in_app.title,
            "body": n.in_app.body,
            "created_at": ctx.now,
        }
        for n in notices
    ]
    InAppNotification.insert_many(rows).on_conflict_ignore().execute()
    for notice in notices:
        results[(notice.dedupe_key, "in_app")] = Result(Outcome.SENT)


def _send_emails(ctx, notices, results):
    sender = ctx.senders.email
    ready = []
    for notice in notices:
        if notice.email.to:
            ready.append(notice)
        else:
            results[(notice.dedupe_key, "email")] = Result(
                Outcome.NO_ADDRESS, "no email"
            )
    step = max(1, getattr(sender, "batch_size", 1))
    for start in range(0, len(ready), step):
        if ctx.budget.spent():
            return
        batch = ready[start : start + step]
        answers = _send_batch(ctx, sender, [n.email for n in batch])
        for notice, result in zip(batch, answers, strict=True):
            results[(notice.dedupe_key, "email")] = result
            if result.outcome is Outcome.TRANSIENT:
                log.warning(
                    "%s: email %s failed, %s", ctx.job, notice.type, result.detail
                )


def _send_batch(ctx, sender, emails):
    """Send a batch; emails a rate limit refused are sent again once it allows.

    A provider that answers 429 says when to come back. When that fits in
    what is left of the time budget, waiting here finishes the run in one
    delivery instead of failing it for QStash to retry. The emails keep their
    idempotency keys, so the provider cannot take one twice.
    """
    answers = _guard(sender.send_many, emails, many=len(emails))
    for _ in range(RATE_LIMIT_RETRIES):
        refused = [
            i
            for i, answer in enumerate(answers)
            if answer.outcome is Outcome.TRANSIENT and answer.retry_after is not None
        ]
        if not refused:
            break
        wait = max(answers[i].retry_after for i in refused)
        if wait > MAX_RATE_LIMIT_WAIT or wait >= ctx.budget.remaining() - 1:
            break
        log.info(
            "%s: email rate limited, sending %d again in %.1fs",
            ctx.job,
            len(refused),
            wait,
        )
        time.sleep(wait)
        again = _guard(
            sender.send_many, [emails[i] for i in refused], many=len(refused)
        )
        for i, answer in zip(refused, again, strict=True):
            answers[i] = answer
    return answers


def _start_pushes(ctx, pool, notices, results):
    """Submit every push of these notices to the pool: {notice key: futures}."""
    if not notices:
        return {}
    targets = push_targets(notices)
    pending = {}
    for notice in notices:
        subscriptions = targets.get((notice.recipient_type, notice.recipient_id), [])
        if not subscriptions:
            results[(notice.dedupe_key, "push")] = Result(
                Outcome.NO_ADDRESS, "no push subscription"
            )
            continue
        if ctx.budget.spent():
            break
        pending[notice.dedupe_key] = [
            (target, _submit(pool, ctx.senders.push.send, target, notice.push))
            for target in subscriptions
        ]
    return pending


def _finish_pushes(ctx, pending, results):
    gone = []
    for key, sends in pending.items():
        answers = []
        for target, future in sends:
            result = future.result()
            if result.gone:
                gone.append(target.id)
            answers.append(result)
        results[(key, "push")] = combine(answers)
    if gone:
        PushSubscription.delete().where(PushSubscription.id.in_(gone)).execute()
        log.info("%s: removed %d dead push subscription(s)", ctx.job, len(gone))


def combine(answers):
    """One outcome for a push to all of a person's browsers.

    Delivered to any browser counts as sent, so a retry never repeats it on
    the ones that got it; otherwise the most retryable failure wins.
    """
    answers = [answer for answer in answers if not answer.gone]
    for outcome in (Outcome.SENT, Outcome.NOOP, Outcome.TRANSIENT, Outcome.PERMANENT):
        for answer in answers:
            if answer.outcome is outcome:
                return answer
    return Result(Outcome.NO_ADDRESS, "every push subscription is gone")


def push_targets(notices):
    """Load the push subscriptions of these notices' recipients in one query."""
    customers = {n.recipient_id for n in notices if n.recipient_type == "customer"}
    staff = {n.recipient_id for n in notices if n.recipient_type == "staff"}
    query = PushSubscription.select()
    where = []
    if customers:
        where.append(PushSubscription.customer.in_(sorted(customers)))
    if staff:
        where.append(PushSubscription.staff.in_(sorted(staff)))
    if not where:
        return {}
    condition = where[0] if len(where) == 1 else where[0] | where[1]
    found = defaultdict(list)
    for row in query.where(condition).order_by(PushSubscription.id).namedtuples():
        target = PushTarget(row.id, row.endpoint, row.p256dh, row.auth)
        if row.customer is not None:
            found[("customer", row.customer)].append(target)
        else:
            found[("staff", row.staff)].append(target)
    return found


def _submit(pool, send, *args):
    """Run a send on the pool with the caller's log fields (job, message id)."""
    return pool.submit(contextvars.copy_context().run, _guard, send, *args)


def _guard(send, *args, many=None):
    """Call a sender; an exception it should not have raised is a transient failure."""
    try:
        return send(*args)
    except Exception as error:  # a sender bug must not lose the other sends
        log.exception("sender %s raised", getattr(send, "__qualname__", send))
        failure = Result(Outcome.TRANSIENT, f"{type(error).__name__}: {error}"[:500])
        return [failure] * many if many is not None else failure
