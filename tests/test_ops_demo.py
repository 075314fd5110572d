"""The demo: its data is realistic and laid out around now, and its run calls
every route with a signature the service accepts."""

import dataclasses
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from peewee import fn

import settings
from clock import ist_date
from demo.calls import fire, planned_calls, report
from demo.run import demo_environment, demo_files
from demo.seed import FIRST_NAMES, LAST_NAMES, seed
from jobs.catalog import BY_NAME, JOBS
from models import (
    Booking,
    Branch,
    Customer,
    GemsTransaction,
    Invoice,
    JobRun,
    Lead,
    PushSubscription,
    ReportRecipient,
    Session,
    SpaMembership,
)
from senders import build_senders
from senders.base import NullEmailSender, NullPushSender, NullSlackSender
from tests.conftest import DEFAULT_NOW
from tests.qstash_tokens import BASE, CURRENT_KEY

NOW = DEFAULT_NOW


@pytest.fixture
def seeded(app):
    return seed(NOW)


def test_three_branches_in_three_states_one_of_them_closed(seeded):
    branches = {(b.state_code, b.is_active) for b in Branch.select()}

    assert branches == {("29", True), ("27", True), ("36", False)}


def test_a_few_hundred_customers_with_indian_names(seeded):
    names = [c.name.split(" ") for c in Customer.select()]

    assert len(names) == 300
    assert all(first in FIRST_NAMES and last in LAST_NAMES for first, last in names)
    assert Customer.select().where(Customer.deleted_at.is_null(False)).count() > 0
    assert Customer.select().where(Customer.email.is_null()).count() > 0


def test_invoices_are_at_5_and_18_percent_with_exact_tax(seeded):
    invoices = list(Invoice.select())

    assert {i.gst_rate for i in invoices} == {Decimal("5.00"), Decimal("18.00")}
    assert {i.gst_rate for i in invoices if i.kind == "product"} == {Decimal("18.00")}
    for invoice in invoices:
        tax = (invoice.taxable_amount * invoice.gst_rate / 100).quantize(
            Decimal("0.01")
        )
        assert invoice.cgst + invoice.sgst + invoice.igst == tax
        assert invoice.total == invoice.taxable_amount + tax
    assert any(i.igst > 0 for i in invoices)


def test_service_invoices_use_the_rate_of_their_date(seeded):
    rates = {
        (ist_date(i.paid_at) >= ist_date(NOW).replace(year=2025, month=9, day=22))
        == (i.gst_rate == Decimal("5.00"))
        for i in Invoice.select().where(Invoice.kind != "product")
    }

    assert rates == {True}


def test_gem_balances_equal_the_sum_of_each_customers_transactions(seeded):
    sums = dict(
        GemsTransaction.select(GemsTransaction.customer, fn.SUM(GemsTransaction.amount))
        .group_by(GemsTransaction.customer)
        .tuples()
    )

    assert sums
    for customer in Customer.select().where(Customer.id.in_(list(sums))):
        assert customer.gems_balance == sums[customer.id] >= 0


def test_each_reminder_window_holds_a_confirmed_booking(seeded):
    confirmed = Booking.select().where(Booking.status == "confirmed")
    starts = [b.start_time - NOW for b in confirmed]

    assert any(timedelta(0) < s <= timedelta(hours=1) for s in starts)
    assert any(timedelta(hours=1) < s <= timedelta(hours=24) for s in starts)


def test_memberships_expire_in_30_7_and_1_days(seeded):
    days = {
        (ist_date(m.expires_at) - ist_date(NOW)).days
        for m in SpaMembership.select().where(SpaMembership.status == "active")
    }

    assert {30, 7, 1} <= days


def test_birthdays_today_and_stale_leads_are_there(seeded):
    today = ist_date(NOW)
    birthdays = [
        c
        for c in Customer.select()
        if c.date_of_birth
        and (c.date_of_birth.month, c.date_of_birth.day) == (today.month, today.day)
    ]
    quiet = Lead.select().where(
        Lead.status == "follow_up", Lead.last_contacted_at < NOW - timedelta(hours=48)
    )

    assert Counter(c.marketing_consent for c in birthdays) == {True: 3, False: 1}
    assert quiet.count() >= 5
    assert Counter(
        "nobody" if lead.assigned_staff is None else lead.assigned_staff.is_active
        for lead in quiet
    ) == {True: 5, False: 1, "nobody": 1}


def test_sessions_recipients_and_push_subscriptions_are_there(seeded):
    endpoints = [p.endpoint for p in PushSubscription.select()]

    assert Session.select().where(Session.expires_at < NOW).count() > 0
    assert Session.select().where(Session.expires_at > NOW).count() > 0
    assert ReportRecipient.select().count() == 3
    assert endpoints
    assert all(e.startswith("https://push.example.invalid/") for e in endpoints)


