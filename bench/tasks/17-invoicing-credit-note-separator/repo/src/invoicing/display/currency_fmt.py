"""Amounts in terminal tables: accounting style, negatives in parentheses."""

from invoicing.utils.rounding import minor_units, round_money


def format_cell(amount, currency="EUR"):
    """format_cell(Decimal("-250")) == "(250.00)"; always English separators."""
    places = minor_units(currency)
    value = round_money(amount, currency)
    text = f"{abs(value):,.{places}f}"
    return f"({text})" if value < 0 else text


def column_width(amounts, currency="EUR"):
    return max((len(format_cell(a, currency)) for a in amounts), default=0)
