"""The service's one clock: aware UTC instants, shown and bucketed in IST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")


class SystemClock:
    """Read the real time."""

    def now(self):
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; tests and `jobs run --at` use it."""

    def __init__(self, instant):
        self.instant = as_utc(instant)

    def now(self):
        return self.instant

    def set(self, instant):
        self.instant = as_utc(instant)

    def advance(self, **delta):
        self.instant += timedelta(**delta)


def as_utc(instant):
    """Return an aware UTC datetime; a naive one is taken to be UTC already."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def ist_date(instant):
    """Return the IST calendar date of an instant."""
    return as_utc(instant).astimezone(IST).date()


def ist_midnight(day):
    """Return the UTC instant at which an IST calendar date begins."""
    return datetime.combine(day, time(0), tzinfo=IST).astimezone(UTC)


def ist_day_bounds(day):
    """Return the half-open UTC range [start, end) of an IST calendar date."""
    return ist_midnight(day), ist_midnight(day + timedelta(days=1))


def month_start(day):
    return date(day.year, day.month, 1)


def previous_month(day):
    """Return the first day of the month before the one holding `day`."""
    first = month_start(day)
    return month_start(first - timedelta(days=1))


def next_month(first):
    return month_start(first + timedelta(days=32))


def format_ist(instant):
    """Format an instant for people, in IST: 'Sat 5 Dec, 3:30 PM'."""
    local = as_utc(instant).astimezone(IST)
    hour = local.hour % 12 or 12
    return (
        f"{local:%a} {local.day} {local:%b}, "
        f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    )


def format_ist_date(day):
    """Format a date for people: 'Sat 5 Dec 2026'."""
    return f"{day:%a} {day.day} {day:%b} {day.year}"


def utc_iso(instant):
    """Format an instant as the compact UTC ISO string used in dedupe keys."""
    return as_utc(instant).strftime("%Y-%m-%dT%H:%M:%SZ")
