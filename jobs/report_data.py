"""Sales figures over a run of IST days, per branch and for the chain.

A period is the half-open UTC range from the IST midnight that starts its
first day to the one that ends its last. Every figure is one GROUP BY per
branch on a plain range of one timestamp, so the number of queries stays
the same however many branches, invoices and bookings there are:

- revenue: invoices with status `paid`, by `paid_at`; gross is `total`,
  tax is `cgst + sgst + igst`, and gross is split by invoice kind;
- completed bookings: status `completed`, by `completed_at`;
- new bookings: any status, by `created_at`;
- cancellations: status `cancelled`, by `updated_at` (the moment the
  status last changed, as the schema keeps no cancellation time);
- no-shows: status `no_show`, by `start_time` (the appointment missed);
- top services: paid `service` invoices joined to their booking's service,
  ranked by gross.
"""

from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal

from peewee import Value, fn

from clock import ist_midnight
from models import Booking, Branch, Invoice, Service, money_sum, to_money

ZERO = Decimal("0.00")
TOP_SERVICES = 5  # for the chain
TOP_BRANCH_SERVICES = 3  # for each branch

SPLIT_BY_KIND = {
    "service": "services",
    "membership_purchase": "memberships",
    "product": "products",
}


@dataclass
class Figures:
    """What one branch, or the chain, did in a period."""

    gross: Decimal = ZERO
    taxable: Decimal = ZERO
    tax: Decimal = ZERO
    invoices: int = 0
    services: Decimal = ZERO
    memberships: Decimal = ZERO
    products: Decimal = ZERO
    completed: int = 0
    new: int = 0
    cancelled: int = 0
    no_shows: int = 0

    def __add__(self, other):
        return Figures(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in fields(self)
            }
        )

    @property
    def empty(self):
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class ServiceSales:
    name: str
    count: int
    gross: Decimal


@dataclass
class BranchSales:
    id: str
    name: str
    figures: Figures
    previous: Figures | None = None  # the period before, when compared
    top_services: list[ServiceSales] = field(default_factory=list)

    @property
    def quiet(self):
        """Nothing happened, in this period nor in the one it is compared with."""
        return self.figures.empty and (self.previous is None or self.previous.empty)


@dataclass
class SalesReport:
    first_day: date
    last_day: date
    branches: list[BranchSales]  # highest gross first
    total: Figures
    top_services: list[ServiceSales]
    previous_total: Figures | None = None

    @property
    def days(self):
        return (self.last_day - self.first_day).days + 1

    @property
    def compared(self):
        return self.previous_total is not None


def sales_report(first_day, last_day, compare=False):
    """Load the figures of the IST days first_day..last_day (inclusive).

    With `compare`, the same number of days just before is loaded too.
    Every active branch is listed, zeros included; an inactive one only
    when it has figures.
    """
    days = (last_day - first_day).days + 1
    start, end = ist_midnight(first_day), ist_midnight(last_day + timedelta(days=1))
    current = period_figures(start, end)
    previous = None
    if compare:
        previous = period_figures(ist_midnight(first_day - timedelta(days=days)), start)
    services = service_sales(start, end)

    branches = []
    for branch_id, name, active in Branch.select(
        Branch.id, Branch.name, Branch.is_active
    ).tuples():
        seen = branch_id in current or (previous is not None and branch_id in previous)
        if not (active or seen):
            continue
        branches.append(
            BranchSales(
                branch_id,
                name,
                current.get(branch_id, Figures()),
                None if previous is None else previous.get(branch_id, Figures()),
                ranked(services.get(branch_id, {}).values())[:TOP_BRANCH_SERVICES],
            )
        )
    branches.sort(key=lambda b: (-b.figures.gross, b.name, b.id))

    return SalesReport(
        first_day=first_day,
        last_day=last_day,
        branches=branches,
        total=sum((b.figures for b in branches), Figures()),
        top_services=chain_services(services)[:TOP_SERVICES],
        previous_total=None
        if previous is None
        else sum((b.previous for b in branches), Figures()),
    )


def period_figures(start, end):
    """Revenue and booking figures per branch in [start, end): {branch id: Figures}."""
    found = {}

    tax = Invoice.cgst + Invoice.sgst + Invoice.igst
    invoices = (
        Invoice.select(
            Invoice.branch,
            Invoice.kind,
            fn.COUNT(Invoice.id),
            money_sum(Invoice.total),
            money_sum(Invoice.taxable_amount),
            money_sum(tax),
        )
        .where(
            Invoice.status == "paid", Invoice.paid_at >= start, Invoice.paid_at < end
        )
        .group_by(Invoice.branch, Invoice.kind)
        .tuples()
    )
    for branch_id, kind, count, gross, taxable, tax_sum in invoices:
        figures = found.setdefault(branch_id, Figures())
        gross = to_money(gross)
        figures.invoices += count
        figures.gross += gross
        figures.taxable += to_money(taxable)
        figures.tax += to_money(tax_sum)
        split = SPLIT_BY_KIND[kind]
        setattr(figures, split, getattr(figures, split) + gross)

    for branch_id, figure, count in booking_counts(start, end):
        figures = found.setdefault(branch_id, Figures())
        setattr(figures, figure, count)
    return found


def booking_counts(start, end):
    """(branch id, Figures field, count) rows for the booking figures, one query."""

    def counted(figure, condition):
        return (
            Booking.select(
                Booking.branch, Value(figure).alias("figure"), fn.COUNT(Booking.id)
            )
            .where(condition)
            .group_by(Booking.branch)
        )

    def within(column):
        return (column >= start) & (column < end)

    query = (
        counted(
            "completed",
            (Booking.status == "completed") & within(Booking.completed_at),
        )
        + counted("new", within(Booking.created_at))
        + counted(
            "cancelled", (Booking.status == "cancelled") & within(Booking.updated_at)
        )
        + counted(
            "no_shows", (Booking.status == "no_show") & within(Booking.start_time)
        )
    )
    return query.tuples()


def service_sales(start, end):
    """Paid service invoices per branch and service: {branch: {service: sales}}."""
    rows = (
        Invoice.select(
            Invoice.branch,
            Service.id,
            Service.name,
            fn.COUNT(Invoice.id),
            money_sum(Invoice.total),
        )
        .join(Booking, on=(Invoice.booking == Booking.id))
        .join(Service, on=(Booking.service == Service.id))
        .where(
            Invoice.status == "paid",
            Invoice.kind == "service",
            Invoice.paid_at >= start,
            Invoice.paid_at < end,
        )
        .group_by(Invoice.branch, Service.id, Service.name)
        .tuples()
    )
    found = {}
    for branch_id, service_id, name, count, gross in rows:
        found.setdefault(branch_id, {})[service_id] = ServiceSales(
            name, count, to_money(gross)
        )
    return found


def chain_services(by_branch):
    """Add up each service across branches, best first."""
    totals = {}
    for services in by_branch.values():
        for service_id, sales in services.items():
            known = totals.get(service_id)
            totals[service_id] = (
                sales
                if known is None
                else ServiceSales(
                    sales.name, known.count + sales.count, known.gross + sales.gross
                )
            )
    return ranked(totals.values())


def ranked(services):
    return sorted(services, key=lambda s: (-s.gross, -s.count, s.name))
