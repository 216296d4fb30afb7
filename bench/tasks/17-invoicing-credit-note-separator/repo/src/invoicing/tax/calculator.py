"""Which tax applies to an invoice, and how much."""

from decimal import Decimal

from invoicing.tax.rates import EU, HOME_COUNTRY, standard_rate
from invoicing.utils.rounding import round_money


def applicable_rate(customer):
    """Rate in percent. EU businesses abroad use the reverse charge (0 %)."""
    country = customer.country.upper()
    if country != HOME_COUNTRY and country in EU and customer.is_business:
        return Decimal(0)
    if country not in EU and country != HOME_COUNTRY:
        return standard_rate(country) if country in ("CH", "GB", "US") else Decimal(0)
    return standard_rate(country)


def tax_for(net, customer, currency="EUR"):
    return round_money(net * applicable_rate(customer) / Decimal(100), currency)


def is_reverse_charge(customer):
    country = customer.country.upper()
    return country != HOME_COUNTRY and country in EU and customer.is_business
