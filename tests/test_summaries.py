"""nightly-sales-summary and monthly-gst-summary (JOBS.md section 5)."""

import logging
from datetime import date, timedelta
from decimal import Decimal

import pytest

from jobs import summaries
from models import DailySalesSummary, MonthlyGstSummary
from tests import factories as f
from tests.query_count import count_queries
from tests.write_job_support import job_context, twice_at_once

D = Decimal
# 23:30 IST on Friday 4 December 2026: the run summarises Thursday 3 December.
NIGHT = f.at("2026-12-04 23:30")
YESTERDAY = date(2026, 12, 3)


def daily_rows():
    s = DailySalesSummary
    return list(s.select().order_by(s.summary_date, s.branch).dicts())


def daily_row(branch, day=YESTERDAY, updated_at=NIGHT, **values):
    row = {
        "branch": branch.id,
        "summary_date": day,
        "invoice_count": 0,
        "taxable_amount": D("0.00"),
        "tax_amount": D("0.00"),
        "gross_amount": D("0.00"),
        "service_amount": D("0.00"),
        "membership_amount": D("0.00"),
        "completed_bookings": 0,
        "updated_at": updated_at,
    }
    row.update(values)
    return row


@pytest.fixture
def night(app, clock):
    clock.set(NIGHT)
    return clock


@pytest.fixture
def shop(night):
    """Two active branches and a closed one, one customer."""
    return (
        f.branch(id="br_a", name="Indiranagar"),
        f.branch(id="br_b", name="Koramangala"),
        f.branch(id="br_closed", name="Whitefield", is_active=False),
        f.customer(),
    )


# nightly-sales-summary


def test_one_row_per_active_branch_with_zeros_for_a_quiet_one(shop, call_job):
    a, b, closed, c = shop
    f.invoice(c, a, f.at("2026-12-03 11:00"), taxable="1000.00")
    f.invoice(
        c, a, f.at("2026-12-03 15:00"), taxable="5000.00", kind="membership_purchase"
    )
    f.invoice(c, a, f.at("2026-12-03 18:00"), taxable="500.00", kind="product")
    f.invoice(c, closed, f.at("2026-12-03 12:00"))

    response = call_job("nightly-sales-summary")

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 2}
    assert daily_rows() == [
        daily_row(
            a,
            invoice_count=3,
            taxable_amount=D("6500.00"),
            tax_amount=D("1170.00"),
            gross_amount=D("7670.00"),
            service_amount=D("1180.00"),
            membership_amount=D("5900.00"),
        ),
        daily_row(b),
    ]


def test_only_paid_invoices_count(shop, call_job):
    a, _, _, c = shop
    paid = f.invoice(c, a, f.at("2026-12-03 11:00"), taxable="1000.00")
    for status in ("void", "draft", "issued"):
        f.invoice(c, a, f.at("2026-12-03 12:00"), taxable="777.00", status=status)

    call_job("nightly-sales-summary")

    (row, _) = daily_rows()
    assert (row["invoice_count"], row["gross_amount"]) == (1, paid.total)


def test_invoices_belong_to_the_ist_day_of_payment(shop, call_job):
    a, _, _, c = shop
    # 00:30 IST on 3 Dec is 19:00 UTC on 2 Dec: it still belongs to 3 Dec.
    f.invoice(c, a, f.at("2026-12-03 00:30"), taxable="100.00")
    f.invoice(c, a, f.at("2026-12-03 23:59"), taxable="200.00")
    # 23:59 IST on 2 Dec and 00:00 IST on 4 Dec are other days.
    f.invoice(c, a, f.at("2026-12-02 23:59"), taxable="400.00")
    f.invoice(c, a, f.at("2026-12-04 00:00"), taxable="800.00")

    call_job("nightly-sales-summary")

    (row, _) = daily_rows()
    assert (row["invoice_count"], row["taxable_amount"]) == (2, D("300.00"))


def test_completed_bookings_are_counted_by_ist_completion_day(shop, call_job):
    a, b, _, c = shop
    start = f.at("2026-12-03 10:00")
    for completed_at in ("2026-12-03 00:15", "2026-12-03 21:00"):
        f.booking(c, a, start, status="completed", completed_at=f.at(completed_at))
    f.booking(c, b, start, status="completed", completed_at=f.at("2026-12-03 11:00"))
    f.booking(c, b, start, status="completed", completed_at=f.at("2026-12-04 00:01"))
    f.booking(c, b, start, status="confirmed")

    call_job("nightly-sales-summary")

    assert [row["completed_bookings"] for row in daily_rows()] == [2, 1]


