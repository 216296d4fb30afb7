from decimal import Decimal

import pytest

from invoicing import Customer
from invoicing.tax.calculator import applicable_rate, is_reverse_charge, tax_for
from invoicing.tax.rates import standard_rate


def test_home_country_rate():
    assert applicable_rate(Customer("x", country="DE")) == Decimal(19)


def test_reverse_charge_for_eu_business():
    customer = Customer("x", country="AT", vat_id="ATU12345678")
    assert is_reverse_charge(customer)
    assert tax_for(Decimal("100"), customer) == Decimal("0.00")


def test_eu_consumer_pays_local_rate():
    assert applicable_rate(Customer("x", country="NL")) == Decimal(21)


def test_unknown_country():
    with pytest.raises(ValueError):
        standard_rate("ZZ")


def test_tax_rounds_half_up():
    assert tax_for(Decimal("0.50"), Customer("x")) == Decimal("0.10")
