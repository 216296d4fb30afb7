"""Money helpers: parsing, rounding to cents and formatting."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def parse_amount(text):
    """Parse a decimal string such as ``"19.99"`` into an amount."""
    return Decimal(str(text))


def round_cents(amount):
    """Round ``amount`` to whole cents, halves rounding up."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def fmt(amount):
    """Format an amount with exactly two decimals."""
    return f"{amount:.2f}"
