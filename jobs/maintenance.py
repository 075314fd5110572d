"""Nightly writes that keep the platform's data true: expiries and clean-up.

Every write is guarded by the condition that made it due, so a second run, a
QStash retry or two deliveries at once change nothing more than one run.
"""

import logging
from contextlib import contextmanager

from peewee import SQL, Case, Value, ValuesList, fn

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
# Customers whose lots gems-auto-expire expires in one transaction.
GEMS_CHUNK = 500


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

    Customers with due lots are taken GEMS_CHUNK at a time, one transaction per
    chunk with the chunk's customer rows locked, so that a redemption cannot
    slip between reading a ledger and writing its expiry. A chunk costs four
    statements (three on SQLite) whatever the number of its customers and lots.
    """
    g = GemsTransaction
    customers = [
        customer_id
        for (customer_id,) in g.select(g.customer)
        .where(_due_lots(ctx.now))
        .distinct()
        .order_by(g.customer)
        .tuples()
    ]

    expired = 0
    for done in range(0, len(customers), GEMS_CHUNK):
        if ctx.budget.spent():
            log.warning(
                "gems-auto-expire: time budget spent after %d of %d customer(s), "
                "%d lot(s) expired",
                done,
                len(customers),
                expired,
            )
            raise ctx.budget.exceeded()
        expired += _expire_chunk(customers[done : done + GEMS_CHUNK], ctx.now)

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


def _expire_chunk(customer_ids, now):
    """Write the expiry rows of these customers' due lots and lower their
    balances; return how many lots lost a non-zero amount.

    The lots are read again under the lock: a redemption or another run that
    committed meanwhile is seen. An expiry row that appears from elsewhere
    without the lock is skipped by the insert, and its lot lowers no balance.
    """
    g = GemsTransaction
    with _customers_locked(customer_ids):
        lots = unspent_of_lots(_due_lots(now), customers=customer_ids)
        if not lots:
            return 0
        written = list(
            g.insert_many(
                [
                    {
                        "id": f"gem_exp_{lot.lot_id}",
                        "customer": lot.customer_id,
                        "kind": "expired",
                        "amount": -lot.unspent,
                        "reference": f"expired:{lot.lot_id}",
                        "created_at": now,
                    }
                    for lot in lots
                ]
            )
            .on_conflict(action="NOTHING", conflict_target=[g.reference])
            .returning(g.customer, g.amount)
            .tuples()
            .execute()
        )
        totals = {}
        for customer_id, amount in written:
            if amount:
                totals[customer_id] = totals.get(customer_id, 0) - amount
        if totals:
            _lower_balances(totals)

    if len(written) < len(lots):
        log.info(
            "gems-auto-expire: %d lot(s) already expired by another writer",
            len(lots) - len(written),
        )
    return sum(1 for _, amount in written if amount)


def _lower_balances(totals):
    """Lower each customer's balance by their total, never below zero, in one
    UPDATE."""
    balance = Customer.gems_balance
    if is_postgres():
        by = ValuesList(list(totals.items()), columns=("id", "amount"), alias="v")
        lowered = Customer.update(gems_balance=fn.GREATEST(balance - by.c.amount, 0))
        lowered.from_(by).where(Customer.id == by.c.id).execute()
        return
    amount = Case(Customer.id, list(totals.items()))
    lowered = Customer.update(gems_balance=fn.MAX(balance - amount, 0))
    lowered.where(Customer.id.in_(list(totals))).execute()


@contextmanager
def _customers_locked(customer_ids):
    """A transaction holding these customers' rows against concurrent writers.

    PostgreSQL takes row locks with one SELECT ... FOR UPDATE, in id order so
    that two runs at once queue instead of deadlocking; SQLite has no row
    locks, so the transaction starts IMMEDIATE and holds the database's one
    write lock instead.
    """
    if not is_postgres():
        with db.atomic("IMMEDIATE"):
            yield
        return
    with db.atomic():
        c = Customer
        rows = c.select(c.id).where(c.id.in_(customer_ids)).order_by(c.id)
        list(rows.for_update().tuples())
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
