"""daily-sales-report and weekly-report: figures, Slack, email, retries."""

import logging
import re
from decimal import Decimal

import pytest

from jobs.report_data import Figures
from jobs.report_render import change, rows
from models import NotificationLog, db
from senders import Outcome, Result
from senders.base import NullSlackSender
from tests import factories as f

DAILY_AT = "2026-12-04 22:30"  # Friday
WEEKLY_AT = "2026-12-07 09:00"  # Monday


def words(text):
    """Text with tags dropped and whitespace collapsed, to read like a person."""
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def log_rows():
    query = NotificationLog.select().order_by(
        NotificationLog.channel, NotificationLog.dedupe_key
    )
    return [
        (r.dedupe_key, r.channel, r.recipient_type, r.recipient_id, r.status)
        for r in query
    ]


def sections(message):
    return [b["text"]["text"] for b in message.blocks if b["type"] == "section"]


@pytest.fixture
def day(app, clock):
    """Two busy branches, a quiet one and a closed one, on Friday 4 December."""
    clock.set(f.at(DAILY_AT))
    ind = f.branch(id="br_ind", name="Indiranagar")
    kor = f.branch(id="br_kor", name="Koramangala")
    f.branch(id="br_wtf", name="Whitefield")
    f.branch(id="br_old", name="Old Airport Road", is_active=False)
    massage = f.service(name="Swedish Massage (60 min)")
    facial = f.service(name="Hydrating Facial")
    c = f.customer()

    # Indiranagar: two service invoices and a membership; the first one was
    # paid ten minutes into the day for a booking completed the night before.
    late = f.booking(
        c,
        ind,
        f.at("2026-12-03 22:00"),
        service=massage,
        status="completed",
        completed_at=f.at("2026-12-03 23:30"),
    )
    f.invoice(c, ind, f.at("2026-12-04 00:10"), "2500.00", booking=late)
    afternoon = f.booking(
        c,
        ind,
        f.at("2026-12-04 13:00"),
        service=facial,
        status="completed",
        completed_at=f.at("2026-12-04 14:00"),
    )
    f.invoice(c, ind, f.at("2026-12-04 14:05"), "1000.00", booking=afternoon)
    f.invoice(c, ind, f.at("2026-12-04 18:00"), "20000.00", kind="membership_purchase")
    f.booking(
        c,
        ind,
        f.at("2026-12-04 06:00"),
        status="completed",
        completed_at=f.at("2026-12-04 00:00"),
    )
    f.booking(c, ind, f.at("2026-12-06 11:00"), created_at=f.at("2026-12-04 00:00"))
    f.booking(c, ind, f.at("2026-12-08 11:00"), created_at=f.at("2026-12-03 23:59"))
    f.booking(
        c,
        ind,
        f.at("2026-12-05 10:00"),
        status="cancelled",
        created_at=f.at("2026-12-01 10:00"),
        updated_at=f.at("2026-12-04 09:00"),
    )
    f.booking(c, ind, f.at("2026-12-03 17:00"), status="no_show")
    # Not today's revenue: paid a second before midnight, unpaid, void.
    f.invoice(c, ind, f.at("2026-12-03 23:59"), "9000.00")
    f.invoice(c, ind, None, "7000.00")
    f.invoice(c, ind, f.at("2026-12-04 12:00"), "8000.00", status="void")

    # Koramangala: a 5 % service and a product; a walk-in booked this morning.
    walk_in = f.booking(
        c,
        kor,
        f.at("2026-12-04 10:00"),
        service=massage,
        status="completed",
        created_at=f.at("2026-12-04 08:00"),
        completed_at=f.at("2026-12-04 10:50"),
    )
    f.invoice(c, kor, f.at("2026-12-04 11:00"), "1500.00", "5.00", booking=walk_in)
    f.invoice(c, kor, f.at("2026-12-04 22:29"), "499.99", kind="product")
    f.booking(c, kor, f.at("2026-12-04 11:00"), status="no_show")
    f.booking(
        c,
        kor,
        f.at("2026-12-05 10:00"),
        status="cancelled",
        updated_at=f.at("2026-12-03 20:00"),
    )

    owner = f.report_recipient(id="rr_owner", email="owner@theroyalglow.in")
    accounts = f.report_recipient(id="rr_acc", email="accounts@theroyalglow.in")
    f.report_recipient(id="rr_gone", email="former@theroyalglow.in", is_active=False)
    return owner, accounts


