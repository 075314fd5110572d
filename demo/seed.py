"""Realistic demo data for the spa chain, laid out around a given instant.

Three branches in three Indian states (one of them closed for renovation),
a few hundred customers with Indian names, staff, bookings from last month
to the next few days, memberships, gem lots, leads, offers, invoices at 5 %
(services and memberships) and 18 % (retail products), sessions, report
recipients and push subscriptions with endpoints that lead nowhere.

Some rows are placed on purpose so that every job has something to do at
`now`: a booking inside each reminder window, memberships expiring in 30, 7
and 1 days, birthdays today, leads quiet for three days, gems expiring in a
week, an offer that ended yesterday, and one record for each triggered job.
"""

import itertools
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from clock import IST, as_utc, ist_date
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
    db,
)

FIRST_NAMES = (
    "Aarav", "Aditi", "Aditya", "Ananya", "Arjun", "Deepika", "Diya", "Gaurav",
    "Ishaan", "Kavya", "Karthik", "Lakshmi", "Meera", "Nikhil", "Neha", "Pooja",
    "Pranav", "Priya", "Rahul", "Riya", "Rohan", "Saanvi", "Sanjay", "Shreya",
    "Siddharth", "Sneha", "Tanvi", "Varun", "Vikram", "Zara", "Farhan", "Ayesha",
    "Harpreet", "Gurleen", "Anjali", "Manish", "Nandini", "Suresh", "Divya", "Kiran",
)  # fmt: skip
LAST_NAMES = (
    "Sharma", "Iyer", "Reddy", "Nair", "Patel", "Mehta", "Gupta", "Menon",
    "Rao", "Kulkarni", "Deshpande", "Chatterjee", "Banerjee", "Singh", "Khan",
    "Verma", "Joshi", "Pillai", "Shetty", "Kapoor", "Malhotra", "Bhat", "Das",
    "Ghosh", "Naidu", "Agarwal", "Sinha", "Mishra", "Hegde", "Qureshi",
)  # fmt: skip

BRANCHES = (
    # id, name, state code, GSTIN, open
    ("br_blr", "Indiranagar, Bengaluru", "29", "29AAKCR4821M1Z6", True),
    ("br_bom", "Bandra West, Mumbai", "27", "27AAKCR4821M1Z2", True),
    ("br_hyd", "Jubilee Hills, Hyderabad", "36", "36AAKCR4821M1Z0", False),
)
SERVICES = (
    # id, name, category, price in rupees
    ("svc_swedish", "Swedish Massage (60 min)", "massage", "2800.00"),
    ("svc_deep", "Deep Tissue Massage (90 min)", "massage", "3900.00"),
    ("svc_balinese", "Balinese Massage (60 min)", "massage", "3200.00"),
    ("svc_aroma", "Aromatherapy (75 min)", "massage", "3500.00"),
    ("svc_hydra", "Hydra Facial", "facial", "4500.00"),
    ("svc_gold", "Gold Radiance Facial", "facial", "3000.00"),
    ("svc_hairspa", "Hair Spa", "hair", "1800.00"),
    ("svc_manipedi", "Manicure and Pedicure", "nails", "1500.00"),
    ("svc_polish", "Body Polish (60 min)", "body", "3600.00"),
)
PLANS = (
    # name, hours, price in rupees
    ("Silver Spa 6 Hours", "6.00", "12000.00"),
    ("Gold Spa 12 Hours", "12.00", "22000.00"),
    ("Platinum Spa 24 Hours", "24.00", "40000.00"),
)
PRODUCTS = (
    ("Kumkumadi Face Oil", "1450.00"),
    ("Sandalwood Body Butter", "950.00"),
    ("Bhringraj Hair Oil", "650.00"),
)
SAC_SPA = "999721"  # beauty and physical well-being services
HSN_COSMETICS = "3304"
SERVICE_RATE = Decimal("5.00")  # spa services since 22 September 2025
SERVICE_RATE_BEFORE = Decimal("18.00")
RATE_CHANGE = date(2025, 9, 22)
PRODUCT_RATE = Decimal("18.00")
PAISA = Decimal("0.01")


@dataclass
class Seeded:
    """What was loaded: row counts per table and the records the demo names."""

    counts: dict = field(default_factory=dict)
    payloads: dict = field(default_factory=dict)  # triggered job -> JSON body


