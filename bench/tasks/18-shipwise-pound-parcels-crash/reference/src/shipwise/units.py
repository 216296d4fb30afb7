"""Unit conversions. Internally shipwise works in kilograms and centimetres."""

from shipwise.errors import UnknownUnit

# How many kilograms one unit weighs.
WEIGHT_FACTORS = {
    "kg": 1.0,
    "g": 0.001,
    "lb": 0.45359237,
    "oz": 0.0283495,
}

# How many centimetres one unit is long.
LENGTH_FACTORS = {
    "cm": 1.0,
    "mm": 0.1,
    "m": 100.0,
    "in": 2.54,
}

ALIASES = {
    "kgs": "kg", "kilo": "kg", "kilogram": "kg", "kilograms": "kg",
    "gram": "g", "grams": "g",
    "lbs": "lb", "pound": "lb", "pounds": "lb",
    "ounce": "oz", "ounces": "oz",
    "inch": "in", "inches": "in", '"': "in",
}


def _canonical(unit):
    unit = unit.strip().lower()
    return ALIASES.get(unit, unit)


def to_kg(value, unit="kg"):
    unit = _canonical(unit)
    try:
        return float(value) * WEIGHT_FACTORS[unit]
    except KeyError:
        raise UnknownUnit(f"unknown weight unit {unit!r}") from None


def to_cm(value, unit="cm"):
    unit = _canonical(unit)
    try:
        return float(value) * LENGTH_FACTORS[unit]
    except KeyError:
        raise UnknownUnit(f"unknown length unit {unit!r}") from None
