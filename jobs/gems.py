"""What is left of each gem lot once redemptions and expiries have eaten into it.

A customer's earned rows are lots, oldest first (`created_at`, then `id`).
Redemptions and expiries consume the oldest lots first, so with `consumed` the
customer's redeemed and expired gems (as a positive number) and
`earned_before` the lots older than a lot L:

    unspent(L) = clamp(L.amount - max(0, consumed - earned_before), 0, L.amount)

The computation runs in the database in one query, whatever the number of
customers or lots.
"""

from collections import namedtuple

from peewee import Case, Window, fn

from models import GemsTransaction

Lot = namedtuple("Lot", "lot_id customer_id amount expires_at unspent")


def unspent_of_lots(where, customers=None):
    """Return a Lot for every earned lot matching `where`, with its unspent part.

    `where` is a Peewee expression over GemsTransaction, such as
    `(GemsTransaction.kind == "earned") & (GemsTransaction.expires_at <= now)`.
    Only the ledgers of customers with a matching lot are read; a caller that
    already knows those customers passes their ids as `customers`, and only
    these ledgers are read, by customer, without searching for the matching
    lots first. Lots come ordered by customer, then oldest first.
    """
    g = GemsTransaction
    if customers is None:
        customers = g.select(g.customer).where(where)
    earned = Case(None, [(g.kind == "earned", g.amount)], 0)
    spent = Case(None, [(g.kind != "earned", 0 - g.amount)], 0)
    ledger = (
        g.select(
            g.id,
            g.customer,
            g.kind,
            g.amount,
            g.expires_at,
            g.created_at,
            fn.SUM(earned)
            .over(
                partition_by=[g.customer],
                order_by=[g.created_at, g.id],
                start=Window.preceding(),
                end=Window.CURRENT_ROW,
                frame_type=Window.ROWS,
            )
            .alias("earned_through"),
            fn.SUM(spent).over(partition_by=[g.customer]).alias("consumed"),
            Case(None, [(where, 1)], 0).alias("matches"),
        )
        .where(g.customer.in_(customers))
        .cte("ledger")
    )

    # earned_through is earned_before + amount, so the clamp reads:
    # all of it while consumption stops short of the lot, none once it passes.
    c = ledger.c
    unspent = Case(
        None,
        [
            (c.consumed <= c.earned_through - c.amount, c.amount),
            (c.consumed >= c.earned_through, 0),
        ],
        c.earned_through - c.consumed,
    )
    query = (
        ledger.select_from(
            c.id, c.customer_id, c.amount, c.expires_at, unspent.alias("unspent")
        )
        .where((c.kind == "earned") & (c.matches == 1))
        .order_by(c.customer_id, c.created_at, c.id)
        .tuples()
    )
    return [
        Lot(lot_id, customer_id, amount, g.expires_at.python_value(expires), int(left))
        for lot_id, customer_id, amount, expires, left in query
    ]
