"""The scheduled notification jobs: reminders, expiry notices, birthdays, nudges.

Each job finds what is due at the run's one instant with a fixed number of
queries, builds one Notice per recipient, and hands them all to ctx.notify,
which sends every notice exactly once across runs. Day boundaries are IST
calendar dates of that instant, never multiples of 24 hours.
"""

import calendar
import logging
import operator
from collections import defaultdict
from datetime import timedelta
from functools import partial, reduce

from peewee import JOIN, fn

from clock import format_ist, format_ist_date, ist_date, ist_midnight, utc_iso
from formatting import first_name, hours
from jobs.gems import unspent_of_lots
from messages import push_message, render_email
from models import (
    Booking,
    Branch,
    Customer,
    GemsTransaction,
    Lead,
    NotificationLog,
    PushSubscription,
    Service,
    SpaMembership,
    Staff,
    is_postgres,
    to_money,
)
from notifications import InAppMessage, Notice

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(hours=24)
LEAD_QUIET = timedelta(hours=48)
NUDGE_QUIET = timedelta(days=7)
EXPIRY_NOTICE_DAYS = (30, 7, 1)
GEMS_NOTICE_DAYS = 7


def appointment_reminders(ctx):
    """Remind customers of confirmed bookings starting within 24 h or 1 h."""
    now = ctx.now

    rows = (
        Booking.select(
            Booking.id,
            Booking.start_time,
            Booking.customer.alias("customer_id"),
            Customer.name.alias("customer_name"),
            Customer.email,
            Branch.name.alias("branch_name"),
            Service.name.alias("service_name"),
        )
        .join(Customer)
        .switch(Booking)
        .join(Branch)
        .switch(Booking)
        .join(Service, JOIN.LEFT_OUTER)
        .where(
            Booking.status == "confirmed",
            Customer.deleted_at.is_null(),
            Booking.start_time > now,
            Booking.start_time <= now + DAY,
        )
        .order_by(Booking.start_time, Booking.id)
        .namedtuples()
    )
    notices = [
        _appointment_reminder(ctx, row, "1h" if row.start_time <= now + HOUR else "24h")
        for row in rows
    ]

    return _deliver(ctx, notices)


def _appointment_reminder(ctx, row, window):
    key = f"appointment-reminder:{window}:{row.id}:{utc_iso(row.start_time)}"
    name = first_name(row.customer_name)
    service = row.service_name or "appointment"
    when = format_ist(row.start_time)
    url = f"{ctx.config['APP_URL']}/bookings/{row.id}"
    if window == "1h":
        title = "Your appointment starts soon"
        body = f"{name}, your {service} at {row.branch_name} starts at {when}."
        subject = f"Starting soon: your {service} at {when}"
    else:
        title = "Appointment reminder"
        body = f"{name}, your {service} at {row.branch_name} is on {when}."
        subject = f"Reminder: your {service} on {when}"
    return Notice(
        dedupe_key=key,
        type="appointment-reminder",
        recipient_type="customer",
        recipient_id=row.customer_id,
        booking_id=row.id,
        push=push_message(title, body, url, tag=f"booking-{row.id}"),
        email=partial(
            render_email,
            "appointment_reminder",
            row.email,
            subject,
            idempotency_key=key,
            first_name=name,
            service=service,
            branch=row.branch_name,
            when=when,
            soon=window == "1h",
            booking_url=url,
        ),
    )


def membership_expiry(ctx):
    """Push owners of active memberships expiring 30, 7 or 1 IST days from today."""
    today = ist_date(ctx.now)

    on_notice_day = [
        _within_ist_date(SpaMembership.expires_at, today + timedelta(days=days))
        for days in EXPIRY_NOTICE_DAYS
    ]
    rows = (
        SpaMembership.select(
            SpaMembership.id,
            SpaMembership.customer.alias("customer_id"),
            SpaMembership.plan_name,
            SpaMembership.expires_at,
            SpaMembership.total_hours,
            SpaMembership.used_hours,
            Customer.name.alias("customer_name"),
        )
        .join(Customer)
        .where(
            SpaMembership.status == "active",
            Customer.deleted_at.is_null(),
            reduce(operator.or_, on_notice_day),
        )
        .order_by(SpaMembership.expires_at, SpaMembership.id)
        .namedtuples()
    )
    notices = [_expiry_notice(ctx, row, today) for row in rows]

    return _deliver(ctx, notices)


