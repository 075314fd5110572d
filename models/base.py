"""The database handle, the base model and the fields the platform's types need."""

from datetime import datetime
from decimal import Decimal

from peewee import (
    DatabaseProxy,
    DateField,
    DecimalField,
    Field,
    Model,
    PostgresqlDatabase,
    fn,
)

from clock import as_utc

db = DatabaseProxy()

PAISA = Decimal("0.01")
SQLITE_INSTANT = "%Y-%m-%d %H:%M:%S.%f+00:00"


def is_postgres():
    return isinstance(db.obj, PostgresqlDatabase)


class InstantField(Field):
    """A `timestamptz`: aware UTC datetimes in Python on both databases.

    SQLite keeps them as fixed-width UTC text, so that comparing the text
    compares the instants.
    """

    field_type = "TIMESTAMPTZ"

    def db_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        value = as_utc(value)
        if is_postgres():
            return value
        return value.strftime(SQLITE_INSTANT)

    def python_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return as_utc(value)


class MoneyField(DecimalField):
    """An exact `numeric` amount in rupees, always a Decimal quantized to paise."""

    def __init__(self, max_digits=12, decimal_places=2, **kwargs):
        super().__init__(max_digits, decimal_places, auto_round=True, **kwargs)

    def db_value(self, value):
        value = super().db_value(value)
        if value is None or is_postgres():
            return value
        return str(value)

    def python_value(self, value):
        return to_money(value, self._exp)


def to_money(value, exp=PAISA):
    """Turn what a database returned for an amount or a SUM into a Decimal.

    PostgreSQL answers numeric with a Decimal. SQLite answers with a float
    whose shortest repr is the stored decimal, so going through str is exact.
    """
    if value is None:
        return None
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return value.quantize(exp)


def money_sum(expr):
    """SUM of an amount column, exact to the paisa on both databases.

    On SQLite each amount is first turned into whole paise, so the SUM adds
    integers and cannot drift; PostgreSQL's numeric SUM is exact already.
    """
    if is_postgres():
        return fn.COALESCE(fn.SUM(expr), 0)
    return fn.COALESCE(fn.SUM(fn.ROUND(expr * 100)), 0) / 100.0


class ISTDateField(DateField):
    """A `date` column holding an IST calendar date."""


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False
