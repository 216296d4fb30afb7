"""Standard tax rates per country, in percent."""

from decimal import Decimal

STANDARD_RATES = {
    "DE": Decimal("19"),
    "AT": Decimal("20"),
    "FR": Decimal("20"),
    "NL": Decimal("21"),
    "CH": Decimal("8.1"),
    "GB": Decimal("20"),
    "US": Decimal("0"),
}

EU = {"DE", "AT", "FR", "NL"}

HOME_COUNTRY = "DE"


def standard_rate(country):
    try:
        return STANDARD_RATES[country.upper()]
    except KeyError:
        raise ValueError(f"no tax rate configured for country {country!r}") from None