def seed(now, customers=300, seed=7):
    """Load the demo into an empty database, as of the aware instant `now`."""
    if Branch.select().exists():
        raise ValueError("the database already has branches; seed an empty one")
    with db.atomic():
        return _Builder(as_utc(now), random.Random(seed)).build(customers)


class _Builder:
    def __init__(self, now, rng):
        self.now = now
        self.today = ist_date(now)
        self.rng = rng
        self.rows = {}  # model -> list of row dicts
        self.invoice_numbers = {}
        self.invoice_of = {}  # booking id -> invoice id
        self.result = Seeded()

    def build(self, customer_count):
        self.branches()
        self.services()
        self.staff()
        self.customers(customer_count)
        self.bookings()
        self.memberships()
        self.gems()
        self.leads()
        self.offers()
        self.sessions()
        self.recipients()
        self.save()
        return self.result

    # Helpers

    def add(self, model, **row):
        self.rows.setdefault(model, []).append(row)
        return row

    def at_ist(self, day, hour, minute=0):
        """The UTC instant of an IST wall time."""
        local = datetime.combine(day, time(hour, minute), tzinfo=IST)
        return as_utc(local)

    def money(self, text):
        return Decimal(text).quantize(PAISA)

    # Places and people

    def branches(self):
        for branch_id, name, state, gstin, is_open in BRANCHES:
            self.add(
                Branch,
                id=branch_id,
                name=name,
                state_code=state,
                gstin=gstin,
                is_active=is_open,
            )
        self.open_branches = [b[0] for b in BRANCHES if b[4]]
        self.branch_state = {b[0]: b[2] for b in BRANCHES}

    def services(self):
        for service_id, name, category, _ in SERVICES:
            self.add(Service, id=service_id, name=name, category=category)
        self.prices = {s[0]: self.money(s[3]) for s in SERVICES}
        self.minutes = {s[0]: 90 if "90 min" in s[1] else 60 for s in SERVICES}

    def staff(self):
        roster = (
            ("manager", 1),
            ("receptionist", 2),
            ("therapist", 3),
            ("sales", 1),
        )
        self.receptionists, self.sales = [], []
        number = 0
        for branch_id, *_ in BRANCHES:
            for role, count in roster:
                for _ in range(count):
                    number += 1
                    row = self.person(Staff, f"stf_{number:03d}", role=role)
                    row["branch"] = branch_id
                    if role == "receptionist":
                        self.receptionists.append(row["id"])
                    if role == "sales":
                        self.sales.append(row["id"])
        self.person(Staff, "stf_admin", role="admin", branch=None)
        gone = self.person(Staff, "stf_left", role="sales", is_active=False)
        gone["branch"] = "br_blr"
        self.inactive_staff = gone["id"]

        for staff_id in self.receptionists + self.sales:
            self.subscribe("staff", staff_id)

    def person(self, model, row_id, **extra):
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        address = f"{first}.{last}.{row_id.split('_')[-1]}@example.com".lower()
        return self.add(
            model, id=row_id, name=f"{first} {last}", email=address, **extra
        )

    def subscribe(self, owner_type, owner_id):
        self.add(
            PushSubscription,
            id=f"ps_{owner_id}",
            customer=owner_id if owner_type == "customer" else None,
            staff=owner_id if owner_type == "staff" else None,
            endpoint=f"https://push.example.invalid/demo/{owner_id}",
            p256dh="BDemoP256dhKeyNotReal" + owner_id,
            auth="demo-auth-" + owner_id,
            created_at=self.now - timedelta(days=30),
        )

    def customers(self, count):
        rng = self.rng
        self.customer_ids, self.consenting, self.subscribed = [], [], []
        for number in range(1, count + 1):
            customer_id = f"cus_{number:04d}"
            row = self.person(Customer, customer_id)
            row["phone"] = f"+91 9{rng.randrange(10**8, 10**9)}"
            row["marketing_consent"] = rng.random() < 0.7
            row["date_of_birth"] = date(rng.randint(1965, 2004), rng.randint(1, 12), 1)
            row["date_of_birth"] += timedelta(days=rng.randint(0, 27))
            row["created_at"] = self.now - timedelta(days=rng.randint(20, 720))
            row["gems_balance"] = 0
            if rng.random() < 0.12:
                row["email"] = None
            if number > 20 and rng.random() < 0.03:
                row["deleted_at"] = self.now - timedelta(days=rng.randint(1, 60))
                continue
            self.customer_ids.append(customer_id)
            if row["marketing_consent"] and row["email"]:
                self.consenting.append(customer_id)
            if rng.random() < 0.4 or number <= 20:
                self.subscribe("customer", customer_id)
                self.subscribed.append(customer_id)
        self.customer_rows = {r["id"]: r for r in self.rows[Customer]}

        # Birthdays today: three who said yes to offers, one who did not.
        for customer_id, consent in zip(
            self.consenting[:3] + [self.customer_ids[-1]],
            (True, True, True, False),
            strict=True,
        ):
            row = self.customer_rows[customer_id]
            born = self.today.year - 4 * self.rng.randint(6, 12)  # 29 Feb too
            row["date_of_birth"] = self.today.replace(year=born)
            row["marketing_consent"] = consent

    # Bookings and what they earned

    def bookings(self):
        rng = self.rng
        self.booking_number = 0
        for days_ago in range(40, 0, -1):
            day = self.today - timedelta(days=days_ago)
            for branch_id in self.open_branches:
                for _ in range(rng.randint(2, 5)):
                    start = self.at_ist(day, rng.randint(10, 19), rng.choice((0, 30)))
                    status = rng.choices(
                        ("completed", "cancelled", "no_show"), (85, 10, 5)
                    )[0]
                    self.booking(branch_id, start, status)

        for branch_id in self.open_branches:
            for hour in (10, 11, 12, 14):  # earlier today, done and paid
                start = self.at_ist(self.today, hour, 0)
                if start + timedelta(hours=1) < self.now:
                    self.booking(branch_id, start, "completed")
            for days_ahead in (1, 2, 3):
                day = self.today + timedelta(days=days_ahead)
                for _ in range(rng.randint(3, 6)):
                    start = self.at_ist(day, rng.randint(10, 19), rng.choice((0, 30)))
                    self.booking(branch_id, start, rng.choice(("confirmed", "pending")))

        self.placed_bookings()

    def placed_bookings(self):
        """Bookings placed relative to now, one for each rule worth showing."""
        soon = self._rounded(self.now + timedelta(minutes=40))
        self.booking("br_blr", soon, "confirmed")  # inside the 1 h window
        self.booking("br_bom", soon + timedelta(hours=3), "confirmed")  # 24 h
        self.booking("br_blr", soon + timedelta(hours=20), "confirmed")  # 24 h

        ended = self._rounded(self.now - timedelta(minutes=80))
        noshow = self.booking("br_bom", ended, "confirmed")  # ended 20 min ago

        fresh = self.booking(
            "br_blr",
            soon + timedelta(days=2),
            "pending",
            created=self.now - timedelta(hours=2, minutes=5),
        )
        self.booking(  # pending for 30 h: past the auto-reject line
            "br_bom",
            soon + timedelta(days=1),
            "pending",
            created=self.now - timedelta(hours=30),
        )

        reviewed = self.booking(
            "br_blr",
            self.now - timedelta(hours=25),
            "completed",
            customer=self.consenting[5],
        )
        self.result.payloads.update(
            {
                "post-service-followup": {"bookingId": reviewed["id"]},
                "stale-booking-alert": {"bookingId": fresh["id"]},
                "noshow-check": {"bookingId": noshow["id"]},
                "invoice-pdf": {"invoiceId": self.invoice_of[reviewed["id"]]},
            }
        )

    def _rounded(self, instant):
        return instant.replace(second=0, microsecond=0) - timedelta(
            minutes=instant.minute % 5
        )

    def booking(self, branch_id, start, status, customer=None, created=None):
        self.booking_number += 1
        service_id = self.rng.choice(SERVICES)[0]
        end = start + timedelta(minutes=self.minutes[service_id])
        booked = created or start - timedelta(days=self.rng.randint(1, 10))
        row = self.add(
            Booking,
            id=f"bk_{self.booking_number:05d}",
            customer=customer or self.rng.choice(self.customer_ids),
            branch=branch_id,
            service=service_id,
            status=status,
            start_time=start,
            end_time=end,
            amount=self.prices[service_id],
            payment_status="paid" if status == "completed" else "unpaid",
            created_at=min(booked, self.now),
            updated_at=min(end, self.now) if status != "pending" else booked,
            completed_at=end if status == "completed" else None,
            status_reason="customer cancelled" if status == "cancelled" else None,
        )
        if status == "completed":
            self.invoice(
                row["customer"],
                branch_id,
                "service",
                row["amount"],
                _service_rate(ist_date(end)),
                paid_at=end,
                booking=row["id"],
            )
            if self.rng.random() < 0.15:
                name, price = self.rng.choice(PRODUCTS)
                self.invoice(
                    row["customer"],
                    branch_id,
                    "product",
                    self.money(price),
                    PRODUCT_RATE,
                    paid_at=end,
                    sac=HSN_COSMETICS,
                )
        return row

    def invoice(self, customer_id, branch_id, kind, taxable, rate, **extra):
        """An invoice with CGST + SGST, or IGST for a customer from another state."""
        paid_at = extra.get("paid_at")
        code = branch_id.split("_")[1].upper()
        sequence = self.invoice_numbers.get(code, 0) + 1
        self.invoice_numbers[code] = sequence
        number = f"RG/{code}/{_financial_year(ist_date(paid_at or self.now))}/"
        number += f"{sequence:05d}"

        tax = (taxable * rate / 100).quantize(PAISA)
        inter_state = self.rng.random() < 0.08
        cgst = Decimal("0.00") if inter_state else (tax / 2).quantize(PAISA)
        sgst = Decimal("0.00") if inter_state else tax - cgst
        row = self.add(
            Invoice,
            id=f"inv_{code.lower()}_{sequence:05d}",
            number=number,
            customer=customer_id,
            branch=branch_id,
            booking=extra.get("booking"),
            membership=extra.get("membership"),
            kind=kind,
            status=extra.get("status", "paid" if paid_at else "issued"),
            sac_code=extra.get("sac", SAC_SPA),
            gst_rate=rate,
            taxable_amount=taxable,
            cgst=cgst,
            sgst=sgst,
            igst=tax if inter_state else Decimal("0.00"),
            total=taxable + tax,
            paid_at=paid_at,
            created_at=min(paid_at or self.now, self.now),
        )
        if extra.get("booking"):
            self.invoice_of[extra["booking"]] = row["id"]
        return row

    # Memberships, gems, leads, offers

    def memberships(self):
        rng = self.rng
        number = 0

        def membership(customer_id, expires_at, status="active", used="0.00"):
            nonlocal number
            number += 1
            name, hours, price = rng.choice(PLANS)
            starts = expires_at - timedelta(days=365)
            branch_id = rng.choice(self.open_branches)
            row = self.add(
                SpaMembership,
                id=f"mem_{number:04d}",
                customer=customer_id,
                branch=branch_id,
                plan_name=name,
                status=status,
                starts_at=starts,
                expires_at=expires_at,
                total_hours=Decimal(hours),
                used_hours=min(Decimal(used), Decimal(hours)),
                created_at=min(starts, self.now),
                updated_at=min(starts, self.now),
            )
            if starts <= self.now:
                self.invoice(
                    customer_id,
                    branch_id,
                    "membership_purchase",
                    self.money(price),
                    _service_rate(ist_date(starts)),
                    paid_at=starts,
                    membership=row["id"],
                )
            return row

        owners = itertools.cycle(self.subscribed)
        for days in (30, 7, 1):  # the expiry notices' days
            expires = self.at_ist(self.today + timedelta(days=days), 21, 0)
            membership(next(owners), expires)
        lapsed = membership(next(owners), self.now - timedelta(hours=2))
        for _ in range(25):  # members with hours left, some to nudge
            expires = self.now + timedelta(days=rng.randint(40, 300))
            used = f"{rng.randint(0, 5)}.{rng.choice(('00', '50'))}"
            membership(next(owners), expires, used=used)
        for _ in range(6):
            expires = self.now - timedelta(days=rng.randint(10, 200))
            membership(rng.choice(self.customer_ids), expires, status="expired")
        membership(rng.choice(self.customer_ids), self.now, status="cancelled")
        self.result.payloads["membership-expired-notice"] = {
            "membershipId": lapsed["id"]
        }

    def gems(self):
        rng = self.rng
        number = 0

        def row(customer_id, kind, amount, created_at):
            nonlocal number
            number += 1
            self.add(
                GemsTransaction,
                id=f"gem_{number:05d}",
                customer=customer_id,
                kind=kind,
                amount=amount,
                expires_at=created_at + timedelta(days=365)
                if kind == "earned"
                else None,
                created_at=created_at,
            )
            self.customer_rows[customer_id]["gems_balance"] += amount

        for index, customer_id in enumerate(self.customer_ids[:90]):
            earned = 0
            if index < 6:  # a lot that expires in exactly 7 days (IST)
                created = self.at_ist(self.today + timedelta(days=7), 12) - timedelta(
                    days=365
                )
                amount = rng.choice((150, 200, 250))
                row(customer_id, "earned", amount, created)
                earned += amount
            elif index < 12:  # a lot already past its 365 days
                created = self.now - timedelta(days=366, hours=rng.randint(1, 20))
                amount = rng.choice((100, 120))
                row(customer_id, "earned", amount, created)
                earned += amount
            for _ in range(rng.randint(1, 3)):
                created = self.now - timedelta(days=rng.randint(5, 300))
                amount = rng.choice((50, 80, 100, 150))
                row(customer_id, "earned", amount, created)
                earned += amount
            if rng.random() < 0.4:
                spent = min(earned, rng.choice((50, 100)))
                row(customer_id, "redeemed", -spent, self.now - timedelta(days=2))

    def leads(self):
        rng = self.rng
        plan = (
            # status, days since contact, assigned to
            *[("follow_up", 3, "active")] * 5,
            ("follow_up", 1, "active"),  # contacted yesterday: not yet
            ("follow_up", 4, None),  # nobody to nudge
            ("follow_up", 5, "inactive"),
            *[("new", None, "active")] * 6,
            *[("contacted", 2, "active")] * 5,
            *[("converted", 10, "active")] * 4,
            *[("lost", 20, "active")] * 3,
        )
        for number, (status, days, owner) in enumerate(plan, start=1):
            row = self.person(Lead, f"lead_{number:03d}", status=status)
            row["phone"] = f"+91 8{rng.randrange(10**8, 10**9)}"
            row["assigned_staff"] = {
                "active": rng.choice(self.sales),
                "inactive": self.inactive_staff,
                None: None,
            }[owner]
            row["created_at"] = self.now - timedelta(days=(days or 1) + 2)
            if days is not None:
                row["last_contacted_at"] = self.now - timedelta(days=days, hours=2)

    def offers(self):
        today = self.today
        for offer_id, title, start, end, active in (
            ("off_monsoon", "Monsoon Glow 20% off", -60, -1, True),
            ("off_festive", "Festive Facials 15% off", -10, 0, True),
            ("off_winter", "Winter Wellness Massages", -5, None, True),
            ("off_summer", "Summer Cool-down Package", -200, -120, False),
        ):
            self.add(
                Offer,
                id=offer_id,
                title=title,
                start_date=today + timedelta(days=start),
                end_date=None if end is None else today + timedelta(days=end),
                is_active=active,
                updated_at=self.now - timedelta(days=5),
            )

    def sessions(self):
        for number in range(1, 61):
            expires = self.now + timedelta(days=self.rng.randint(-40, 25), minutes=7)
            self.add(
                Session,
                id=f"ses_{number:04d}",
                token=f"demo-session-token-{number:04d}",
                expires_at=expires,
                created_at=expires - timedelta(days=30),
                updated_at=expires - timedelta(days=7),
                user_id=f"usr_{self.rng.randint(1, 40):03d}",
                ip_address=f"203.0.113.{number}",
                user_agent="Mozilla/5.0 (demo)",
            )

    def recipients(self):
        for name in ("owner", "finance", "operations"):
            self.add(ReportRecipient, id=f"rr_{name}", email=f"{name}@example.com")

    def save(self):
        order = (
            Branch,
            Service,
            Staff,
            Customer,
            PushSubscription,
            Booking,
            SpaMembership,
            Invoice,
            GemsTransaction,
            Lead,
            Offer,
            Session,
            ReportRecipient,
        )
        for model in order:
            rows = _same_columns(model, self.rows.get(model, []))
            for start in range(0, len(rows), 200):
                model.insert_many(rows[start : start + 200]).execute()
            self.result.counts[model._meta.table_name] = len(rows)


def _same_columns(model, rows):
    """Give every row every column any row has (insert_many takes the first
    row's columns), filling a missing one with the field's default."""
    names = {name for row in rows for name in row}
    fields = model._meta.fields
    for row in rows:
        for name in names - row.keys():
            default = fields[name].default
            row[name] = default() if callable(default) else default
    return rows


def _financial_year(day):
    """India's financial year, April to March: '2026-27'."""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def _service_rate(day):
    """GST on spa services: 18 % until 21 September 2025, 5 % from the 22nd."""
    return SERVICE_RATE if day >= RATE_CHANGE else SERVICE_RATE_BEFORE
