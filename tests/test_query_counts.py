"""A job run sends as many SQL statements for 300 due rows as for 10.

Every scheduled job is run through its route twice: once with 10 rows due
among as many that are not, then with 300 due. The statement count (the
route's own job_run writes and the notifier's claims included) must not
move, and the job must have acted on every due row, so that the comparison
is between two runs that did real work. The benchmark (python -m bench)
counts the statements of every job at 1,000, 100,000 and 500,000 customers.

Two jobs are left out on purpose, because the behaviour contract asks for
statements that grow with the work: gems-auto-expire takes one transaction
per customer with the customer's row locked, and session-cleanup deletes
5,000 rows per statement. Their own tests pin how they grow.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playhouse.test_utils import count_queries

from models import (
    Booking,
    Customer,
    GemsTransaction,
    InAppNotification,
    Invoice,
    Lead,
    NotificationLog,
    Offer,
    PushSubscription,
    SpaMembership,
)
from tests import factories as f

# The default clock stands at 15:30 IST on Friday 4 December 2026.
SMALL, LARGE = 10, 300


def people(tag, n, now, **fields):
    """n live customers with an email address and one browser each."""
    ids = [f"cus_{tag}_{i:04d}" for i in range(n)]
    Customer.insert_many(
        [
            {
                "id": cid,
                "name": f"Guest {i}",
                "email": f"{cid}@example.com",
                "marketing_consent": True,
                "date_of_birth": date(1990, 6, 1),
                "created_at": now - timedelta(days=400),
                **fields,
            }
            for i, cid in enumerate(ids)
        ]
    ).execute()
    PushSubscription.insert_many(
        [
            {
                "id": f"ps_{cid}",
                "customer": cid,
                "endpoint": f"https://push.example.test/{cid}",
                "p256dh": "BP256dh-test-key",
                "auth": "auth-test",
            }
            for cid in ids
        ]
    ).execute()
    return ids


def bookings(ids, branch, start, **fields):
    Booking.insert_many(
        [
            {
                "id": f"bk_{cid}",
                "customer": cid,
                "branch": branch.id,
                "status": "confirmed",
                "start_time": start,
                "end_time": start + timedelta(hours=1),
                "amount": Decimal("2500.00"),
                "created_at": start - timedelta(days=3),
                "updated_at": start - timedelta(days=3),
                **fields,
            }
            for cid in ids
        ]
    ).execute()


def memberships(ids, expires_at, **fields):
    SpaMembership.insert_many(
        [
            {
                "id": f"mem_{cid}",
                "customer": cid,
                "plan_name": "Gold Spa 12 Hours",
                "status": "active",
                "starts_at": expires_at - timedelta(days=365),
                "expires_at": expires_at,
                "total_hours": Decimal("12.00"),
                "used_hours": Decimal("4.50"),
                **fields,
            }
            for cid in ids
        ]
    ).execute()


def sales(tag, n, paid_at, branches):
    """n paid invoices (5 % services, 18 % memberships) spread over branches."""
    shops = [f.branch(id=f"br_{tag}_{b}") for b in range(branches)]
    buyer = f.customer(id=f"cus_{tag}_buyer")
    rows = []
    for i in range(n):
        shop = shops[i % branches]
        service = (i // branches) % 2 == 0
        taxable = Decimal("1000.00")
        tax = Decimal("50.00") if service else Decimal("180.00")
        rows.append(
            {
                "id": f"inv_{tag}_{i:04d}",
                "number": f"RG/{tag}/{i:04d}",
                "customer": buyer.id,
                "branch": shop.id,
                "kind": "service" if service else "membership_purchase",
                "status": "paid",
                "gst_rate": Decimal("5.00") if service else Decimal("18.00"),
                "taxable_amount": taxable,
                "cgst": tax / 2,
                "sgst": tax / 2,
                "total": taxable + tax,
                "paid_at": paid_at,
            }
        )
    Invoice.insert_many(rows).execute()
    bookings(
        [f"{tag}_{i:04d}" for i in range(n)],
        shops[0],
        paid_at - timedelta(hours=2),
        customer=buyer.id,
        status="completed",
        completed_at=paid_at - timedelta(minutes=30),
    )


def due_reminders(tag, n, now):
    branch = f.branch()
    ids = people(tag, n, now)
    bookings(ids[: n // 2], branch, now + timedelta(minutes=40))
    bookings(ids[n // 2 :], branch, now + timedelta(hours=6))
    bookings(people(f"{tag}q", n, now), branch, now + timedelta(days=3))
    return n


def due_expiries(tag, n, now):
    ids = people(tag, n, now)
    half = n // 2
    memberships(ids[:half], f.at("2026-12-11 18:00"))
    memberships(ids[half:], f.at("2027-01-03 11:00"))
    memberships(people(f"{tag}q", n, now), f.at("2026-12-15 18:00"))
    return n


def due_birthdays(tag, n, now):
    people(tag, n, now, date_of_birth=date(1991, 12, 4))
    people(f"{tag}q", n, now, date_of_birth=date(1991, 12, 5))
    return n


def due_leads(tag, n, now):
    staff = [f.staff(id=f"stf_{tag}_{i}", role="sales") for i in range(3)]
    for person in staff:
        f.push_subscription(person)

    def leads(suffix, count, contacted):
        Lead.insert_many(
            [
                {
                    "id": f"lead_{tag}{suffix}_{i:04d}",
                    "name": f"Lead {i}",
                    "status": "follow_up",
                    "assigned_staff": staff[i % 3].id,
                    "last_contacted_at": contacted,
                    "created_at": now - timedelta(days=20),
                }
                for i in range(count)
            ]
        ).execute()

    leads("", n, now - timedelta(days=3))
    leads("q", n, now - timedelta(hours=5))
    return n


def due_gems(tag, n, now):
    def lots(ids, expires_at):
        GemsTransaction.insert_many(
            [
                row
                for cid in ids
                for row in (
                    {
                        "id": f"gem_e_{cid}",
                        "customer": cid,
                        "kind": "earned",
                        "amount": 100,
                        "expires_at": expires_at,
                        "created_at": expires_at - timedelta(days=365),
                    },
                    {
                        "id": f"gem_r_{cid}",
                        "customer": cid,
                        "kind": "redeemed",
                        "amount": -30,
                        "created_at": now - timedelta(days=30),
                    },
                )
            ]
        ).execute()

    lots(people(tag, n, now, gems_balance=70), f.at("2026-12-11 12:00"))
    lots(people(f"{tag}q", n, now, gems_balance=70), f.at("2026-12-24 12:00"))
    return n


def due_nudges(tag, n, now):
    memberships(people(tag, n, now), f.at("2027-03-01 12:00"))
    return n


def due_daily_sales(tag, n, now):
    f.report_recipient(id=f"rr_{tag}", email=f"owner_{tag}@theroyalglow.in")
    sales(tag, n, f.at("2026-12-04 12:30"), branches=2 if n == SMALL else 8)
    return None


def due_weekly_sales(tag, n, now):
    f.report_recipient(id=f"rr_{tag}", email=f"owner_{tag}@theroyalglow.in")
    sales(tag, n, f.at("2026-11-25 12:30"), branches=2 if n == SMALL else 8)
    sales(f"{tag}p", n, f.at("2026-11-18 12:30"), branches=2)
    return None


def due_nightly_summary(tag, n, now):
    branches = 2 if n == SMALL else 8
    sales(tag, n, f.at("2026-12-03 13:00"), branches=branches)
    return branches


def due_gst_summary(tag, n, now):
    branches = 2 if n == SMALL else 8
    sales(tag, n, f.at("2026-11-12 13:00"), branches=branches)
    return 2 * branches


def due_membership_expiries(tag, n, now):
    memberships(people(tag, n, now), now - timedelta(hours=1))
    memberships(people(f"{tag}q", n, now), now + timedelta(days=1))
    return n


def due_offers(tag, n, now):
    def offers(suffix, count, end):
        Offer.insert_many(
            [
                {
                    "id": f"off_{tag}{suffix}_{i:04d}",
                    "title": f"Offer {i}",
                    "start_date": date(2026, 11, 1),
                    "end_date": end,
                    "is_active": True,
                }
                for i in range(count)
            ]
        ).execute()

    offers("", n, date(2026, 12, 3))
    offers("q", n, date(2026, 12, 4))
    return n


# job: what makes n rows due, returning how many rows a run acts on (None for
# a report, which answers only {"success": true})
DUE = {
    "appointment-reminders": due_reminders,
    "membership-expiry": due_expiries,
    "birthday-emails": due_birthdays,
    "lead-followups": due_leads,
    "gems-expiry-reminder": due_gems,
    "membership-usage-nudges": due_nudges,
    "daily-sales-report": due_daily_sales,
    "weekly-report": due_weekly_sales,
    "nightly-sales-summary": due_nightly_summary,
    "monthly-gst-summary": due_gst_summary,
    "membership-auto-expire": due_membership_expiries,
    "offer-auto-expire": due_offers,
}
NOTIFYING = {
    "appointment-reminders",
    "membership-expiry",
    "birthday-emails",
    "lead-followups",
    "gems-expiry-reminder",
    "membership-usage-nudges",
}
# Jobs whose second run acts on the first run's rows again: notification jobs
# (the log is emptied between the runs) and the summaries (a row per branch).
CUMULATIVE = NOTIFYING | {"nightly-sales-summary", "monthly-gst-summary"}
NUDGE_LIMIT = 20


def expected(job, *created):
    total = sum(created) if job in CUMULATIVE else created[-1]
    return min(total, NUDGE_LIMIT) if job == "membership-usage-nudges" else total


def forget_sends():
    """Empty the notification log, so that the larger run sends everything again."""
    NotificationLog.delete().execute()
    InAppNotification.delete().execute()


def measured_run(call_job, job):
    with count_queries() as counted:
        response = call_job(job)
    assert response.status_code == 200, response.data
    return counted.count, response.get_json()


@pytest.mark.parametrize("job", sorted(DUE))
def test_a_run_sends_as_many_queries_for_300_due_rows_as_for_10(
    job, call_job, clock, senders
):
    now = clock.now()
    first = DUE[job]("s", SMALL, now)
    small_count, small = measured_run(call_job, job)
    forget_sends()
    second = DUE[job]("l", LARGE - SMALL, now)

    large_count, large = measured_run(call_job, job)

    assert small_count == large_count
    if first is None:
        assert small == large == {"success": True}
        assert len(senders.slack.sent) == 2
    else:
        assert small["processed"] == expected(job, first)
        assert large["processed"] == expected(job, first, second)


@pytest.mark.parametrize("job", ["stale-booking-alert", "noshow-check"])
def test_an_alert_sends_as_many_queries_for_20_receptionists_as_for_1(
    job, call_job, clock
):
    now = clock.now()
    counts = []
    for tag, receptionists in (("one", 1), ("many", 20)):
        branch = f.branch(id=f"br_{tag}")
        for i in range(receptionists):
            f.push_subscription(f.staff(branch, id=f"stf_{tag}_{i:02d}"))
        guest = f.customer(id=f"cus_{tag}")
        if job == "stale-booking-alert":
            f.booking(
                guest,
                branch,
                now + timedelta(days=2),
                id=f"bk_{tag}",
                status="pending",
                created_at=now - timedelta(hours=2),
            )
        else:
            f.booking(guest, branch, now - timedelta(hours=2), id=f"bk_{tag}")

        with count_queries() as counted:
            response = call_job(job, {"bookingId": f"bk_{tag}"})

        assert response.status_code == 200
        assert response.get_json()["notified"] == receptionists
        counts.append(counted.count)

    assert counts[0] == counts[1]