def test_sales_summary_run_twice_writes_the_same_rows(shop, call_job, night):
    a, _, _, c = shop
    f.invoice(c, a, f.at("2026-12-03 11:00"), taxable="1234.57")
    first = call_job("nightly-sales-summary").get_json()
    after_first = daily_rows()

    second = call_job("nightly-sales-summary").get_json()

    assert first == second == {"success": True, "processed": 2}
    assert daily_rows() == after_first


def test_rerun_overwrites_a_stale_row(shop, call_job, night):
    a, b, _, c = shop
    DailySalesSummary.create(
        **{
            **daily_row(a, updated_at=NIGHT - timedelta(days=1)),
            "invoice_count": 9,
            "gross_amount": D("99999.00"),
        }
    )
    f.invoice(c, a, f.at("2026-12-03 11:00"), taxable="1000.00")

    call_job("nightly-sales-summary")

    assert daily_rows() == [
        daily_row(
            a,
            invoice_count=1,
            taxable_amount=D("1000.00"),
            tax_amount=D("180.00"),
            gross_amount=D("1180.00"),
            service_amount=D("1180.00"),
        ),
        daily_row(b),
    ]


def test_date_in_the_body_backfills_that_day(shop, call_job):
    a, b, _, c = shop
    f.invoice(c, a, f.at("2026-11-15 13:00"), taxable="2000.00")
    f.invoice(c, a, f.at("2026-12-03 13:00"), taxable="1000.00")

    response = call_job("nightly-sales-summary", {"date": "2026-11-15"})

    assert response.get_json() == {"success": True, "processed": 2}
    assert daily_rows() == [
        daily_row(
            a,
            day=date(2026, 11, 15),
            invoice_count=1,
            taxable_amount=D("2000.00"),
            tax_amount=D("360.00"),
            gross_amount=D("2360.00"),
            service_amount=D("2360.00"),
        ),
        daily_row(b, day=date(2026, 11, 15)),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        "2026-02-30",
        "03/12/2026",
        "yesterday",
        "2026-12-3",
        20261203,
        None,
        "9999-12-31",
        "0001-01-01",
    ],
)
def test_invalid_date_is_ignored_with_a_warning(shop, call_job, caplog, bad):
    caplog.set_level(logging.WARNING, logger="jobs.summaries")

    response = call_job("nightly-sales-summary", {"date": bad})

    assert response.get_json() == {"success": True, "processed": 2}
    assert {row["summary_date"] for row in daily_rows()} == {YESTERDAY}
    warned = [r for r in caplog.records if r.name == "jobs.summaries"]
    assert len(warned) == (0 if bad is None else 1)


def test_sales_summary_queries_do_not_grow_with_invoices(shop, app, monkeypatch):
    a, b, _, c = shop
    for n in range(40):
        f.invoice(c, (a, b)[n % 2], f.at("2026-12-03 10:00") + timedelta(minutes=n))

    with count_queries(monkeypatch) as queries:
        result = summaries.nightly_sales_summary(
            job_context(app, "nightly-sales-summary", NIGHT)
        )

    assert result == {"success": True, "processed": 2}
    assert len(queries) == 2
    assert "GROUP BY" in queries.sql[0]


def test_sales_summary_twice_at_once_leaves_one_run_of_rows(shop, app, backend):
    if backend != "postgres":
        pytest.skip("concurrent runs need PostgreSQL")
    a, b, _, c = shop
    f.invoice(c, a, f.at("2026-12-03 11:00"), taxable="1000.00")
    f.invoice(c, b, f.at("2026-12-03 12:00"), taxable="10.01", rate="5.00")

    results = twice_at_once(
        app, summaries.nightly_sales_summary, "nightly-sales-summary", NIGHT
    )

    assert results == [{"success": True, "processed": 2}] * 2
    assert [
        (r["branch"], r["invoice_count"], r["gross_amount"]) for r in daily_rows()
    ] == [
        (a.id, 1, D("1180.00")),
        (b.id, 1, D("10.51")),
    ]


# monthly-gst-summary

# 01:00 IST on 1 January 2027: still 31 December in UTC. The month is December.
NEW_YEAR = f.at("2027-01-01 01:00")
DECEMBER = date(2026, 12, 1)


@pytest.fixture
def new_year(shop, clock):
    clock.set(NEW_YEAR)
    return shop


def gst_rows():
    g = MonthlyGstSummary
    return list(g.select().order_by(g.month, g.branch, g.sac_code, g.gst_rate).dicts())


