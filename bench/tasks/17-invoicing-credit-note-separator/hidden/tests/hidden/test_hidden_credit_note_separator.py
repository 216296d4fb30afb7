from datetime import date
from decimal import Decimal

from invoicing import CreditNote, Customer, LineItem, render_text
from invoicing.formatting.currency import format_amount, format_money


def test_issue_example_credit_note_text():
    cn = CreditNote(
        "CN-2024-0007",
        Customer("Northwind Traders", country="US", currency="USD"),
        [LineItem("Refund: duplicate license", Decimal("250.00"))],
        issued=date(2024, 6, 12),
        refers_to="2024-0113",
    )
    text = render_text(cn)
    assert "1 x Refund: duplicate license: -250.00 USD" in text
    assert "Net: -250.00 USD" in text
    assert "Total: -250.00 USD" in text
    assert "-," not in text


def test_negative_amounts_with_three_digit_groups():
    assert format_money(Decimal("-250"), "EUR") == "-250.00 EUR"
    assert format_money(Decimal("-999999.99"), "EUR") == "-999,999.99 EUR"
    assert format_money(Decimal("-100000"), "USD") == "-100,000.00 USD"
    assert format_money(Decimal("-123456789"), "EUR") == "-123,456,789.00 EUR"


def test_other_negative_amounts_unchanged():
    assert format_money(Decimal("-1234.5"), "EUR") == "-1,234.50 EUR"
    assert format_money(Decimal("-12"), "EUR") == "-12.00 EUR"
    assert format_money(Decimal("-1234567.891"), "EUR") == "-1,234,567.89 EUR"


def test_negative_amounts_in_other_locales_and_currencies():
    assert format_amount(Decimal("-250"), "EUR", locale="de") == "-250,00"
    assert format_amount(Decimal("-100000"), "EUR", locale="ch") == "-100'000.00"
    assert format_money(Decimal("-500"), "JPY") == "-500 JPY"
    assert format_money(Decimal("-999999.6"), "JPY") == "-1,000,000 JPY"


def test_positive_amounts_unchanged():
    assert format_money(Decimal("250"), "EUR") == "250.00 EUR"
    assert format_money(Decimal("100000"), "EUR") == "100,000.00 EUR"
    assert format_amount(Decimal("0"), "EUR") == "0.00"
