"""Money helpers: parsing, rounding to cents and formatting."""


def parse_amount(text):
    """Parse a decimal string such as ``"19.99"`` into an amount."""
    return float(text)


def round_cents(amount):
    """Round ``amount`` to whole cents, halves rounding up."""
    return round(amount, 2)


def fmt(amount):
    """Format an amount with exactly two decimals."""
    return f"{amount:.2f}"