def gst_row(branch, rate, invoices, month=DECEMBER, sac="999721", updated_at=NEW_YEAR):
    """The row that the given invoices add up to, computed here in Decimal."""
    taxable = sum((i.taxable_amount for i in invoices), D("0.00"))
    cgst = sum((i.cgst for i in invoices), D("0.00"))
    sgst = sum((i.sgst for i in invoices), D("0.00"))
    igst = sum((i.igst for i in invoices), D("0.00"))
    return {
        "branch": branch.id,
        "month": month,
        "sac_code": sac,
        "gst_rate": D(rate),
        "invoice_count": len(invoices),
        "taxable_value": taxable,
        "cgst": cgst,
        "sgst": sgst,
        "igst": igst,
        "total_tax": cgst + sgst + igst,
        "total_value": taxable + cgst + sgst + igst,
        "updated_at": updated_at,
    }


def test_previous_ist_month_is_summarised_per_branch_sac_and_rate(new_year, call_job):
    a, b, _, c = new_year
    service = f.invoice(c, a, f.at("2026-12-10 12:00"), taxable="1000.00")
    membership = f.invoice(
        c, a, f.at("2026-12-11 12:00"), taxable="20000.00", kind="membership_purchase"
    )
    beauty = f.invoice(
        c, a, f.at("2026-12-12 12:00"), taxable="850.00", sac_code="999722"
    )
    other_branch = f.invoice(c, b, f.at("2026-12-13 12:00"), taxable="300.00")

    response = call_job("monthly-gst-summary")

    assert response.status_code == 200
    assert response.get_json() == {"success": True, "processed": 3}
    assert gst_rows() == [
        gst_row(a, "18.00", [service, membership]),
        gst_row(a, "18.00", [beauty], sac="999722"),
        gst_row(b, "18.00", [other_branch]),
    ]
    assert gst_rows()[0]["total_value"] == D("24780.00")


def test_products_and_unpaid_invoices_are_left_out(new_year, call_job):
    a, _, _, c = new_year
    counted = f.invoice(c, a, f.at("2026-12-10 12:00"), taxable="1000.00")
    f.invoice(c, a, f.at("2026-12-10 13:00"), taxable="400.00", kind="product")
    for status in ("void", "draft", "issued"):
        f.invoice(c, a, f.at("2026-12-10 14:00"), taxable="900.00", status=status)

    call_job("monthly-gst-summary")

    assert gst_rows() == [gst_row(a, "18.00", [counted])]


def test_month_is_bounded_by_ist_midnights(new_year, call_job):
    a, _, _, c = new_year
    first_minute = f.invoice(c, a, f.at("2026-12-01 00:00"), taxable="100.00")
    last_minute = f.invoice(c, a, f.at("2026-12-31 23:59"), taxable="200.00")
    f.invoice(c, a, f.at("2026-11-30 23:59"), taxable="400.00")
    f.invoice(c, a, f.at("2027-01-01 00:00"), taxable="800.00")

    call_job("monthly-gst-summary")

    assert gst_rows() == [gst_row(a, "18.00", [first_minute, last_minute])]


def test_september_2025_holds_both_rates(new_year, call_job):
    a, _, _, c = new_year
    before = [
        f.invoice(c, a, f.at("2025-09-21 23:59"), taxable="1000.00"),
        f.invoice(c, a, f.at("2025-09-03 10:00"), taxable="2500.50"),
    ]
    after = [
        f.invoice(c, a, f.at("2025-09-22 00:00"), taxable="1000.00", rate="5.00"),
        f.invoice(c, a, f.at("2025-09-30 20:00"), taxable="333.33", rate="5.00"),
    ]

    response = call_job("monthly-gst-summary", {"month": "2025-09"})

    assert response.get_json() == {"success": True, "processed": 2}
    september = date(2025, 9, 1)
    assert gst_rows() == [
        gst_row(a, "5.00", after, month=september),
        gst_row(a, "18.00", before, month=september),
    ]