def _expiry_notice(ctx, row, today):
    expiry_day = ist_date(row.expires_at)
    days = (expiry_day - today).days
    left = row.total_hours - row.used_hours
    title = (
        "Your membership ends tomorrow"
        if days == 1
        else f"Your membership ends in {days} days"
    )
    body = (
        f"{first_name(row.customer_name)}, your {row.plan_name} membership ends on "
        f"{format_ist_date(expiry_day)}."
    )
    if left >= row.total_hours:
        body += f" You have not used any of your {hours(row.total_hours)} yet."
    elif left > 0:
        body += (
            f" You still have {hours(left)} of your {hours(row.total_hours)} to use."
        )
    body += " Renew to keep your benefits."
    return Notice(
        dedupe_key=f"membership-expiry:{row.id}:{days}:{expiry_day.isoformat()}",
        type="membership-expiry",
        recipient_type="customer",
        recipient_id=row.customer_id,
        push=push_message(
            title,
            body,
            f"{ctx.config['APP_URL']}/memberships/{row.id}",
            tag=f"membership-{row.id}",
        ),
    )


def birthday_emails(ctx):
    """Email and in-app birthday wishes to consenting customers born today."""
    today = ist_date(ctx.now)

    days = [today.day]
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        days.append(29)
    born = Customer.date_of_birth
    rows = (
        Customer.select(Customer.id, Customer.name, Customer.email)
        .where(
            Customer.deleted_at.is_null(),
            Customer.marketing_consent == True,  # noqa: E712 (SQL, not Python)
            born.month == today.month,
            born.day.in_(days),
        )
        .order_by(Customer.id)
        .namedtuples()
    )
    notices = [_birthday_wish(ctx, row, today.year) for row in rows]

    return _deliver(ctx, notices)


def _birthday_wish(ctx, row, year):
    key = f"birthday:{row.id}:{year}"
    name = first_name(row.name)
    offer = ctx.config.get("BIRTHDAY_OFFER")
    return Notice(
        dedupe_key=key,
        type="birthday",
        recipient_type="customer",
        recipient_id=row.id,
        email=render_email(
            "birthday",
            row.email,
            f"Happy birthday, {name}!",
            idempotency_key=key,
            first_name=name,
            offer=offer,
            book_url=f"{ctx.config['APP_URL']}/book",
        ),
        in_app=InAppMessage(
            kind="birthday",
            title=f"Happy birthday, {name}!",
            body=(
                "Everyone at The Royal Glow wishes you a lovely year ahead. "
                + (
                    f"Our birthday gift to you: {offer}."
                    if offer
                    else "Treat yourself to some time with us this month."
                )
            ),
        ),
    )


def lead_followups(ctx):
    """Push the assigned staff about follow-up leads quiet for more than 48 h."""
    quiet_since = ctx.now - LEAD_QUIET
    today = ist_date(ctx.now)

    rows = (
        Lead.select(
            Lead.id,
            Lead.name,
            Lead.last_contacted_at,
            Lead.created_at,
            Staff.id.alias("staff_id"),
        )
        .join(Staff, on=(Lead.assigned_staff == Staff.id))
        .where(
            Lead.status == "follow_up",
            Staff.is_active == True,  # noqa: E712 (SQL, not Python)
            (Lead.last_contacted_at < quiet_since)
            | (Lead.last_contacted_at.is_null() & (Lead.created_at < quiet_since)),
        )
        .order_by(Lead.id)
        .namedtuples()
    )
    notices = [_lead_followup(ctx, row, today) for row in rows]

    return _deliver(ctx, notices)


def _lead_followup(ctx, row, today):
    if row.last_contacted_at is None:
        body = f"Added {format_ist(row.created_at)} and not contacted yet."
    else:
        body = f"Last contacted {format_ist(row.last_contacted_at)}."
    return Notice(
        dedupe_key=f"lead-followup:{row.id}:{today.isoformat()}",
        type="lead-followup",
        recipient_type="staff",
        recipient_id=row.staff_id,
        push=push_message(
            f"Follow up with {row.name}",
            body + " A call today keeps the lead warm.",
            f"{ctx.config['ADMIN_URL']}/leads/{row.id}",
            tag=f"lead-{row.id}",
        ),
    )


def gems_expiry_reminder(ctx):
    """Push live customers the unspent gems of their lots expiring in 7 IST days."""
    expiry_day = ist_date(ctx.now) + timedelta(days=GEMS_NOTICE_DAYS)

    g = GemsTransaction
    due = (g.kind == "earned") & _within_ist_date(g.expires_at, expiry_day)
    # DISTINCT: PostgreSQL then expects as few owners as there are and reads
    # only their ledgers, through (customer_id, created_at), not the whole one.
    lots = unspent_of_lots(due, customers=g.select(g.customer).distinct().where(due))
    totals = defaultdict(int)
    for lot in lots:
        totals[lot.customer_id] += lot.unspent
    owners = (
        Customer.select(Customer.id, Customer.name)
        .where(
            Customer.id.in_(sorted(c for c, total in totals.items() if total > 0)),
            Customer.deleted_at.is_null(),
        )
        .order_by(Customer.id)
        .namedtuples()
    )
    notices = [
        _gems_reminder(ctx, owner, totals[owner.id], expiry_day) for owner in owners
    ]

    return _deliver(ctx, notices)


