"""Summary tables the platform reads instead of adding up invoices itself.

Both jobs aggregate in SQL and upsert, so a rerun or a backfill rewrites the
same rows with the same values.
"""

import logging
import re
from datetime import date, timedelta

from peewee import JOIN, Case, fn

from clock import ist_date, ist_day_bounds, ist_midnight, next_month, previous_month
from models import (
    Booking,
    Branch,
    DailySalesSummary,
    Invoice,
    MonthlyGstSummary,
    db,
    money_sum,
    to_money,
)

log = logging.getLogger(__name__)

GST_KINDS = ("service", "membership_purchase")
SALES_AMOUNTS = (
    "taxable_amount",
    "tax_amount",
    "gross_amount",
    "service_amount",
    "membership_amount",
)


def nightly_sales_summary(ctx):
    """Write yesterday's (or a requested IST day's) row for every active branch."""
    day = _requested(ctx, "date", r"\d{4}-\d{2}-\d{2}", date.fromisoformat)
    day = day or ist_date(ctx.now) - timedelta(days=1)

    rows = [
        {
            **row,
            **{name: _money(row[name]) for name in SALES_AMOUNTS},
            "summary_date": day,
            "updated_at": ctx.now,
        }
        for row in _sales_by_branch(day)
    ]

    if rows:
        _upsert(DailySalesSummary, rows, key=("branch", "summary_date"))

    log.info("nightly-sales-summary: %s written for %d branch(es)", day, len(rows))
    return {"success": True, "processed": len(rows)}


def _sales_by_branch(day):
    """One row per active branch: paid invoices by `paid_at` and completed
    bookings by `completed_at`, both within the IST day."""
    start, end = ist_day_bounds(day)
    i = Invoice
    sales = (
        i.select(
            i.branch.alias("branch_id"),
            fn.COUNT(i.id).alias("invoices"),
            money_sum(i.taxable_amount).alias("taxable"),
            money_sum(i.cgst + i.sgst + i.igst).alias("tax"),
            money_sum(i.total).alias("gross"),
            money_sum(_only(i.kind == "service", i.total)).alias("services"),
            money_sum(_only(i.kind == "membership_purchase", i.total)).alias(
                "memberships"
            ),
        )
        .where((i.status == "paid") & (i.paid_at >= start) & (i.paid_at < end))
        .group_by(i.branch)
        .alias("sales")
    )
    b = Booking
    completed = (
        b.select(b.branch.alias("branch_id"), fn.COUNT(b.id).alias("bookings"))
        .where(
            (b.status == "completed")
            & (b.completed_at >= start)
            & (b.completed_at < end)
        )
        .group_by(b.branch)
        .alias("completed")
    )
    return (
        Branch.select(
            Branch.id.alias("branch"),
            fn.COALESCE(sales.c.invoices, 0).alias("invoice_count"),
            sales.c.taxable.alias("taxable_amount"),
            sales.c.tax.alias("tax_amount"),
            sales.c.gross.alias("gross_amount"),
            sales.c.services.alias("service_amount"),
            sales.c.memberships.alias("membership_amount"),
            fn.COALESCE(completed.c.bookings, 0).alias("completed_bookings"),
        )
        .join_from(Branch, sales, JOIN.LEFT_OUTER, on=sales.c.branch_id == Branch.id)
        .join_from(
            Branch, completed, JOIN.LEFT_OUTER, on=completed.c.branch_id == Branch.id
        )
        .where(Branch.is_active)
        .order_by(Branch.id)
        .dicts()
    )


def monthly_gst_summary(ctx):
    """Write last IST month's (or a requested month's) GST totals per branch,
    SAC code and rate."""
    month = _requested(
        ctx, "month", r"\d{4}-\d{2}", lambda v: date.fromisoformat(v + "-01")
    )
    month = month or previous_month(ist_date(ctx.now))

    rows = []
    for branch_id, sac, rate, count, taxable, cgst, sgst, igst in _gst_groups(month):
        cgst, sgst, igst = _money(cgst), _money(sgst), _money(igst)
        total_tax = cgst + sgst + igst
        rows.append(
            {
                "branch": branch_id,
                "month": month,
                "sac_code": sac,
                "gst_rate": to_money(rate),
                "invoice_count": count,
                "taxable_value": _money(taxable),
                "cgst": cgst,
                "sgst": sgst,
                "igst": igst,
                "total_tax": total_tax,
                "total_value": _money(taxable) + total_tax,
                "updated_at": ctx.now,
            }
        )

    with db.atomic():
        _delete_vanished_groups(month, rows)
        if rows:
            _upsert(
                MonthlyGstSummary, rows, key=("branch", "month", "sac_code", "gst_rate")
            )

    log.info(
        "monthly-gst-summary: %s written as %d row(s)", f"{month:%Y-%m}", len(rows)
    )
    return {"success": True, "processed": len(rows)}


def _gst_groups(month):
    """Paid service and membership invoices of the IST month, summed per
    branch, SAC code and GST rate."""
    start, end = ist_midnight(month), ist_midnight(next_month(month))
    i = Invoice
    return (
        i.select(
            i.branch,
            i.sac_code,
            i.gst_rate,
            fn.COUNT(i.id),
            money_sum(i.taxable_amount),
            money_sum(i.cgst),
            money_sum(i.sgst),
            money_sum(i.igst),
        )
        .where(
            (i.status == "paid")
            & i.kind.in_(GST_KINDS)
            & (i.paid_at >= start)
            & (i.paid_at < end)
        )
        .group_by(i.branch, i.sac_code, i.gst_rate)
        .order_by(i.branch, i.sac_code, i.gst_rate)
        .tuples()
    )


def _delete_vanished_groups(month, rows):
    """Drop the month's rows whose invoices are no longer there (voided since
    the last run), so that a recomputed month holds only what it adds up to."""
    g = MonthlyGstSummary
    fresh = {(r["branch"], r["sac_code"], r["gst_rate"]) for r in rows}
    stale = [
        (branch_id, sac, rate)
        for branch_id, sac, rate in g.select(g.branch, g.sac_code, g.gst_rate)
        .where(g.month == month)
        .tuples()
        if (branch_id, sac, to_money(rate)) not in fresh
    ]
    for branch_id, sac, rate in stale:
        g.delete().where(
            (g.month == month)
            & (g.branch == branch_id)
            & (g.sac_code == sac)
            & (g.gst_rate == rate)
        ).execute()


def _upsert(model, rows, key):
    """Insert the rows, or overwrite every other column where the key exists."""
    fields = model._meta.fields
    model.insert_many(rows).on_conflict(
        conflict_target=[fields[name] for name in key],
        preserve=[field for name, field in fields.items() if name not in key],
    ).execute()


# Backfills reach this far: beyond, a date cannot be bucketed in IST (year 1
# or 9999) and is surely a typo.
BACKFILL_FROM = date(2000, 1, 1)
BACKFILL_UNTIL = date(2099, 12, 31)


def _requested(ctx, field, pattern, parse):
    """The backfill value named in the body, or None (with a warning if invalid)."""
    raw = ctx.payload.get(field)
    if raw is None:
        return None
    if isinstance(raw, str) and re.fullmatch(pattern, raw):
        try:
            value = parse(raw)
        except ValueError:
            value = None
        if value is not None and BACKFILL_FROM <= value <= BACKFILL_UNTIL:
            return value
    log.warning(
        "%s: ignoring invalid %s %r, using the default", ctx.job, field, str(raw)[:32]
    )
    return None


def _only(condition, amount):
    return Case(None, [(condition, amount)], 0)


def _money(value):
    return to_money(value or 0)
