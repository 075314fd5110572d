"""Due data for each notification job, relative to the real clock.

Each builder writes rows that make `n` recipients due for its job right now
and answers a `Due`: the messages to deliver (one empty body for a scheduled
job, one body per record for a triggered one), what each recipient must get,
and what the answers' counts must add up to.
"""

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from clock import IST, ist_date
from models import (
    Booking,
    Branch,
    Customer,
    GemsTransaction,
    Invoice,
    Lead,
    PushSubscription,
    ReportRecipient,
    SpaMembership,
    Staff,
)


@dataclass
class Due:
    job: str
    bodies: list  # one QStash message per body
    expected: Counter  # (channel, recipient) -> messages it must get
    count: int  # what `processed` (or sent / notified) must add up to
    answer_field: str | None = "processed"
    records: list = field(default_factory=list)


def ist_noon(day):
    return datetime.combine(day, time(12), tzinfo=IST).astimezone(UTC)


class Seeder:
    def __init__(self, providers, now=None):
        self.providers = providers
        self.now = now or datetime.now(UTC)
        self.today = ist_date(self.now)
        self.serial = 0
        self.branch = None
        self.addresses = set()  # every address seeded, for the secrets scan

    def _id(self, prefix):
        self.serial += 1
        return f"{prefix}_{self.serial:05d}"

    def reset(self):
        """Forget rows of a truncated database."""
        self.branch = None

    def _branch(self):
        if self.branch is None:
            self.branch = Branch.create(
                id=self._id("br"), name="Indiranagar", state_code="29"
            )
        return self.branch

    def customer(self, push=True, **kw):
        """A customer with an address and, unless told, one browser."""
        cid = self._id("cus")
        kw.setdefault("email", f"{cid}@guests.test")
        self.addresses.add(kw["email"])
        kw.setdefault("marketing_consent", True)
        customer = Customer.create(id=cid, name=f"Guest {cid}", **kw)
        if push:
            self.subscribe(customer=customer)
        return customer

    def subscribe(self, **owner):
        browser, endpoint = self.providers.browser()
        PushSubscription.create(
            id=self._id("ps"),
            endpoint=endpoint,
            p256dh=browser.p256dh,
            auth=browser.auth_key,
            **owner,
        )
        return browser.token

    def staff(self, role="receptionist"):
        member = Staff.create(
            id=self._id("stf"), name="Ananya Iyer", role=role, branch=self._branch()
        )
        return member, self.subscribe(staff=member)

    def booking(self, customer, start, status="confirmed", **kw):
        kw.setdefault("created_at", self.now - timedelta(days=2))
        return Booking.create(
            id=self._id("bk"),
            customer=customer,
            branch=self._branch(),
            status=status,
            start_time=start,
            end_time=start + timedelta(minutes=60),
            amount=Decimal("2500.00"),
            updated_at=kw["created_at"],
            **kw,
        )

    def _token(self, customer):
        return PushSubscription.get(PushSubscription.customer == customer).endpoint

    # Scheduled notification jobs ------------------------------------------

    def appointment_reminders(self, n):
        expected = Counter()
        for _ in range(n):
            customer = self.customer()
            self.booking(customer, self.now + timedelta(minutes=40))
            expected[("email", customer.email)] += 1
            expected[("push", _last(self._token(customer)))] += 1
        return Due("appointment-reminders", [b""], expected, n)

    def membership_expiry(self, n):
        expected = Counter()
        for index in range(n):
            customer = self.customer()
            days = (30, 7, 1)[index % 3]
            SpaMembership.create(
                id=self._id("mem"),
                customer=customer,
                plan_name="Gold Spa 12 Hours",
                status="active",
                starts_at=self.now - timedelta(days=300),
                expires_at=ist_noon(self.today + timedelta(days=days)),
                total_hours=Decimal("12.00"),
            )
            expected[("push", _last(self._token(customer)))] += 1
        return Due("membership-expiry", [b""], expected, n)

    def birthday_emails(self, n):
        expected = Counter()
        born = self.today.replace(year=1992)  # a leap year: 29 Feb exists
        for _ in range(n):
            customer = self.customer(push=False, date_of_birth=born)
            expected[("email", customer.email)] += 1
        return Due("birthday-emails", [b""], expected, n)

    def lead_followups(self, n):
        expected = Counter()
        for _ in range(n):
            member, token = self.staff(role="sales")
            Lead.create(
                id=self._id("lead"),
                name="Rahul Verma",
                status="follow_up",
                assigned_staff=member,
                last_contacted_at=self.now - timedelta(days=3),
                created_at=self.now - timedelta(days=10),
            )
            expected[("push", token)] += 1
        return Due("lead-followups", [b""], expected, n)

    def gems_expiry_reminder(self, n):
        expected = Counter()
        expiry = ist_noon(self.today + timedelta(days=7))
        for _ in range(n):
            customer = self.customer(gems_balance=100)
            GemsTransaction.create(
                id=self._id("gem"),
                customer=customer,
                kind="earned",
                amount=100,
                expires_at=expiry,
                created_at=expiry - timedelta(days=365),
            )
            expected[("push", _last(self._token(customer)))] += 1
        return Due("gems-expiry-reminder", [b""], expected, n)

    def membership_usage_nudges(self, n):
        expected = Counter()
        for _ in range(n):
            customer = self.customer()
            SpaMembership.create(
                id=self._id("mem"),
                customer=customer,
                plan_name="Gold Spa 12 Hours",
                status="active",
                starts_at=self.now - timedelta(days=30),
                expires_at=self.now + timedelta(days=200),
                total_hours=Decimal("12.00"),
                used_hours=Decimal("2.00"),
            )
            expected[("push", _last(self._token(customer)))] += 1
        return Due("membership-usage-nudges", [b""], expected, n)

    def _report(self, job, n):
        expected = Counter({("slack", "report"): 1})
        for _ in range(n):
            recipient = ReportRecipient.create(
                id=self._id("rr"), email=f"{self._id('owner')}@theroyalglow.test"
            )
            self.addresses.add(recipient.email)
            expected[("email", recipient.email)] += 1
        return Due(job, [b""], expected, 0, answer_field=None)

    def daily_sales_report(self, n):
        return self._report("daily-sales-report", n)

    def weekly_report(self, n):
        return self._report("weekly-report", n)

    # Triggered notification jobs ------------------------------------------

    def post_service_followup(self, n):
        expected, bodies = Counter(), []
        for _ in range(n):
            customer = self.customer(push=False)
            booking = self.booking(
                customer,
                self.now - timedelta(hours=26),
                status="completed",
                completed_at=self.now - timedelta(hours=25),
            )
            bodies.append(_body(bookingId=booking.id))
            expected[("email", customer.email)] += 1
        return Due("post-service-followup", bodies, expected, n, "sent")

    def stale_booking_alert(self, n):
        expected, bodies, records = Counter(), [], []
        for _ in range(n):
            customer = self.customer()
            booking = self.booking(
                customer,
                self.now + timedelta(days=2),
                status="pending",
                created_at=self.now - timedelta(hours=30),
            )
            bodies.append(_body(bookingId=booking.id))
            records.append(booking.id)
            expected[("email", customer.email)] += 1
            expected[("push", _last(self._token(customer)))] += 1
        return Due("stale-booking-alert", bodies, expected, n, "notified", records)

    def noshow_check(self, n):
        expected, bodies = Counter(), []
        desk = [self.staff() for _ in range(2)]
        for _ in range(n):
            customer = self.customer(push=False)
            booking = self.booking(customer, self.now - timedelta(hours=2))
            bodies.append(_body(bookingId=booking.id))
            for _, token in desk:
                expected[("push", token)] += 1
        return Due("noshow-check", bodies, expected, n * len(desk), "notified")

    def membership_expired_notice(self, n):
        expected, bodies = Counter(), []
        for _ in range(n):
            customer = self.customer(push=False)
            membership = SpaMembership.create(
                id=self._id("mem"),
                customer=customer,
                plan_name="Gold Spa 12 Hours",
                status="expired",
                starts_at=self.now - timedelta(days=366),
                expires_at=self.now - timedelta(hours=1, minutes=5),
                total_hours=Decimal("12.00"),
            )
            bodies.append(_body(membershipId=membership.id))
            expected[("email", customer.email)] += 1
        return Due("membership-expired-notice", bodies, expected, n, "sent")

    def invoice_pdf(self, n):
        expected, bodies = Counter(), []
        for _ in range(n):
            customer = self.customer(push=False)
            invoice_id = self._id("inv")
            Invoice.create(
                id=invoice_id,
                number=f"RG/{invoice_id}",
                customer=customer,
                branch=self._branch(),
                kind="service",
                status="paid",
                paid_at=self.now - timedelta(minutes=5),
                gst_rate=Decimal("18.00"),
                taxable_amount=Decimal("1000.00"),
                cgst=Decimal("90.00"),
                sgst=Decimal("90.00"),
                igst=Decimal("0.00"),
                total=Decimal("1180.00"),
            )
            bodies.append(_body(invoiceId=invoice_id))
            expected[("email", customer.email)] += 1
        return Due("invoice-pdf", bodies, expected, n, "sent")

    # The gems ledger -------------------------------------------------------

    def gems_to_expire(self, n):
        """n customers: earn 100 a year ago, earn 50, redeem 60 (balance 90);
        the old lot's unspent 40 is due to expire, leaving 50."""
        for _ in range(n):
            customer = self.customer(push=False, gems_balance=90)
            old = self.now - timedelta(days=366)
            rows = [
                ("earned", 100, old, old + timedelta(days=365)),
                ("earned", 50, self.now - timedelta(days=30), None),
                ("redeemed", -60, self.now - timedelta(days=20), None),
            ]
            for kind, amount, created, expires in rows:
                GemsTransaction.create(
                    id=self._id("gem"),
                    customer=customer,
                    kind=kind,
                    amount=amount,
                    created_at=created,
                    expires_at=expires
                    or (created + timedelta(days=365) if kind == "earned" else None),
                )
        return n


def _body(**fields):
    return json.dumps(fields).encode()


def _last(endpoint):
    return endpoint.rsplit("/", 1)[-1]


NOTIFICATION_JOBS = [
    "appointment-reminders",
    "membership-expiry",
    "birthday-emails",
    "lead-followups",
    "gems-expiry-reminder",
    "membership-usage-nudges",
    "daily-sales-report",
    "weekly-report",
    "post-service-followup",
    "stale-booking-alert",
    "noshow-check",
    "membership-expired-notice",
    "invoice-pdf",
]


def seed(seeder, job, n):
    return getattr(seeder, job.replace("-", "_"))(n)
