"""Nightly writes that keep the platform's data true: expiries and clean-up.

Every write is guarded by the condition that made it due, so a second run, a
QStash retry or two deliveries at once change nothing more than one run.
"""

import logging
from contextlib import contextmanager

from peewee import SQL, Case, IntegrityError, Value, fn

from clock import ist_date
from jobs.gems import unspent_of_lots
from models import (
    Customer,
    GemsTransaction,
    Offer,
    Session,
    SpaMembership,
    db,
    is_postgres,
)

log = logging.getLogger(__name__)

SESSION_BATCH = 5000


def membership_auto_expire(ctx):
    """Mark active memberships whose expiry has passed as expired."""
    m = SpaMembership
    changed = (
        m.update(status="expired", updated_at=ctx.now)
        .where((m.status == "active") & (m.expires_at <= ctx.now))
        .execute()
    )

    log.info("membership-auto-expire: %d membership(s) expired", changed)
    return {"success": True, "processed": changed}


def offer_auto_expire(ctx):
    """Deactivate offers whose last day is before today (IST)."""
    today = ist_date(ctx.now)
    changed = (
        Offer.update(is_active=False, updated_at=ctx.now)
        .where(Offer.is_active & (Offer.end_date < today))
        .execute()
    )

    log.info("offer-auto-expire: %d offer(s) ended before %s", changed, today)
    return {"success": True, "processed": changed}


def gems_auto_expire(ctx):
    """Expire the unspent part of every earned lot past its expiry.

    One transaction per customer, with the customer's row locked, so that a
    redemption cannot slip between reading the ledger and writing the expiry.
    """
    due = _due_lots(ctx.now)
    g = GemsTransaction
    customers = [
        customer_id
        for (customer_id,) in g.select(g.customer)
        .where(due)
        .distinct()
        .order_by(g.customer)
        .tuples()
    ]

    expired = 0
    for done, customer_id in enumerate(customers):
        if ctx.budget.spent():
            log.warning(
                "gems-auto-expire: time budget spent after %d of %d customer(s), "
                "%d lot(s) expired",
                done,
                len(customers),
                expired,
            )
            raise ctx.budget.exceeded()
        try:
            expired += _expire_customer(customer_id, due, ctx.now)
        except IntegrityError:
            log.info(
                "gems-auto-expire: customer %s already expired by another run",
                customer_id,
            )

    log.info(
        "gems-auto-expire: %d lot(s) expired for %d customer(s)",
        expired,
        len(customers),
    )
    return {"success": True, "processed": expired}


def _due_lots(now):
    """Earned lots past their expiry that have no expiry row yet."""
    g = GemsTransaction
    marker = GemsTransaction.alias("marker")
    expiry_row = marker.select(SQL("1")).where(
        marker.reference == Value("expired:").concat(g.id)
    )
    return (g.kind == "earned") & (g.expires_at <= now) & ~fn.EXISTS(expiry_row)


def _expire_customer(customer_id, due, now):
    """Write one customer's expiry rows and lower their balance; return how
    many lots lost a non-zero amount."""
    g = GemsTransaction
    with _customer_locked(customer_id):
        lots = unspent_of_lots(due & (g.customer == customer_id))
        if not lots:
            return 0
        g.insert_many(
            [
                {
                    "id": f"gem_exp_{lot.lot_id}",
                    "customer": customer_id,
                    "kind": "expired",
                    "amount": -lot.unspent,
                    "reference": f"expired:{lot.lot_id}",
                    "created_at": now,
                }
                for lot in lots
            ]
        ).execute()
        total = sum(lot.unspent for lot in lots)
        if total:
            balance = Customer.gems_balance
            Customer.update(
                gems_balance=Case(None, [(balance > total, balance - total)], 0)
            ).where(Customer.id == customer_id).execute()

    return sum(1 for lot in lots if lot.unspent)


@contextmanager
def _customer_locked(customer_id):
    """A transaction holding the customer's row against concurrent writers.

    PostgreSQL takes a row lock with SELECT ... FOR UPDATE; SQLite has no row
    locks, so the transaction starts IMMEDIATE and holds the database's one
    write lock instead.
    """
    if not is_postgres():
        with db.atomic("IMMEDIATE"):
            yield
        return
    with db.atomic():
        list(
            Customer.select(Customer.id).where(Customer.id == customer_id).for_update()
        )
        yield


def session_cleanup(ctx):
    """Delete expired sessions, SESSION_BATCH rows per committed statement.

    When the time budget runs out the job stops between batches: what was
    deleted stays deleted, and the route answers 503 so QStash comes back for
    the rest.
    """
    s = Session
    deleted = 0
    while True:
        if ctx.budget.spent():
            log.warning(
                "session-cleanup: time budget spent after %d session(s) deleted",
                deleted,
            )
            raise ctx.budget.exceeded()
        batch = s.select(s.id).where(s.expires_at < ctx.now).limit(SESSION_BATCH)
        if is_postgres():
            # Two runs at once share the work instead of queueing on the same rows.
            batch = batch.for_update(skip_locked=True)
        with db.atomic():
            count = s.delete().where(s.id.in_(batch)).execute()
        deleted += count
        if count < SESSION_BATCH:
            break

    log.info("session-cleanup: %d expired session(s) deleted", deleted)
    return {"success": True, "processed": deleted}
