from datetime import date
from decimal import Decimal

from invoicing.formatting.currency import format_amount, format_money, group_thousands
from invoicing.formatting.dates import format_date


def test_group_thousands():
    assert group_thousands("1234567") == "1,234,567"
    assert group_thousands("123") == "123"


def test_format_amount_english():
    assert format_amount(Decimal("1234.5")) == "1,234.50"
    assert format_amount(Decimal("0")) == "0.00"


def test_format_amount_german():
    assert format_amount(Decimal("1234567.891"), locale="de") == "1.234.567,89"


def test_format_money_zero_decimal_currency():
    assert format_money(Decimal("1500"), "JPY") == "1,500 JPY"


def test_format_negative_amount():
    assert format_money(Decimal("-1234.5"), "EUR") == "-1,234.50 EUR"


def test_format_date():
    assert format_date(date(2024, 3, 5)) == "5 March 2024"
    assert format_date(date(2024, 3, 5), "de") == "5. März 2024"