def _gems_reminder(ctx, owner, total, expiry_day):
    if total == 1:
        gems, verb, them = "1 gem", "expires", "it"
    else:
        gems, verb, them = f"{total} gems", "expire", "them"
    return Notice(
        dedupe_key=f"gems-expiry:{owner.id}:{expiry_day.isoformat()}",
        type="gems-expiry",
        recipient_type="customer",
        recipient_id=owner.id,
        push=push_message(
            f"{gems} {verb} in {GEMS_NOTICE_DAYS} days",
            f"{first_name(owner.name)}, {gems} in your account {verb} on "
            f"{format_ist_date(expiry_day)}. Redeem {them} on your next visit.",
            f"{ctx.config['APP_URL']}/gems",
            tag="gems-expiry",
        ),
    )


def membership_usage_nudges(ctx):
    """Push a random few members with unused hours who were not nudged lately.

    At most USAGE_NUDGE_LIMIT members a day: a rerun the same day (a QStash
    retry) only tops up to the limit, retrying today's failed sends first.
    """
    now = ctx.now
    today = ist_date(now)
    limit = int(ctx.config["USAGE_NUDGE_LIMIT"])

    Log = NotificationLog
    done_today = (
        Log.select(fn.COUNT(Log.recipient_id.distinct()))
        .where(
            Log.type == "usage-nudge",
            Log.status.in_(["sent", "skipped"]),
            Log.created_at >= ist_midnight(today),
        )
        .scalar()
    )
    slots = limit - done_today
    if slots <= 0:
        log.info("%s: %d members nudged today already", ctx.job, done_today)
        return {"success": True, "processed": 0}

    failed_today = Log.select(Log.recipient_id).where(
        Log.type == "usage-nudge",
        Log.recipient_type == "customer",
        Log.status == "failed",
        Log.created_at >= ist_midnight(today),
    )
    m = SpaMembership
    eligible = (
        m.select(
            m.id,
            m.customer.alias("customer_id"),
            m.plan_name,
            m.total_hours,
            m.used_hours,
            m.expires_at,
            Customer.name.alias("customer_name"),
        )
        .join(Customer)
        .where(
            m.status == "active",
            Customer.deleted_at.is_null(),
            m.used_hours < m.total_hours,
            fn.EXISTS(
                PushSubscription.select().where(PushSubscription.customer == m.customer)
            ),
            ~fn.EXISTS(
                Log.select().where(
                    Log.type == "usage-nudge",
                    Log.recipient_type == "customer",
                    Log.recipient_id == m.customer,
                    Log.status.in_(["sent", "skipped"]),
                    Log.created_at > now - NUDGE_QUIET,
                )
            ),
        )
    )
    first = [m.expires_at, m.id]
    if is_postgres():  # one membership per customer, each read once
        eligible = eligible.distinct(m.customer).order_by(m.customer, *first)
    else:  # SQLite has no DISTINCT ON: rank each customer's memberships
        eligible = eligible.select_extend(
            fn.ROW_NUMBER()
            .over(partition_by=[m.customer], order_by=first)
            .alias("pick")
        )
    eligible = eligible.alias("eligible")
    e = eligible.c
    rows = (
        m.select(
            e.id,
            e.customer_id,
            e.plan_name,
            e.total_hours,
            e.used_hours,
            e.expires_at,
            e.customer_name,
        )
        .from_(eligible)
        .order_by(e.customer_id.in_(failed_today).desc(), fn.random())
        .limit(slots)
        .namedtuples()
    )
    if not is_postgres():
        rows = rows.where(e.pick == 1)
    notices = [_usage_nudge(ctx, row, today) for row in rows]

    return _deliver(ctx, notices)


def _usage_nudge(ctx, row, today):
    left = to_money(row.total_hours) - to_money(row.used_hours)
    expires_at = SpaMembership.expires_at.python_value(row.expires_at)
    return Notice(
        dedupe_key=f"usage-nudge:{row.id}:{today.isoformat()}",
        type="usage-nudge",
        recipient_type="customer",
        recipient_id=row.customer_id,
        push=push_message(
            f"{hours(left)} of spa time waiting for you",
            f"{first_name(row.customer_name)}, your {row.plan_name} membership has "
            f"{hours(left)} left until {format_ist_date(ist_date(expires_at))}. "
            "Book a session and make time for yourself.",
            f"{ctx.config['APP_URL']}/book?membership={row.id}",
            tag=f"usage-nudge-{row.id}",
        ),
    )


def _within_ist_date(column, day):
    """`column` falls on the IST calendar date `day`."""
    return (column >= ist_midnight(day)) & (
        column < ist_midnight(day + timedelta(days=1))
    )


def _deliver(ctx, notices):
    log.info("%s: %d due", ctx.job, len(notices))
    tally = ctx.notify(notices)
    return {"success": True, "processed": tally.processed}