DAILY_TOTAL = (
    "*All branches* (3 branches)\n"
    "Gross sales: *₹29,894.99*\n"
    "Taxable value: *₹25,499.99*\n"
    "GST: *₹4,395.00*\n"
    "Paid invoices: *5*\n"
    "Services: *₹5,705.00*\n"
    "Memberships: *₹23,600.00*\n"
    "Products: *₹589.99*\n"
    "Completed bookings: *3*\n"
    "New bookings: *2*\n"
    "Cancellations: *1*\n"
    "No-shows: *1*"
)


def test_daily_report_posts_todays_figures_to_slack(day, call_job, senders):
    response = call_job("daily-sales-report")

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    [message] = senders.slack.sent
    assert message.text == (
        "Daily sales report · Fri 4 Dec 2026: ₹29,894.99 gross from "
        "5 paid invoices, 3 completed bookings"
    )
    assert message.blocks[:2] == [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": "Daily sales report · Fri 4 Dec 2026",
            },
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "IST day so far, as of Fri 4 Dec, 10:30 PM",
                }
            ],
        },
    ]
    assert sections(message) == [
        DAILY_TOTAL,
        "*Top services*\n"
        "1. Swedish Massage (60 min): ₹4,525.00, 2 sales\n"
        "2. Hydrating Facial: ₹1,180.00, 1 sale",
        "*Indiranagar*\n"
        "Gross *₹27,730.00* · 3 paid invoices\n"
        "Services ₹4,130.00 · Memberships ₹23,600.00 · Products ₹0.00\n"
        "Bookings: 2 completed · 1 new · 1 cancelled · 0 no-shows",
        "*Koramangala*\n"
        "Gross *₹2,164.99* · 2 paid invoices\n"
        "Services ₹1,575.00 · Memberships ₹0.00 · Products ₹589.99\n"
        "Bookings: 1 completed · 1 new · 0 cancelled · 1 no-show",
        "*Whitefield*\nNo sales or bookings",
    ]


def test_daily_report_emails_each_active_recipient_a_table_per_branch(
    day, call_job, senders
):
    call_job("daily-sales-report")

    emails = senders.email.sent
    assert sorted(e.to for e in emails) == [
        "accounts@theroyalglow.in",
        "owner@theroyalglow.in",
    ]
    by_to = {e.to: e for e in emails}
    owner = by_to["owner@theroyalglow.in"]
    assert owner.subject == "Daily sales report · Fri 4 Dec 2026"
    assert owner.idempotency_key == "daily-sales-report:2026-12-04:rr_owner"
    assert by_to["accounts@theroyalglow.in"].idempotency_key == (
        "daily-sales-report:2026-12-04:rr_acc"
    )
    indiranagar = (
        "Gross sales ₹27,730.00 Taxable value ₹23,500.00 GST ₹4,230.00 "
        "Paid invoices 3 Services ₹4,130.00 Memberships ₹23,600.00 "
        "Products ₹0.00 Completed bookings 2 New bookings 1 Cancellations 1 "
        "No-shows 0 Top services 1. Swedish Massage (60 min) · 1 sale ₹2,950.00 "
        "2. Hydrating Facial · 1 sale ₹1,180.00"
    )
    koramangala = (
        "Gross sales ₹2,164.99 Taxable value ₹1,999.99 GST ₹165.00 "
        "Paid invoices 2 Services ₹1,575.00 Memberships ₹0.00 "
        "Products ₹589.99 Completed bookings 1 New bookings 1 Cancellations 0 "
        "No-shows 1"
    )
    html = words(owner.html)
    assert "All branches (3) Gross sales ₹29,894.99 Taxable value ₹25,499.99" in html
    assert f"Indiranagar {indiranagar}" in html
    assert f"Koramangala {koramangala}" in html
    assert "No sales or bookings: Whitefield." in html
    assert "Old Airport Road" not in html
    text = words(owner.text)
    assert "INDIRANAGAR Gross sales ₹27,730.00 Taxable value ₹23,500.00" in text
    assert "1. Swedish Massage (60 min): ₹2,950.00, 1 sale" in text
    assert f"KORAMANGALA {koramangala}" in text
    assert "No sales or bookings: Whitefield." in text


