from decimal import Decimal

from invoicing import CreditNote, Customer, LineItem
from invoicing.display.currency_fmt import format_cell
from invoicing.display.table import render_table


def test_format_cell():
    assert format_cell(Decimal("1234.5")) == "1,234.50"
    assert format_cell(Decimal("-250")) == "(250.00)"


def test_table_for_credit_note():
    cn = CreditNote("CN-3", Customer("ACME", country="US", currency="USD"), [LineItem("Refund", Decimal("250"))])
    table = render_table(cn)
    assert "Credit note CN-3 (USD)" in table
    assert "(250.00)" in table
