"""Amounts as they appear on documents: "1,234.50 EUR", "1.234,50 EUR"."""

from invoicing.config import DEFAULT_LOCALE, separators
from invoicing.utils.rounding import minor_units, round_money


def group_thousands(digits, sep=","):
    """'1234567' -> '1,234,567'."""
    out = []
    for i, ch in enumerate(reversed(digits)):
        if i and i % 3 == 0:
            out.append(sep)
        out.append(ch)
    return "".join(reversed(out))


def format_amount(amount, currency="EUR", locale=DEFAULT_LOCALE):
    """The number only: format_amount(Decimal("1234.5")) == "1,234.50"."""
    sep, point = separators(locale)
    places = minor_units(currency)
    text = f"{round_money(amount, currency):.{places}f}"
    whole, _, frac = text.partition(".")
    whole = group_thousands(whole, sep)
    return f"{whole}{point}{frac}" if frac else whole


def format_money(amount, currency="EUR", locale=DEFAULT_LOCALE):
    """Amount followed by the currency code: "1,234.50 EUR"."""
    return f"{format_amount(amount, currency, locale)} {currency}"