def test_invoice_paid_ten_past_midnight_ist_belongs_to_that_day(
    app, call_job, clock, senders
):
    clock.set(f.at(DAILY_AT))
    branch = f.branch(name="Indiranagar")
    c = f.customer()
    f.invoice(c, branch, f.at("2026-12-03 23:59"), "100.00", "5.00")
    f.invoice(c, branch, f.at("2026-12-04 00:00"), "200.00", "5.00")
    f.invoice(c, branch, f.at("2026-12-04 00:10"), "400.00", "5.00")
    f.invoice(c, branch, f.at("2026-12-05 00:00"), "800.00", "5.00")

    call_job("daily-sales-report")

    [message] = senders.slack.sent
    assert "Gross sales: *₹630.00*\n" in sections(message)[0]
    assert "Paid invoices: *2*\n" in sections(message)[0]


def test_daily_report_runs_once_a_day_per_channel_and_recipient(day, call_job, senders):
    call_job("daily-sales-report")
    second = call_job("daily-sales-report")

    assert second.status_code == 200
    assert len(senders.slack.sent) == 1
    assert len(senders.email.sent) == 2
    assert log_rows() == [
        (
            "daily-sales-report:2026-12-04:rr_acc",
            "email",
            "recipient",
            "rr_acc",
            "sent",
        ),
        (
            "daily-sales-report:2026-12-04:rr_owner",
            "email",
            "recipient",
            "rr_owner",
            "sent",
        ),
        ("daily-sales-report:2026-12-04", "slack", "channel", "webhook", "sent"),
    ]


def test_retry_after_one_failed_email_sends_only_that_email(day, call_job, senders):
    senders.email.by_address["accounts@theroyalglow.in"] = Result(
        Outcome.TRANSIENT, "500"
    )

    first = call_job("daily-sales-report")

    assert first.status_code == 500
    assert len(senders.slack.sent) == 1
    assert [e.to for e in senders.email.sent] == ["owner@theroyalglow.in"]

    senders.email.by_address.clear()
    second = call_job("daily-sales-report")

    assert second.status_code == 200
    assert len(senders.slack.sent) == 1
    assert [e.to for e in senders.email.sent] == [
        "owner@theroyalglow.in",
        "accounts@theroyalglow.in",
    ]
    attempts = {r.dedupe_key: (r.status, r.attempts) for r in NotificationLog.select()}
    assert attempts == {
        "daily-sales-report:2026-12-04": ("sent", 1),
        "daily-sales-report:2026-12-04:rr_owner": ("sent", 1),
        "daily-sales-report:2026-12-04:rr_acc": ("sent", 2),
    }


def test_no_recipients_and_no_slack_still_builds_and_logs_the_report(
    app, call_job, clock, senders, caplog
):
    senders.slack = NullSlackSender()
    clock.set(f.at(DAILY_AT))
    branch = f.branch(name="Indiranagar")
    f.invoice(f.customer(), branch, f.at("2026-12-04 12:00"), "1000.00")

    with caplog.at_level(logging.INFO):
        response = call_job("daily-sales-report")

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    assert senders.email.sent == []
    assert (
        "daily-sales-report: Fri 4 Dec 2026, ₹1,180.00 gross from 1 paid invoice "
        "across 1 branch"
    ) in caplog.messages
    assert log_rows() == [
        ("daily-sales-report:2026-12-04", "slack", "channel", "webhook", "skipped")
    ]


def test_slack_row_names_the_configured_channel(app, call_job, clock):
    app.config["SLACK_REPORT_CHANNEL"] = "#sales"
    clock.set(f.at(DAILY_AT))

    call_job("daily-sales-report")

    assert log_rows() == [
        ("daily-sales-report:2026-12-04", "slack", "channel", "#sales", "sent")
    ]


