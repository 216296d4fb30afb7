"""Static configuration: locales and currencies we bill in."""

# locale -> (thousands separator, decimal point)
LOCALES = {
    "en": (",", "."),
    "de": (".", ","),
    "fr": ("\u202f", ","),
    "ch": ("'", "."),
}

DEFAULT_LOCALE = "en"
DEFAULT_CURRENCY = "EUR"

# ISO 4217 minor units for the currencies we use.
MINOR_UNITS = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "JPY": 0,
    "KWD": 3,
}

DEFAULT_PAYMENT_DAYS = 30


def separators(locale):
    """Returns (thousands separator, decimal point) for a locale, falling back to English."""
    return LOCALES.get(locale, LOCALES[DEFAULT_LOCALE])
