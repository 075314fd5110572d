"""Small builders for platform rows, with defaults a test can override."""

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from models import (
    Booking,
    Branch,
    Customer,
    GemsTransaction,
    Invoice,
    Lead,
    Offer,
    PushSubscription,
    ReportRecipient,
    Service,
    Session,
    SpaMembership,
    Staff,
)

_ids = itertools.count(1)


def new_id(prefix):
    return f"{prefix}_{next(_ids):06d}"


def at(text):
    """An aware UTC instant from 'YYYY-MM-DD HH:MM' given in IST."""
    naive = datetime.fromisoformat(text)
    return (naive - timedelta(hours=5, minutes=30)).replace(tzinfo=UTC)


def branch(**kw):
    kw.setdefault("id", new_id("br"))
    kw.setdefault("name", "Indiranagar")
    kw.setdefault("state_code", "29")
    kw.setdefault("gstin", "29ABCDE1234F1Z5")
    return Branch.create(**kw)


def customer(**kw):
    kw.setdefault("id", new_id("cus"))
    kw.setdefault("name", "Priya Sharma")
    kw.setdefault("email", f"{kw['id']}@example.com")
    kw.setdefault("phone", "+919800000000")
    kw.setdefault("marketing_consent", True)
    return Customer.create(**kw)


def staff(branch=None, **kw):
    kw.setdefault("id", new_id("stf"))
    kw.setdefault("name", "Ananya Iyer")
    kw.setdefault("role", "receptionist")
    kw.setdefault("email", f"{kw['id']}@example.com")
    return Staff.create(branch=branch, **kw)


def push_subscription(owner, **kw):
    kw.setdefault("id", new_id("ps"))
    kw.setdefault("endpoint", f"https://push.example.test/{kw['id']}")
    kw.setdefault("p256dh", "BP256dh-test-key")
    kw.setdefault("auth", "auth-test")
    if isinstance(owner, Customer):
        kw["customer"] = owner
    else:
        kw["staff"] = owner
    return PushSubscription.create(**kw)


def service(**kw):
    kw.setdefault("id", new_id("svc"))
    kw.setdefault("name", "Swedish Massage (60 min)")
    kw.setdefault("category", "massage")
    return Service.create(**kw)


def booking(customer, branch, start, minutes=60, **kw):
    kw.setdefault("id", new_id("bk"))
    kw.setdefault("status", "confirmed")
    kw.setdefault("amount", Decimal("2500.00"))
    kw.setdefault("created_at", start - timedelta(days=2))
    kw.setdefault("updated_at", kw["created_at"])
    return Booking.create(
        customer=customer,
        branch=branch,
        start_time=start,
        end_time=start + timedelta(minutes=minutes),
        **kw,
    )


def membership(customer, expires_at, **kw):
    kw.setdefault("id", new_id("mem"))
    kw.setdefault("plan_name", "Gold Spa 12 Hours")
    kw.setdefault("status", "active")
    kw.setdefault("starts_at", expires_at - timedelta(days=365))
    kw.setdefault("total_hours", Decimal("12.00"))
    kw.setdefault("used_hours", Decimal("0.00"))
    return SpaMembership.create(customer=customer, expires_at=expires_at, **kw)


def gems(customer, kind, amount, created_at, **kw):
    kw.setdefault("id", new_id("gem"))
    if kind == "earned":
        kw.setdefault("expires_at", created_at + timedelta(days=365))
    return GemsTransaction.create(
        customer=customer, kind=kind, amount=amount, created_at=created_at, **kw
    )


def lead(**kw):
    kw.setdefault("id", new_id("lead"))
    kw.setdefault("name", "Rahul Verma")
    kw.setdefault("status", "follow_up")
    return Lead.create(**kw)


def invoice(customer, branch, paid_at=None, taxable="1000.00", rate="18.00", **kw):
    """A paid intra-state invoice: CGST and SGST are half the tax each."""
    taxable = Decimal(taxable)
    rate = Decimal(rate)
    tax = (taxable * rate / 100).quantize(Decimal("0.01"))
    half = (tax / 2).quantize(Decimal("0.01"))
    kw.setdefault("id", new_id("inv"))
    kw.setdefault("number", f"RG/{kw['id']}")
    kw.setdefault("kind", "service")
    kw.setdefault("status", "paid" if paid_at else "issued")
    kw.setdefault("cgst", half)
    kw.setdefault("sgst", tax - half)
    kw.setdefault("igst", Decimal("0.00"))
    kw.setdefault("total", taxable + kw["cgst"] + kw["sgst"] + kw["igst"])
    return Invoice.create(
        customer=customer,
        branch=branch,
        paid_at=paid_at,
        gst_rate=rate,
        taxable_amount=taxable,
        **kw,
    )


def offer(**kw):
    kw.setdefault("id", new_id("off"))
    kw.setdefault("title", "Monsoon 20% off")
    kw.setdefault("start_date", date(2026, 11, 1))
    return Offer.create(**kw)


def report_recipient(**kw):
    kw.setdefault("id", new_id("rr"))
    kw.setdefault("email", f"{kw['id']}@theroyalglow.in")
    return ReportRecipient.create(**kw)


def session(expires_at, **kw):
    kw.setdefault("id", new_id("ses"))
    kw.setdefault("token", "tok_" + kw["id"])
    kw.setdefault("updated_at", expires_at - timedelta(days=7))
    kw.setdefault("user_id", "usr_1")
    return Session.create(expires_at=expires_at, **kw)