def test_two_hundred_branches_fit_one_slack_message(app, call_job, clock, senders):
    clock.set(f.at(DAILY_AT))
    c = f.customer()
    gross = []
    for n in range(200):
        branch = f.branch(id=f"br_{n:03d}", name=f"Branch {n:03d}")
        invoice = f.invoice(c, branch, f.at("2026-12-04 12:00"), str(1000 + n))
        gross.append(invoice.total)

    call_job("daily-sales-report")

    [message] = senders.slack.sent
    assert len(message.blocks) <= 50
    assert all(len(text) < 3000 for text in sections(message))
    assert len(message.blocks[0]["text"]["text"]) <= 150
    texts = sections(message)
    assert sum(gross) == Decimal("259482.00")
    assert "Gross sales: *₹2,59,482.00*\n" in texts[0]
    branch_names = [t.split("\n")[0] for t in texts[1:]]
    assert branch_names == [f"*Branch {n:03d}*" for n in range(199, 184, -1)]
    assert sum(gross[:185]) == Decimal("238383.60")
    assert message.blocks[-1] == {
        "type": "context",
        "elements": [
            {
                "type": "mrkdwn",
                "text": "+ 185 more branches: ₹2,38,383.60 gross, "
                "185 paid invoices, 0 completed bookings",
            }
        ],
    }


def test_two_hundred_branches_email_lists_the_rest_one_row_each_unclipped(
    app, call_job, clock, senders
):
    clock.set(f.at(WEEKLY_AT))
    c = f.customer()
    f.report_recipient()
    for n in range(200):
        branch = f.branch(name=f"Koramangala 5th Block {n:03d}")
        f.invoice(c, branch, f.at("2026-12-01 12:00"), str(1000 + n))
        f.invoice(c, branch, f.at("2026-11-24 12:00"), "1000.00")

    call_job("weekly-report")

    [email] = senders.email.sent
    assert len(email.html.encode()) < 100_000  # Gmail clips past 102 KB
    html = words(email.html)
    assert html.count("Taxable value") == 16  # the chain and 15 branches
    assert (
        "Other branches Branch Gross Invoices Completed "
        "Koramangala 5th Block 184 ₹1,397.12 +₹217.12 (+18.4%) 1 0 "
        "Koramangala 5th Block 183 ₹1,395.94 +₹215.94 (+18.3%) 1 0"
    ) in html
    others = email.text.split("OTHER BRANCHES\n")[1].split("\n\n")[0].splitlines()
    assert len(others) == 185
    assert others[-1] == (
        "Koramangala 5th Block 000: ₹1,180.00 gross (no change), "
        "1 paid invoice, 0 completed bookings"
    )


def test_query_count_does_not_grow_with_branches_and_invoices(
    app, call_job, clock, monkeypatch
):
    clock.set(f.at(DAILY_AT))
    c = f.customer()
    f.report_recipient()
    massage = f.service()

    def seed(branches):
        for _ in range(branches):
            branch = f.branch()
            for hour in (10, 12, 14):
                bk = f.booking(
                    c,
                    branch,
                    f.at(f"2026-12-04 {hour}:00"),
                    service=massage,
                    status="completed",
                    completed_at=f.at(f"2026-12-04 {hour}:50"),
                )
                f.invoice(c, branch, f.at(f"2026-12-04 {hour}:55"), booking=bk)

    def queries_of_a_run():
        executed = []
        real = db.obj.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            executed.append(sql)
            return real(sql, params, *args, **kwargs)

        monkeypatch.setattr(db.obj, "execute_sql", counting)
        call_job("daily-sales-report")
        monkeypatch.undo()
        NotificationLog.delete().execute()
        return len(executed)

    seed(2)
    few = queries_of_a_run()
    seed(20)
    many = queries_of_a_run()

    assert few == many


def test_branch_names_are_escaped_for_slack_and_email(day, call_job, senders):
    f.branch(name="Spa & Co <Elite>")

    call_job("daily-sales-report")

    assert "*Spa &amp; Co &lt;Elite&gt;*\nNo sales or bookings" in sections(
        senders.slack.sent[0]
    )
    assert (
        "No sales or bookings: Spa &amp; Co &lt;Elite&gt;, Whitefield."
        in senders.email.sent[0].html
    )
    assert (
        "No sales or bookings: Spa & Co <Elite>, Whitefield."
        in senders.email.sent[0].text
    )


