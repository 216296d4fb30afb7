from datetime import date
from decimal import Decimal

import pytest

from invoicing import CreditNote, Customer, Invoice, LineItem


def test_line_net_applies_discount():
    line = LineItem("Widget", Decimal("10.00"), qty=3, discount_percent=Decimal(10))
    assert line.net == Decimal("27.00")


def test_line_rejects_zero_quantity():
    with pytest.raises(ValueError):
        LineItem("Widget", Decimal("1"), qty=0)


def test_invoice_totals_with_german_vat():
    inv = Invoice("1", Customer("Kunde"), [LineItem("A", Decimal("100"))], issued=date(2024, 1, 10))
    assert inv.net == Decimal("100.00")
    assert inv.tax == Decimal("19.00")
    assert inv.total == Decimal("119.00")
    assert inv.due == date(2024, 2, 9)


def test_credit_note_amounts_are_negative():
    cn = CreditNote("CN-1", Customer("Kunde"), [LineItem("Refund", Decimal("50"))], issued=date(2024, 5, 2))
    assert cn.net == Decimal("-50.00")
    assert cn.total == Decimal("-59.50")
    assert cn.due == date(2024, 5, 2)


def test_from_dict():
    inv = Invoice.from_dict({
        "number": "7",
        "issued": "2024-03-01",
        "customer": {"name": "ACME", "country": "US", "currency": "USD", "payment_days": 14},
        "lines": [{"description": "Support", "unit_price": "80", "qty": 2}],
    })
    assert inv.total == Decimal("160.00")
    assert inv.due == date(2024, 3, 15)
