"""Every job the service runs: its route name, its schedule or delay, its code.

Scheduled crons are UTC, as QStash evaluates them, except where a `CRON_TZ`
prefix names IST because no single UTC cron says the same thing.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from . import maintenance, reminders, reports, summaries, triggered


@dataclass(frozen=True)
class JobSpec:
    name: str
    run: Callable
    summary: str
    cron: str | None = None  # scheduled jobs
    period: timedelta | None = None  # how often the cron fires, for staleness
    delay: timedelta | None = None  # triggered jobs: after the business event
    retries: int = 3
    heartbeat: bool = True

    @property
    def kind(self):
        return "scheduled" if self.cron else "triggered"


MINUTES_15 = timedelta(minutes=15)
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
MONTH = timedelta(days=31)

JOBS = [
    # Scheduled: notifications
    JobSpec(
        "appointment-reminders",
        reminders.appointment_reminders,
        "24 h and 1 h reminders for confirmed bookings (push + email)",
        cron="CRON_TZ=Asia/Kolkata */15 8-21 * * *",  # 08:00-21:45 IST
        period=MINUTES_15,
    ),
    JobSpec(
        "membership-expiry",
        reminders.membership_expiry,
        "push owners of memberships expiring in 30, 7 or 1 days",
        cron="0 19 * * *",
        period=DAY,
    ),
    JobSpec(
        "birthday-emails",
        reminders.birthday_emails,
        "birthday offer by email and in-app to consenting customers",
        cron="0 4 * * *",
        period=DAY,
    ),
    JobSpec(
        "lead-followups",
        reminders.lead_followups,
        "push staff about follow-up leads quiet for 48 h",
        cron="0 5 * * *",
        period=DAY,
    ),
    JobSpec(
        "gems-expiry-reminder",
        reminders.gems_expiry_reminder,
        "push customers whose unspent gems expire in 7 days",
        cron="0 5 * * *",
        period=DAY,
    ),
    JobSpec(
        "membership-usage-nudges",
        reminders.membership_usage_nudges,
        "push a random few members with unused hours",
        cron="30 5 * * *",
        period=DAY,
    ),
    # Scheduled: reports
    JobSpec(
        "daily-sales-report",
        reports.daily_sales_report,
        "today's sales to Slack and the report recipients",
        cron="0 17 * * *",
        period=DAY,
    ),
    JobSpec(
        "weekly-report",
        reports.weekly_report,
        "last week's sales with week-over-week change",
        cron="30 3 * * 1",
        period=WEEK,
    ),
    # Scheduled: writes
    JobSpec(
        "nightly-sales-summary",
        summaries.nightly_sales_summary,
        "yesterday's daily_sales_summary row per branch",
        cron="0 18 * * *",
        period=DAY,
    ),
    JobSpec(
        "membership-auto-expire",
        maintenance.membership_auto_expire,
        "active memberships past expiry become expired",
        cron="30 18 * * *",
        period=DAY,
    ),
    JobSpec(
        "offer-auto-expire",
        maintenance.offer_auto_expire,
        "offers that ended before today become inactive",
        cron="35 18 * * *",
        period=DAY,
    ),
    JobSpec(
        "gems-auto-expire",
        maintenance.gems_auto_expire,
        "expire the unspent part of gem lots older than 365 days",
        cron="40 18 * * *",
        period=DAY,
    ),
    JobSpec(
        "session-cleanup",
        maintenance.session_cleanup,
        "delete expired sessions in batches",
        cron="0 21 * * 6",  # Sunday 02:30 IST is Saturday 21:00 UTC
        period=WEEK,
    ),
    JobSpec(
        "monthly-gst-summary",
        summaries.monthly_gst_summary,
        "last month's GST totals per branch, SAC and rate",
        cron="CRON_TZ=Asia/Kolkata 0 1 1 * *",  # 01:00 IST on the 1st
        period=MONTH,
    ),
    # Triggered by business events
    JobSpec(
        "post-service-followup",
        triggered.post_service_followup,
        "review request 24 h after a completed booking",
        delay=timedelta(hours=24),
    ),
    JobSpec(
        "stale-booking-alert",
        triggered.stale_booking_alert,
        "alert or auto-reject a booking still pending",
        delay=timedelta(hours=2),
    ),
    JobSpec(
        "noshow-check",
        triggered.noshow_check,
        "ask receptionists to review a booking still confirmed past its end",
        delay=timedelta(minutes=15),
    ),
    JobSpec(
        "membership-expired-notice",
        triggered.membership_expired_notice,
        "renewal email an hour after a membership expires",
        delay=timedelta(hours=1),
    ),
    JobSpec(
        "invoice-pdf",
        triggered.invoice_pdf,
        "render the GST invoice PDF and email it to the customer",
        delay=timedelta(0),
        heartbeat=False,
    ),
]

BY_NAME = {spec.name: spec for spec in JOBS}