@pytest.fixture
def weeks(app, clock):
    """Two weeks of invoices around Monday 7 December, and their edges."""
    clock.set(f.at(WEEKLY_AT))
    ind = f.branch(id="br_ind", name="Indiranagar")
    kor = f.branch(id="br_kor", name="Koramangala")
    c = f.customer()
    # Last week, Mon 30 Nov - Sun 6 Dec: its first and last minutes.
    f.invoice(c, ind, f.at("2026-11-30 00:00"), "1000.00")
    f.invoice(c, ind, f.at("2026-12-06 23:59"), "2000.00")
    f.invoice(c, kor, f.at("2026-12-02 12:00"), "1500.00", "5.00")
    f.booking(
        c,
        ind,
        f.at("2026-12-06 19:00"),
        status="completed",
        completed_at=f.at("2026-12-06 20:00"),
    )
    # The week before, Mon 23 - Sun 29 Nov. Bookings are made two days ahead
    # (the factory's default), so one of these two is new in that week.
    f.invoice(c, ind, f.at("2026-11-23 00:00"), "1000.00")
    f.invoice(c, ind, f.at("2026-11-29 23:59"), "1000.00")
    for day in ("2026-11-24", "2026-11-25"):
        f.booking(
            c,
            ind,
            f.at(f"{day} 10:00"),
            status="completed",
            completed_at=f.at(f"{day} 11:00"),
        )
    # Outside both: today, and the Sunday before.
    f.invoice(c, ind, f.at("2026-12-07 00:05"), "5000.00")
    f.invoice(c, ind, f.at("2026-11-22 23:59"), "9000.00")
    f.report_recipient(id="rr_owner", email="owner@theroyalglow.in")


def test_weekly_report_compares_last_week_with_the_one_before(weeks, call_job, senders):
    response = call_job("weekly-report")

    assert response.status_code == 200
    assert response.get_json() == {"success": True}
    [message] = senders.slack.sent
    assert message.blocks[0]["text"]["text"] == (
        "Weekly sales report · Mon 30 Nov – Sun 6 Dec 2026"
    )
    assert sections(message) == [
        "*All branches* (2 branches)\n"
        "Gross sales: *₹5,115.00*  _+₹2,755.00 (+116.7%)_\n"
        "Taxable value: *₹4,500.00*  _+₹2,500.00 (+125.0%)_\n"
        "GST: *₹615.00*  _+₹255.00 (+70.8%)_\n"
        "Paid invoices: *3*  _+1 (+50.0%)_\n"
        "Services: *₹5,115.00*  _+₹2,755.00 (+116.7%)_\n"
        "Memberships: *₹0.00*  _no change_\n"
        "Products: *₹0.00*  _no change_\n"
        "Completed bookings: *1*  _-1 (-50.0%)_\n"
        "New bookings: *1*  _no change_\n"
        "Cancellations: *0*  _no change_\n"
        "No-shows: *0*  _no change_",
        "*Indiranagar*\n"
        "Gross *₹3,540.00*  _+₹1,180.00 (+50.0%)_ · 2 paid invoices\n"
        "Services ₹3,540.00 · Memberships ₹0.00 · Products ₹0.00\n"
        "Bookings: 1 completed · 1 new · 0 cancelled · 0 no-shows",
        "*Koramangala*\n"
        "Gross *₹1,575.00*  _+₹1,575.00 (new)_ · 1 paid invoice\n"
        "Services ₹1,575.00 · Memberships ₹0.00 · Products ₹0.00\n"
        "Bookings: 0 completed · 0 new · 0 cancelled · 0 no-shows",
    ]
    [email] = senders.email.sent
    assert email.subject == "Weekly sales report · Mon 30 Nov – Sun 6 Dec 2026"
    assert email.idempotency_key == "weekly-report:2026-11-30:rr_owner"
    assert (
        "Koramangala Gross sales ₹1,575.00 +₹1,575.00 (new) "
        "Taxable value ₹1,500.00 +₹1,500.00 (new)"
    ) in words(email.html)
    assert (
        "INDIRANAGAR Gross sales ₹3,540.00 +₹1,180.00 (+50.0%) "
        "Taxable value ₹3,000.00 +₹1,000.00 (+50.0%)"
    ) in words(email.text)
    assert [r[0] for r in log_rows()] == [
        "weekly-report:2026-11-30:rr_owner",
        "weekly-report:2026-11-30",
    ]


