"""Every notification job: a fixed number of queries however many rows are due,
and nothing sent twice when two deliveries run at the same moment."""

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from models import (
    Booking,
    Branch,
    Customer,
    GemsTransaction,
    InAppNotification,
    Lead,
    NotificationLog,
    PushSubscription,
    Service,
    SpaMembership,
    Staff,
)
from tests import factories as f
from tests.reminder_support import queries_for, run_twice_at_once

RUN_AT = {
    "appointment-reminders": "2026-12-04 15:30",
    "membership-expiry": "2026-12-05 00:30",
    "birthday-emails": "2026-12-04 09:30",
    "lead-followups": "2026-12-04 10:30",
    "gems-expiry-reminder": "2026-12-04 10:30",
    "membership-usage-nudges": "2026-12-04 11:00",
}
JOBS = sorted(RUN_AT)


def customers(tag, n, now):
    rows = [
        {
            "id": f"cus_{tag}_{i:05d}",
            "name": f"Customer {i}",
            "email": f"cus_{tag}_{i:05d}@example.com",
            "date_of_birth": date(1990, 12, 4),
            "marketing_consent": True,
            "created_at": now - timedelta(days=400),
        }
        for i in range(n)
    ]
    Customer.insert_many(rows).execute()
    return [row["id"] for row in rows]


def subscriptions(owner_field, ids):
    PushSubscription.insert_many(
        [
            {
                "id": f"ps_{owner_id}",
                owner_field: owner_id,
                "endpoint": f"https://push.example.test/{owner_id}",
                "p256dh": "BP256dh-test-key",
                "auth": "auth-test",
            }
            for owner_id in ids
        ]
    ).execute()


def due_bookings(tag, n, now):
    ids = customers(tag, n, now)
    subscriptions("customer", ids)
    branch = f.branch()
    service = f.service()
    start = now + timedelta(hours=3)
    Booking.insert_many(
        [
            {
                "id": f"bk_{cid}",
                "customer": cid,
                "branch": branch.id,
                "service": service.id,
                "status": "confirmed",
                "start_time": start,
                "end_time": start + timedelta(hours=1),
                "amount": Decimal("2500.00"),
                "created_at": now - timedelta(days=2),
                "updated_at": now - timedelta(days=2),
            }
            for cid in ids
        ]
    ).execute()


def memberships(ids, expires_at, now):
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
                "created_at": now - timedelta(days=300),
                "updated_at": now - timedelta(days=300),
            }
            for cid in ids
        ]
    ).execute()


def expiring_memberships(tag, n, now):
    ids = customers(tag, n, now)
    subscriptions("customer", ids)
    memberships(ids, f.at("2026-12-12 10:00"), now)


def birthdays(tag, n, now):
    customers(tag, n, now)


def quiet_leads(tag, n, now):
    staff_ids = [f"stf_{tag}_{i:05d}" for i in range(n)]
    Staff.insert_many(
        [{"id": sid, "name": "Ananya Iyer", "role": "sales"} for sid in staff_ids]
    ).execute()
    subscriptions("staff", staff_ids)
    Lead.insert_many(
        [
            {
                "id": f"lead_{sid}",
                "name": "Rahul Verma",
                "status": "follow_up",
                "assigned_staff": sid,
                "last_contacted_at": now - timedelta(hours=60),
                "created_at": now - timedelta(days=10),
            }
            for sid in staff_ids
        ]
    ).execute()


def expiring_gems(tag, n, now):
    ids = customers(tag, n, now)
    subscriptions("customer", ids)
    expires_at = f.at("2026-12-11 12:00")
    rows = []
    for cid in ids:
        rows.append(
            {
                "id": f"gem_e_{cid}",
                "customer": cid,
                "kind": "earned",
                "amount": 100,
                "expires_at": expires_at,
                "created_at": expires_at - timedelta(days=365),
            }
        )
        rows.append(
            {
                "id": f"gem_r_{cid}",
                "customer": cid,
                "kind": "redeemed",
                "amount": -30,
                "created_at": now - timedelta(days=30),
            }
        )
    GemsTransaction.insert_many(rows).execute()


def unused_hours(tag, n, now):
    ids = customers(tag, n, now)
    subscriptions("customer", ids)
    memberships(ids, f.at("2027-03-31 21:00"), now)


SEED = {
    "appointment-reminders": due_bookings,
    "membership-expiry": expiring_memberships,
    "birthday-emails": birthdays,
    "lead-followups": quiet_leads,
    "gems-expiry-reminder": expiring_gems,
    "membership-usage-nudges": unused_hours,
}


def wipe():
    for model in (
        NotificationLog,
        InAppNotification,
        PushSubscription,
        GemsTransaction,
        SpaMembership,
        Booking,
        Lead,
        Staff,
        Customer,
        Service,
        Branch,
    ):
        model.delete().execute()


@pytest.mark.parametrize("job", JOBS)
def test_query_count_is_the_same_for_10_and_1000_due_records(
    app, senders, job, config_overrides
):
    now = f.at(RUN_AT[job])
    SEED[job]("a", 10, now)
    few, few_result = queries_for(app, senders, job, now)
    wipe()
    SEED[job]("b", 1000, now)
    many, many_result = queries_for(app, senders, job, now)

    sent = min(1000, app.config["USAGE_NUDGE_LIMIT"]) if "nudge" in job else 1000
    assert few_result == {"success": True, "processed": 10}
    assert many_result == {"success": True, "processed": sent}
    assert many == few


@pytest.mark.parametrize("job", JOBS)
def test_two_deliveries_at_once_send_each_notification_once(app, senders, backend, job):
    if backend != "postgres":
        pytest.skip("needs concurrent connections: PostgreSQL only")
    now = f.at(RUN_AT[job])
    SEED[job]("c", 15, now)

    results = run_twice_at_once(app, senders, job, now)

    assert sum(result["processed"] for result in results) == 15
    pushes = Counter(target.endpoint for target, _ in senders.push.sent)
    emails = Counter(email.to for email in senders.email.sent)
    assert set(pushes.values()) | set(emails.values()) == {1}
    expected_pushes = 0 if job == "birthday-emails" else 15
    expected_emails = 15 if job in ("appointment-reminders", "birthday-emails") else 0
    assert (len(pushes), len(emails)) == (expected_pushes, expected_emails)
    statuses = Counter(row.status for row in NotificationLog.select())
    assert set(statuses) == {"sent"}
    if job == "birthday-emails":
        assert InAppNotification.select().count() == 15
