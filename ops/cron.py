"""Read the catalog's five-field crons and say when they fire in IST."""

from dataclasses import dataclass

MINUTES_PER_DAY = 24 * 60
IST_OFFSET = 5 * 60 + 30  # IST is UTC+05:30 all year
WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


@dataclass(frozen=True)
class Cron:
    """A parsed cron: the values of each field and the zone it is read in."""

    zone: str  # "UTC", or the name after a CRON_TZ= prefix
    minutes: tuple
    hours: tuple
    days: tuple | None  # None: any day of the month
    months: tuple | None  # None: every month
    weekdays: tuple | None  # None: any day of the week, 0 = Sunday


def parse(expression):
    """Parse 'm h dom mon dow', optionally led by 'CRON_TZ=<zone> '."""
    zone, text = "UTC", expression.strip()
    if text.startswith("CRON_TZ="):
        prefix, _, text = text.partition(" ")
        zone = prefix.split("=", 1)[1]
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"cron needs five fields, got {expression!r}")

    minute, hour, day, month, weekday = fields
    return Cron(
        zone=zone,
        minutes=_values(minute, 0, 59),
        hours=_values(hour, 0, 23),
        days=None if day == "*" else _values(day, 1, 31),
        months=None if month == "*" else _values(month, 1, 12),
        weekdays=None
        if weekday == "*"
        else tuple(sorted({v % 7 for v in _values(weekday, 0, 7)})),
    )


def _values(field, low, high):
    found = set()
    for item in field.split(","):
        base, _, step = item.partition("/")
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first, last = (int(part) for part in base.split("-", 1))
        else:
            first = int(base)
            last = high if step else first
        if not low <= first <= last <= high:
            raise ValueError(f"cron field {field!r} is out of {low}-{high}")
        found.update(range(first, last + 1, int(step or 1)))
    return tuple(sorted(found))


def describe_ist(expression):
    """Say when a cron fires, in IST: '00:30 daily', '09:00 on Mon'."""
    cron = parse(expression)
    if cron.zone == "UTC":
        offset = IST_OFFSET
    elif cron.zone == "Asia/Kolkata":
        offset = 0
    else:
        raise ValueError(f"cron zone {cron.zone} is neither UTC nor Asia/Kolkata")

    every_day = cron.days is None and cron.weekdays is None
    by_shift = {}
    for hour in cron.hours:
        for minute in cron.minutes:
            local = hour * 60 + minute + offset
            shift = 0 if every_day else local // MINUTES_PER_DAY
            by_shift.setdefault(shift, []).append(local % MINUTES_PER_DAY)
    return "; ".join(
        f"{_times(sorted(times))} {_days(cron, shift)}"
        for shift, times in sorted(by_shift.items())
    )


def _times(minutes):
    steps = {b - a for a, b in zip(minutes, minutes[1:], strict=False)}
    if len(minutes) > 2 and len(steps) == 1:
        step = steps.pop()
        every = f"{step // 60} h" if step % 60 == 0 else f"{step} min"
        return f"every {every} {_clock(minutes[0])}-{_clock(minutes[-1])}"
    return ", ".join(_clock(m) for m in minutes)


def _clock(minute):
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _days(cron, shift):
    months = (
        " in " + ", ".join(MONTHS[m - 1] for m in cron.months) if cron.months else ""
    )
    if cron.days:
        days = ", ".join(str(d) for d in cron.days)
        after = "the day after " if shift else ""
        return f"on {after}day {days} of the month{months}"
    if cron.weekdays:
        return "on " + ", ".join(WEEKDAYS[(w + shift) % 7] for w in cron.weekdays)
    return "daily" + months
