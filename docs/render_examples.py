"""Render the daily and weekly report emails from fixed demo figures.

    python docs/render_examples.py

writes docs/daily-report.html and docs/weekly-report.html, so a reader can
open in a browser what the report recipients get. No database is touched.
"""

import os
import sys
from datetime import UTC, date, datetime
from decimal import Decimal

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from app import create_app  # noqa: E402
from jobs.report_data import (  # noqa: E402
    BranchSales,
    Figures,
    SalesReport,
    ServiceSales,
)
from jobs.report_render import report_email  # noqa: E402


def money(text):
    return Decimal(text)


INDIRANAGAR = Figures(
    gross=money("48380.00"),
    taxable=money("41000.00"),
    tax=money("7380.00"),
    invoices=14,
    services=money("30680.00"),
    memberships=money("14160.00"),
    products=money("3540.00"),
    completed=11,
    new=9,
    cancelled=1,
    no_shows=1,
)
KORAMANGALA = Figures(
    gross=money("21240.00"),
    taxable=money("18000.00"),
    tax=money("3240.00"),
    invoices=7,
    services=money("21240.00"),
    completed=7,
    new=5,
    cancelled=2,
)
INDIRANAGAR_BEFORE = Figures(
    gross=money("41300.00"),
    taxable=money("35000.00"),
    tax=money("6300.00"),
    invoices=12,
    services=money("30680.00"),
    memberships=money("10620.00"),
    completed=12,
    new=8,
    cancelled=1,
    no_shows=2,
)

AT_INDIRANAGAR = [
    ServiceSales("Swedish Massage (60 min)", 4, money("11800.00")),
    ServiceSales("Deep Tissue Massage (90 min)", 2, money("8260.00")),
    ServiceSales("Hydrating Facial", 3, money("5310.00")),
]
AT_KORAMANGALA = [
    ServiceSales("Swedish Massage (60 min)", 3, money("8850.00")),
    ServiceSales("Deep Tissue Massage (90 min)", 2, money("8260.00")),
]
IN_THE_CHAIN = [
    ServiceSales("Swedish Massage (60 min)", 7, money("20650.00")),
    ServiceSales("Deep Tissue Massage (90 min)", 4, money("16520.00")),
    ServiceSales("Hydrating Facial", 3, money("5310.00")),
]


def daily():
    branches = [
        BranchSales("br_1", "Indiranagar", INDIRANAGAR, None, AT_INDIRANAGAR),
        BranchSales("br_2", "Koramangala", KORAMANGALA, None, AT_KORAMANGALA),
        BranchSales("br_3", "Whitefield", Figures()),
    ]
    return SalesReport(
        first_day=date(2026, 12, 4),
        last_day=date(2026, 12, 4),
        branches=branches,
        total=INDIRANAGAR + KORAMANGALA,
        top_services=IN_THE_CHAIN,
    )


def weekly():
    branches = [
        BranchSales(
            "br_1", "Indiranagar", INDIRANAGAR, INDIRANAGAR_BEFORE, AT_INDIRANAGAR
        ),
        BranchSales("br_2", "Koramangala", KORAMANGALA, Figures(), AT_KORAMANGALA),
        BranchSales("br_3", "Whitefield", Figures(), Figures()),
    ]
    return SalesReport(
        first_day=date(2026, 11, 23),
        last_day=date(2026, 11, 29),
        branches=branches,
        total=INDIRANAGAR + KORAMANGALA,
        top_services=IN_THE_CHAIN,
        previous_total=INDIRANAGAR_BEFORE,
    )


def main():
    app = create_app({"DATABASE_URL": "sqlite:///:memory:"})
    examples = {
        "daily-report.html": (daily(), datetime(2026, 12, 4, 17, 0, tzinfo=UTC)),
        "weekly-report.html": (weekly(), datetime(2026, 11, 30, 3, 30, tzinfo=UTC)),
    }
    with app.app_context():
        for name, (report, as_of) in examples.items():
            email = report_email(report, as_of, to="owner@example.com")
            path = os.path.join(ROOT, "docs", name)
            with open(path, "w", encoding="utf-8") as out:
                out.write(email.html)
            print(f"wrote {path}")


if __name__ == "__main__":
    main()
