"""How amounts and names are shown to people in India."""

from decimal import ROUND_HALF_UP, Decimal


def inr(amount, symbol=True):
    """Format rupees the Indian way: Decimal('123456.5') -> '₹1,23,456.50'."""
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    whole, _, paise = f"{abs(value):.2f}".partition(".")
    if len(whole) > 3:
        head, tail = whole[:-3], whole[-3:]
        groups = []
        while len(head) > 2:
            groups.insert(0, head[-2:])
            head = head[:-2]
        groups.insert(0, head)
        whole = ",".join(groups) + "," + tail
    return f"{sign}{'₹' if symbol else ''}{whole}.{paise}"


def first_name(full_name):
    """The first word of a name, for greetings; 'there' when there is none."""
    parts = (full_name or "").split()
    return parts[0] if parts else "there"


def plural(count, word, many=None):
    return f"{count} {word if count == 1 else (many or word + 's')}"


def hours(amount):
    """Decimal hours for people: Decimal('4.50') -> '4.5 hours', 1 -> '1 hour'."""
    text = f"{amount.normalize():f}"
    return f"{text} hour" if text == "1" else f"{text} hours"
