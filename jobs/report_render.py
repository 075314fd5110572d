"""A SalesReport as people read it: one Slack message and one email.

Amounts are in the Indian format, dates in IST. The weekly report carries,
beside each figure, its change against the week before in amount and
percent; a figure that was zero before reads "new", and never divides.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from clock import format_ist, format_ist_date
from formatting import inr, plural
from messages import render_email
from senders import SlackMessage

from .report_data import Figures

# Slack's Block Kit limits: 50 blocks a message (a report uses at most 21),
# 3,000 characters of section text, 150 of header text.
SECTION_CHARS = 3000
HEADER_CHARS = 150
# Branches shown in full, highest gross first; the others are summed up in
# one line on Slack and get one row each in the email. This keeps a
# 200-branch message far inside Slack's limits and the email under the
# 102 KB past which Gmail clips it.
TOP_BRANCHES = 15

# (label, Figures field, is an amount, more is better)
METRICS = (
    ("Gross sales", "gross", True, True),
    ("Taxable value", "taxable", True, True),
    ("GST", "tax", True, True),
    ("Paid invoices", "invoices", False, True),
    ("Services", "services", True, True),
    ("Memberships", "memberships", True, True),
    ("Products", "products", True, True),
    ("Completed bookings", "completed", False, True),
    ("New bookings", "new", False, True),
    ("Cancellations", "cancelled", False, False),
    ("No-shows", "no_shows", False, False),
)


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    change: str | None = None  # None when the report is not compared
    trend: str = "flat"  # better, worse, new or flat: how the change is coloured


def title(report):
    if report.compared:
        return f"Weekly sales report · {period(report)}"
    return f"Daily sales report · {period(report)}"


def period(report):
    first, last = report.first_day, report.last_day
    if first == last:
        return format_ist_date(first)
    return f"{first:%a} {first.day} {first:%b} – {format_ist_date(last)}"


def shown(value, money):
    return inr(value) if money else str(value)


def change(current, previous, money):
    """How a figure moved: '+₹1,000.00 (+25.0%)', '-3 (-50.0%)',
    '+₹500.00 (new)' when it was zero before, or 'no change'."""
    delta = current - previous
    if delta == 0:
        return "no change"
    sign = "+" if delta > 0 else "-"
    amount = f"{sign}{shown(abs(delta), money)}"
    if previous == 0:
        return f"{amount} (new)"
    percent = (Decimal(delta) * 100 / Decimal(previous)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    return f"{amount} ({sign}{abs(percent)}%)"


def trend(current, previous, more_is_better):
    if current == previous:
        return "flat"
    if previous == 0:
        return "new"
    return "better" if (current > previous) == more_is_better else "worse"


def rows(figures, previous=None):
    """One Row per metric, with its change when there is a period to compare."""
    found = []
    for label, name, money, more_is_better in METRICS:
        value = getattr(figures, name)
        if previous is None:
            found.append(Row(label, shown(value, money)))
            continue
        before = getattr(previous, name)
        found.append(
            Row(
                label,
                shown(value, money),
                change(value, before, money),
                trend(value, before, more_is_better),
            )
        )
    return found


# Slack


def slack_message(report, as_of):
    """One Block Kit message: the chain, its top services, the top branches."""
    total, previous = report.total, report.previous_total
    blocks = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": clip(title(report), HEADER_CHARS)},
        },
        context(caption(report, as_of)),
        section(
            f"*All branches* ({plural(len(report.branches), 'branch', 'branches')})\n"
            + "\n".join(slack_line(row) for row in rows(total, previous))
        ),
    ]
    if report.top_services:
        blocks.append(section("*Top services*\n" + services_text(report.top_services)))
    blocks.append({"type": "divider"})

    listed, rest = report.branches[:TOP_BRANCHES], report.branches[TOP_BRANCHES:]
    blocks += [section(branch_text(branch)) for branch in listed]
    if rest:
        others = sum((b.figures for b in rest), Figures())
        blocks.append(
            context(
                f"+ {plural(len(rest), 'more branch', 'more branches')}: "
                f"{inr(others.gross)} gross, "
                f"{plural(others.invoices, 'paid invoice')}, "
                f"{plural(others.completed, 'completed booking')}"
            )
        )

    fallback = (
        f"{title(report)}: {inr(total.gross)} gross from "
        f"{plural(total.invoices, 'paid invoice')}, "
        f"{plural(total.completed, 'completed booking')}"
    )
    return SlackMessage(text=fallback, blocks=blocks)


def caption(report, as_of):
    if report.compared:
        return f"{report.days} days in IST, compared with the {report.days} before"
    return f"IST day so far, as of {format_ist(as_of)}"


def slack_line(row):
    line = f"{row.label}: *{row.value}*"
    return f"{line}  _{row.change}_" if row.change else line


def branch_text(branch):
    figures, previous = branch.figures, branch.previous
    name = f"*{escape(branch.name)}*"
    if branch.quiet:
        return f"{name}\nNo sales or bookings"
    gross = f"Gross *{inr(figures.gross)}*"
    if previous is not None:
        gross += f"  _{change(figures.gross, previous.gross, True)}_"
    return "\n".join(
        [
            name,
            f"{gross} · {plural(figures.invoices, 'paid invoice')}",
            f"Services {inr(figures.services)} · "
            f"Memberships {inr(figures.memberships)} · "
            f"Products {inr(figures.products)}",
            f"Bookings: {figures.completed} completed · {figures.new} new · "
            f"{figures.cancelled} cancelled · {plural(figures.no_shows, 'no-show')}",
        ]
    )


def services_text(services):
    return "\n".join(
        f"{rank}. {escape(s.name)}: {inr(s.gross)}, {plural(s.count, 'sale')}"
        for rank, s in enumerate(services, 1)
    )


def section(text):
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def context(text):
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


def clip(text, limit=SECTION_CHARS - 1):
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape(text):
    """Slack's control characters in text that came from the database."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Email


def report_email(report, as_of, to=None, idempotency_key=None):
    """The report as an Email: an HTML table per branch and a plain-text part."""
    busy = [b for b in report.branches if not b.quiet]
    listed, rest = busy[:TOP_BRANCHES], busy[TOP_BRANCHES:]
    view = {
        "title": title(report),
        "caption": caption(report, as_of),
        "branch_count": len(report.branches),
        "total_rows": rows(report.total, report.previous_total),
        "top_services": service_rows(report.top_services),
        "branches": [
            {
                "name": b.name,
                "rows": rows(b.figures, b.previous),
                "top_services": service_rows(b.top_services),
            }
            for b in listed
        ],
        "others": [
            {
                "name": b.name,
                "gross": rows(b.figures, b.previous)[0],  # the first metric
                "invoices": b.figures.invoices,
                "completed": b.figures.completed,
            }
            for b in rest
        ],
        "quiet": [b.name for b in report.branches if b.quiet],
    }
    return render_email(
        "sales_report",
        to,
        view["title"],
        idempotency_key=idempotency_key,
        report=view,
    )


def service_rows(services):
    return [
        {
            "rank": rank,
            "name": s.name,
            "sales": plural(s.count, "sale"),
            "gross": inr(s.gross),
        }
        for rank, s in enumerate(services, 1)
    ]
