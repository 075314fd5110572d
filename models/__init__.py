"""Peewee models: the platform's tables and the service's own."""

from urllib.parse import unquote, urlparse

from peewee import SqliteDatabase
from playhouse.pool import PooledPostgresqlDatabase

from .base import (
    PAISA,
    BaseModel,
    InstantField,
    MoneyField,
    db,
    is_postgres,
    money_sum,
    to_money,
)
from .platform import (
    PLATFORM_MODELS,
    Booking,
    Branch,
    Customer,
    DailySalesSummary,
    GemsTransaction,
    InAppNotification,
    Invoice,
    Lead,
    MonthlyGstSummary,
    NotificationLog,
    Offer,
    PushSubscription,
    ReportRecipient,
    Service,
    Session,
    SpaMembership,
    Staff,
)
from .service import SERVICE_MODELS, JobRun

ALL_MODELS = PLATFORM_MODELS + SERVICE_MODELS

__all__ = [
    "ALL_MODELS",
    "PAISA",
    "BaseModel",
    "Booking",
    "Branch",
    "Customer",
    "DailySalesSummary",
    "GemsTransaction",
    "InAppNotification",
    "InstantField",
    "Invoice",
    "JobRun",
    "Lead",
    "MoneyField",
    "MonthlyGstSummary",
    "NotificationLog",
    "Offer",
    "PushSubscription",
    "ReportRecipient",
    "Service",
    "Session",
    "SpaMembership",
    "Staff",
    "create_tables",
    "db",
    "is_postgres",
    "make_database",
    "money_sum",
    "to_money",
]


def make_database(url, pool_size=4):
    """Build the database a DATABASE_URL names: a SQLite file or pooled Postgres."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(
            url[len("sqlite:///") :],
            pragmas={"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 10000},
            timeout=10,
        )
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        raise ValueError(
            f"DATABASE_URL must be sqlite:/// or postgresql://, not {parsed.scheme}"
        )
    params = dict(
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        user=unquote(parsed.username or "postgres"),
        password=unquote(parsed.password) if parsed.password else None,
        options="-c timezone=UTC",
        connect_timeout=5,
    )
    for pair in filter(None, parsed.query.split("&")):
        key, _, value = pair.partition("=")
        if key == "options":  # keep the session in UTC whatever else is asked
            params[key] += " " + unquote(value)
        else:
            params[key] = unquote(value)
    return PooledPostgresqlDatabase(
        unquote(parsed.path.lstrip("/")) or "postgres",
        max_connections=pool_size,
        stale_timeout=300,
        timeout=10,
        **params,
    )


def create_tables():
    """Create every table that is missing; existing ones are left alone."""
    with db.atomic():
        db.create_tables(ALL_MODELS, safe=True)
