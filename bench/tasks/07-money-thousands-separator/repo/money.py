"""Parsing and formatting of dollar amounts."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def parse_amount(text):
    """Parse a dollar amount such as ``"$12.50"`` or ``"-3"`` into a Decimal."""
    s = text.strip()
    negative = s.startswith("-")
    if negative:
        s = s[1:]
    if s.startswith("$"):
        s = s[1:]
    value = Decimal(s)
    return -value if negative else value


def format_amount(value):
    """Format a Decimal as ``$1,234.50`` (negative: ``-$1,234.50``)."""
    value = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def total(amounts):
    """Sum a list of amount strings and return the formatted total."""
    return format_amount(sum((parse_amount(a) for a in amounts), Decimal(0)))
