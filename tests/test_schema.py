"""The models map exactly onto the platform's schema.sql (PostgreSQL)."""

import os
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from playhouse.schema_diff import diff_models

from models import PLATFORM_MODELS, create_tables, db, make_database
from models.platform import (
    Booking,
    Customer,
    DailySalesSummary,
    GemsTransaction,
    Invoice,
    MonthlyGstSummary,
    NotificationLog,
    Session,
)
from tests import factories as f

PG_URL = os.environ.get("TEST_DATABASE_URL")
ROOT = Path(__file__).resolve().parents[1]
# The platform's schema as the service was built against it; the spec's copy
# beside the repository, where there is one, must say the same.
SCHEMA_SQL = ROOT / "docs" / "platform-schema.sql"
SPEC_SCHEMA_SQL = ROOT.parent / "shared" / "spec" / "schema.sql"

needs_postgres = pytest.mark.skipif(not PG_URL, reason="needs TEST_DATABASE_URL")


@pytest.mark.skipif(not SPEC_SCHEMA_SQL.exists(), reason="no spec checkout beside")
def test_the_schema_copy_is_the_specs():
    assert SCHEMA_SQL.read_text() == SPEC_SCHEMA_SQL.read_text()


COLUMNS = """
    SELECT table_name, column_name, data_type, is_nullable,
           numeric_precision, numeric_scale
    FROM information_schema.columns
    WHERE table_schema = current_schema() AND table_name = ANY(%s)
    ORDER BY table_name, column_name
"""


def schema_url(name):
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{name}"


@pytest.fixture
def schema_from_sql():
    """A fresh schema holding exactly spec/schema.sql; the models bound to it."""
    name = f"spec_{uuid.uuid4().hex[:8]}"
    database = make_database(schema_url(name))
    db.initialize(database)
    db.connect()
    db.execute_sql(f'CREATE SCHEMA "{name}"')
    db.execute_sql(f'SET search_path TO "{name}"')
    db.execute_sql(SCHEMA_SQL.read_text())
    yield name
    db.execute_sql(f'DROP SCHEMA "{name}" CASCADE')
    db.close()
    database.close_all()


def columns_of(tables):
    return db.execute_sql(COLUMNS, (tables,)).fetchall()


@needs_postgres
def test_models_have_every_table_and_column_of_schema_sql(schema_from_sql):
    diff = diff_models(db.obj, PLATFORM_MODELS)

    assert diff.create_tables == []
    assert diff.add_columns == []
    assert diff.drop_columns == []
    assert diff.add_indexes == []
    assert diff.drop_indexes == []


@needs_postgres
def test_models_create_the_same_columns_types_and_nullability(schema_from_sql):
    tables = [m._meta.table_name for m in PLATFORM_MODELS]
    from_spec = columns_of(tables)

    mirror = f"models_{uuid.uuid4().hex[:8]}"
    db.execute_sql(f'CREATE SCHEMA "{mirror}"')
    db.execute_sql(f'SET search_path TO "{mirror}"')
    try:
        create_tables()
        from_models = columns_of(tables)
    finally:
        db.execute_sql(f'DROP SCHEMA "{mirror}" CASCADE')
        db.execute_sql(f'SET search_path TO "{schema_from_sql}"')

    assert len(from_spec) == 145
    assert from_models == from_spec


@needs_postgres
def test_models_read_and_write_every_table_of_schema_sql(schema_from_sql):
    instant = datetime(2026, 12, 4, 10, 0, 0, 123456, tzinfo=UTC)
    branch = f.branch(id="br_spec")
    customer = f.customer(id="cus_spec", date_of_birth=date(1990, 2, 28))
    staff = f.staff(branch=branch, id="stf_spec")
    f.push_subscription(customer)
    f.push_subscription(staff)
    svc = f.service()
    booking = f.booking(
        customer, branch, instant, service=svc, amount=Decimal("1499.99")
    )
    member = f.membership(customer, instant, total_hours=Decimal("10.50"))
    f.offer(end_date=date(2026, 12, 31))
    f.gems(customer, "earned", 100, instant)
    f.lead(assigned_staff=staff, last_contacted_at=instant)
    f.invoice(customer, branch, paid_at=instant, booking=booking, membership=member)
    f.report_recipient()
    f.session(instant)
    DailySalesSummary.create(
        branch=branch,
        summary_date=date(2026, 12, 3),
        invoice_count=1,
        taxable_amount=Decimal("1000.00"),
        tax_amount=Decimal("180.00"),
        gross_amount=Decimal("1180.00"),
        service_amount=Decimal("1180.00"),
        membership_amount=Decimal("0.00"),
        completed_bookings=1,
    )
    MonthlyGstSummary.create(
        branch=branch,
        month=date(2026, 11, 1),
        sac_code="999721",
        gst_rate=Decimal("5.00"),
        invoice_count=1,
        taxable_value=Decimal("1000.00"),
        cgst=Decimal("25.00"),
        sgst=Decimal("25.00"),
        igst=Decimal("0.00"),
        total_tax=Decimal("50.00"),
        total_value=Decimal("1050.00"),
    )
    NotificationLog.create(
        dedupe_key="k",
        channel="push",
        type="t",
        recipient_type="customer",
        recipient_id=customer.id,
        status="sent",
    )
    from models import InAppNotification

    InAppNotification.create(
        id="ian_1", customer=customer, kind="birthday", title="t", body="b"
    )

    read = Booking.get_by_id(booking.id)
    assert read.start_time == instant and read.start_time.tzinfo is not None
    assert read.amount == Decimal("1499.99")
    assert Customer.get_by_id("cus_spec").date_of_birth == date(1990, 2, 28)
    assert Invoice.get().gst_rate == Decimal("18.00")
    assert GemsTransaction.get().expires_at.year == 2027
    assert Session.get().expires_at == instant
    counts = {m._meta.table_name: m.select().count() for m in PLATFORM_MODELS}
    assert all(counts.values()), counts