def test_the_triggered_jobs_name_records_in_the_state_their_job_acts_on(seeded):
    payloads = seeded.payloads
    followup = Booking.get_by_id(payloads["post-service-followup"]["bookingId"])
    pending = Booking.get_by_id(payloads["stale-booking-alert"]["bookingId"])
    unattended = Booking.get_by_id(payloads["noshow-check"]["bookingId"])
    lapsed = SpaMembership.get_by_id(
        payloads["membership-expired-notice"]["membershipId"]
    )
    invoice = Invoice.get_by_id(payloads["invoice-pdf"]["invoiceId"])

    assert set(payloads) == {s.name for s in JOBS if not s.cron}
    assert followup.status == "completed"
    assert followup.customer.marketing_consent and followup.customer.email
    assert pending.status == "pending"
    assert timedelta(hours=2) <= NOW - pending.created_at < timedelta(hours=24)
    assert unattended.status == "confirmed" and unattended.end_time < NOW
    assert lapsed.expires_at <= NOW and lapsed.status == "active"
    assert invoice.booking_id == followup.id and invoice.status == "paid"


def test_a_small_demo_still_names_a_record_for_every_triggered_job(app):
    small = seed(NOW, customers=40)

    assert small.counts["customer"] == 40
    assert set(small.payloads) == {s.name for s in JOBS if not s.cron}


def test_seeding_twice_is_refused(seeded):
    with pytest.raises(ValueError, match="already has branches"):
        seed(NOW)


# The run


@pytest.fixture
def recorded(monkeypatch):
    calls = []

    def fake_job(ctx):
        calls.append((ctx.job, ctx.payload))
        return {"success": True}

    for name, spec in list(BY_NAME.items()):
        monkeypatch.setitem(BY_NAME, name, dataclasses.replace(spec, run=fake_job))
    return calls


def test_the_run_calls_all_19_routes_with_accepted_signatures(client, seeded, recorded):
    def send(path, body, headers):
        response = client.post(path, data=body, headers=headers)
        return response.status_code, response.get_data(as_text=True)

    calls = fire(send, BASE, CURRENT_KEY, seeded.payloads)

    assert [(c.job, c.status) for c in calls] == [(s.name, 200) for s in JOBS]
    assert recorded == [
        (s.name, {} if s.cron else seeded.payloads[s.name]) for s in JOBS
    ]
    assert report(calls)[-1] == "19 routes called: 19 answered 200"


def test_the_run_sends_qstash_headers_that_land_in_the_history(
    client, seeded, recorded
):
    def send(path, body, headers):
        response = client.post(path, data=body, headers=headers)
        return response.status_code, ""

    fire(send, BASE, CURRENT_KEY, seeded.payloads)

    runs = {r.job: r for r in JobRun.select()}
    assert len(runs) == 19
    assert all(r.message_id.startswith("msg_demo_") for r in runs.values())
    assert runs["birthday-emails"].schedule_id == "scd_demo_birthday-emails"
    assert runs["invoice-pdf"].schedule_id is None


def test_the_scheduled_routes_get_empty_bodies():
    calls = planned_calls({"noshow-check": {"bookingId": "bk_1"}})

    assert {c.job: c.body for c in calls}["birthday-emails"] == b""
    assert {c.job: c.body for c in calls}["noshow-check"] == b'{"bookingId": "bk_1"}'


def test_the_demo_server_has_no_provider_configured(monkeypatch):
    monkeypatch.setenv("RESEND_API_KEY", "re_from_the_shell")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example.test/x")
    monkeypatch.setenv("BETTER_STACK_HEARTBEAT_BIRTHDAY_EMAILS", "https://hb.test/1")

    env = demo_environment("/tmp/demo.sqlite3")
    config = settings.defaults() | settings.from_environment(env)
    senders = build_senders(config)

    assert isinstance(senders.email, NullEmailSender)
    assert isinstance(senders.push, NullPushSender)
    assert isinstance(senders.slack, NullSlackSender)
    assert senders.heartbeat.url_for("birthday-emails") is None
    assert (
        env["QSTASH_CURRENT_SIGNING_KEY"]
        != demo_environment("/tmp/demo.sqlite3")["QSTASH_CURRENT_SIGNING_KEY"]
    )


def test_a_demo_on_another_port_keeps_its_own_database_and_keys():
    assert demo_files(5000) != demo_files(5050)
    assert demo_files(5050)[1].endswith("instance/demo-5050.env")
