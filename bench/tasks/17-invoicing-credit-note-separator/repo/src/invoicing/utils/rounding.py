"""Money rounding helpers."""

from decimal import ROUND_HALF_UP, Decimal

from invoicing.config import MINOR_UNITS


def minor_units(currency):
    """Number of decimal places for a currency code (2 when unknown)."""
    return MINOR_UNITS.get(currency.upper(), 2)


def round_money(amount, currency="EUR"):
    """Rounds half-up to the currency's minor unit and returns a Decimal."""
    places = minor_units(currency)
    quantum = Decimal(1).scaleb(-places)
    value = Decimal(amount).quantize(quantum, rounding=ROUND_HALF_UP)
    # No "-0.00" on documents (e.g. the tax of a credit note at 0 %).
    return abs(value) if value == 0 else value


def split_evenly(amount, parts, currency="EUR"):
    """Splits an amount into `parts` rounded shares that add up to the amount exactly."""
    if parts <= 0:
        raise ValueError("parts must be positive")
    total = round_money(amount, currency)
    quantum = Decimal(1).scaleb(-minor_units(currency))
    share = round_money(total / parts, currency)
    shares = [share] * parts
    shares[-1] = total - share * (parts - 1)
    if abs(shares[-1] - share) > quantum * parts:
        raise ArithmeticError("cannot split evenly")
    return shares