def test_weekly_report_retried_a_day_late_reports_the_same_week_once(
    weeks, call_job, clock, senders
):
    call_job("weekly-report")
    clock.set(f.at("2026-12-08 00:30"))

    late = call_job("weekly-report")

    assert late.status_code == 200
    assert len(senders.slack.sent) == 1
    assert len(senders.email.sent) == 1
    assert NotificationLog.select().count() == 2


def test_week_from_nothing_reads_new_and_an_empty_week_no_change(
    app, call_job, clock, senders
):
    clock.set(f.at(WEEKLY_AT))
    opened = f.branch(id="br_new", name="HSR Layout")
    closed = f.branch(id="br_cls", name="Jayanagar")
    f.branch(id="br_idle", name="Whitefield")
    c = f.customer()
    f.invoice(c, opened, f.at("2026-12-01 12:00"), "1000.00")
    f.invoice(c, closed, f.at("2026-11-25 12:00"), "1000.00")

    call_job("weekly-report")

    texts = sections(senders.slack.sent[0])
    assert "Gross sales: *₹1,180.00*  _no change_\n" in texts[0]
    assert texts[1].startswith("*HSR Layout*\nGross *₹1,180.00*  _+₹1,180.00 (new)_")
    assert texts[2].startswith("*Jayanagar*\nGross *₹0.00*  _-₹1,180.00 (-100.0%)_")
    assert texts[3] == "*Whitefield*\nNo sales or bookings"


def test_weekly_report_with_no_sales_in_either_week_says_no_change(
    app, call_job, clock, senders
):
    clock.set(f.at(WEEKLY_AT))
    f.branch(name="Indiranagar")

    response = call_job("weekly-report")

    assert response.status_code == 200
    total = sections(senders.slack.sent[0])[0].split("\n")[1:]
    assert len(total) == 11
    assert all(line.endswith("_no change_") for line in total)


@pytest.mark.parametrize(
    "current, previous, money, shown",
    [
        (Decimal("1250.00"), Decimal("1000.00"), True, "+₹250.00 (+25.0%)"),
        (Decimal("0.00"), Decimal("1180.00"), True, "-₹1,180.00 (-100.0%)"),
        (Decimal("123456.50"), Decimal("0.00"), True, "+₹1,23,456.50 (new)"),
        (Decimal("0.00"), Decimal("0.00"), True, "no change"),
        (7, 7, False, "no change"),
        (1, 3, False, "-2 (-66.7%)"),
    ],
)
def test_change_against_the_week_before_never_divides_by_zero(
    current, previous, money, shown
):
    assert change(current, previous, money) == shown


def test_more_cancellations_and_fewer_sales_read_as_worse():
    before = Figures(gross=Decimal("1000.00"), cancelled=1, no_shows=2, new=0)
    now = Figures(gross=Decimal("900.00"), cancelled=3, no_shows=1, new=4)

    trends = {row.label: row.trend for row in rows(now, before)}

    assert trends["Gross sales"] == "worse"
    assert trends["Cancellations"] == "worse"
    assert trends["No-shows"] == "better"
    assert trends["New bookings"] == "new"
    assert trends["Products"] == "flat"


def test_closed_branch_is_listed_only_for_a_period_it_has_figures_in(
    app, call_job, clock, senders
):
    clock.set(f.at(DAILY_AT))
    f.branch(name="Indiranagar")
    closing = f.branch(name="Old Airport Road", is_active=False)
    f.branch(name="Jayanagar", is_active=False)
    f.invoice(f.customer(), closing, f.at("2026-12-04 10:00"), "1000.00")

    call_job("daily-sales-report")

    texts = sections(senders.slack.sent[0])
    assert texts[0].startswith("*All branches* (2 branches)\nGross sales: *₹1,180.00*")
    assert [t.split("\n")[0] for t in texts[1:]] == [
        "*Old Airport Road*",
        "*Indiranagar*",
    ]
