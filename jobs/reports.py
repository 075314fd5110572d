"""The sales reports: today's at 22:30 IST, last week's on Monday morning.

Each goes out as one Slack message and one email per active report
recipient, through the notification log. The Slack message is logged under
the job's dedupe key, each email under that key followed by the recipient's
id, so a retry after a half-done run sends only what is missing.
"""

import dataclasses
import logging
from datetime import timedelta

from clock import ist_date
from formatting import inr, plural
from models import ReportRecipient
from notifications import Notice

from .report_data import sales_report
from .report_render import period, report_email, slack_message

log = logging.getLogger(__name__)


def daily_sales_report(ctx):
    """Today's figures so far, per branch and for the chain."""
    today = ist_date(ctx.now)

    report = sales_report(today, today)

    send(ctx, report, f"daily-sales-report:{today.isoformat()}")
    return {"success": True}


def weekly_report(ctx):
    """Last Monday-to-Sunday week, compared with the week before it.

    On Monday that is the seven days that ended yesterday; a retry that
    lands on a later day still reports the same week under the same key.
    """
    today = ist_date(ctx.now)
    first = today - timedelta(days=today.weekday() + 7)

    report = sales_report(first, first + timedelta(days=6), compare=True)

    send(ctx, report, f"weekly-report:{first.isoformat()}")
    return {"success": True}


def send(ctx, report, key):
    """Post the report to Slack and email it to every active recipient."""
    total = report.total
    log.info(
        "%s: %s, %s gross from %s across %s",
        ctx.job,
        period(report),
        inr(total.gross),
        plural(total.invoices, "paid invoice"),
        plural(len(report.branches), "branch", "branches"),
    )
    recipients = list(
        ReportRecipient.select(ReportRecipient.id, ReportRecipient.email)
        .where(ReportRecipient.is_active)
        .order_by(ReportRecipient.email)
        .tuples()
    )

    notices = [
        Notice(
            key,
            ctx.job,
            "channel",
            ctx.config.get("SLACK_REPORT_CHANNEL") or "webhook",
            slack=slack_message(report, ctx.now),
        )
    ]
    if recipients:
        email = report_email(report, ctx.now)
        for recipient_id, address in recipients:
            recipient_key = f"{key}:{recipient_id}"
            notices.append(
                Notice(
                    recipient_key,
                    ctx.job,
                    "recipient",
                    recipient_id,
                    email=dataclasses.replace(
                        email, to=address, idempotency_key=recipient_key
                    ),
                )
            )
    ctx.notify(notices)