def test_many_odd_paise_add_up_to_the_paisa(new_year, call_job):
    a, b, _, c = new_year
    intra, inter, low = [], [], []
    for n in range(60):
        taxable = f"{100 + n * 37}.{(n * 17 + 3) % 100:02d}"
        paid_at = f.at("2026-12-02 09:00") + timedelta(hours=n * 7)
        if n % 3 == 0:
            tax = (D(taxable) * D("0.18")).quantize(D("0.01"))
            inter.append(
                f.invoice(
                    c, b, paid_at, taxable=taxable, cgst=D("0"), sgst=D("0"), igst=tax
                )
            )
        elif n % 3 == 1:
            intra.append(f.invoice(c, a, paid_at, taxable=taxable))
        else:
            low.append(f.invoice(c, a, paid_at, taxable=taxable, rate="5.00"))

    response = call_job("monthly-gst-summary")

    assert response.get_json() == {"success": True, "processed": 3}
    rows = gst_rows()
    assert rows == [
        gst_row(a, "5.00", low),
        gst_row(a, "18.00", intra),
        gst_row(b, "18.00", inter),
    ]
    assert all(isinstance(row["total_value"], Decimal) for row in rows)
    assert all(
        row["total_value"] == row["taxable_value"] + row["total_tax"] for row in rows
    )
    assert rows[2]["total_tax"] == rows[2]["igst"] != 0


def test_gst_summary_run_twice_writes_the_same_rows(new_year, call_job):
    a, _, _, c = new_year
    f.invoice(c, a, f.at("2026-12-10 12:00"), taxable="1000.99")
    first = call_job("monthly-gst-summary").get_json()
    after_first = gst_rows()

    second = call_job("monthly-gst-summary").get_json()

    assert first == second == {"success": True, "processed": 1}
    assert gst_rows() == after_first


def test_group_voided_since_the_last_run_disappears(new_year, call_job):
    a, _, _, c = new_year
    kept = f.invoice(c, a, f.at("2026-12-10 12:00"), taxable="1000.00")
    voided = f.invoice(
        c, a, f.at("2026-12-11 12:00"), taxable="50.00", sac_code="999722"
    )
    call_job("monthly-gst-summary")
    voided.status = "void"
    voided.save()

    response = call_job("monthly-gst-summary")

    assert response.get_json() == {"success": True, "processed": 1}
    assert gst_rows() == [gst_row(a, "18.00", [kept])]


def test_other_months_are_left_alone(new_year, call_job):
    a, _, _, c = new_year
    november = f.invoice(c, a, f.at("2026-11-10 12:00"), taxable="700.00")
    call_job("monthly-gst-summary", {"month": "2026-11"})

    call_job("monthly-gst-summary")

    assert gst_rows() == [gst_row(a, "18.00", [november], month=date(2026, 11, 1))]


@pytest.mark.parametrize(
    "bad",
    ["2025-13", "2025-9", "Sept 2025", "2025-09-01", 202509, "9999-12", "0001-01"],
)
def test_invalid_month_is_ignored_with_a_warning(new_year, call_job, caplog, bad):
    a, _, _, c = new_year
    december = f.invoice(c, a, f.at("2026-12-10 12:00"), taxable="1000.00")
    f.invoice(c, a, f.at("2025-09-10 12:00"), taxable="1000.00")
    caplog.set_level(logging.WARNING, logger="jobs.summaries")

    response = call_job("monthly-gst-summary", {"month": bad})

    assert response.get_json() == {"success": True, "processed": 1}
    assert gst_rows() == [gst_row(a, "18.00", [december])]
    assert len([r for r in caplog.records if r.name == "jobs.summaries"]) == 1


def test_empty_month_writes_nothing(new_year, call_job):
    response = call_job("monthly-gst-summary")

    assert response.get_json() == {"success": True, "processed": 0}
    assert gst_rows() == []


def test_gst_summary_queries_do_not_grow_with_invoices(new_year, app, monkeypatch):
    a, b, _, c = new_year
    for n in range(40):
        f.invoice(c, (a, b)[n % 2], f.at("2026-12-05 10:00") + timedelta(hours=n))

    with count_queries(monkeypatch) as queries:
        result = summaries.monthly_gst_summary(
            job_context(app, "monthly-gst-summary", NEW_YEAR)
        )

    assert result == {"success": True, "processed": 2}
    assert len(queries) == 3  # the groups, the month's existing keys, the upsert
    assert "GROUP BY" in queries.sql[0]


def test_gst_summary_twice_at_once_leaves_one_run_of_rows(new_year, app, backend):
    if backend != "postgres":
        pytest.skip("concurrent runs need PostgreSQL")
    a, b, _, c = new_year
    ours = f.invoice(c, a, f.at("2026-12-10 12:00"), taxable="1000.00")
    theirs = f.invoice(c, b, f.at("2026-12-10 12:00"), taxable="99.99", rate="5.00")

    results = twice_at_once(
        app, summaries.monthly_gst_summary, "monthly-gst-summary", NEW_YEAR
    )

    assert results == [{"success": True, "processed": 2}] * 2
    assert gst_rows() == [gst_row(a, "18.00", [ours]), gst_row(b, "5.00", [theirs])]
