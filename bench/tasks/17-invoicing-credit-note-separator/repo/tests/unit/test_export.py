from datetime import date
from decimal import Decimal

from invoicing import CreditNote, Customer, Invoice, LineItem, render_csv, render_text


def make_invoice():
    customer = Customer("ACME GmbH", country="DE", locale="de")
    return Invoice("2024-0042", customer, [LineItem("Beratung", Decimal("950.00"), qty=2)], issued=date(2024, 3, 1))


def test_text_export_invoice():
    text = render_text(make_invoice())
    assert "Invoice 2024-0042" in text
    assert "2 x Beratung: 1.900,00 EUR" in text
    assert "Tax (19 %): 361,00 EUR" in text
    assert "Total: 2.261,00 EUR" in text
    assert "Due: 31. März 2024" in text


def test_csv_export_credit_note():
    cn = CreditNote("CN-1", Customer("ACME", country="US"), [LineItem("Refund", Decimal("1250"))])
    rows = render_csv(cn).splitlines()
    assert rows[0] == "number,kind,customer,description,qty,amount,currency"
    assert rows[1] == "CN-1,Credit note,ACME,Refund,1,-1250.00,EUR"


def test_text_export_credit_note_refers_to_invoice():
    cn = CreditNote("CN-2", Customer("ACME", country="US"), [LineItem("Refund", Decimal("1250"))],
                    issued=date(2024, 4, 2), refers_to="2024-0042")
    text = render_text(cn)
    assert text.splitlines()[:2] == ["Credit note CN-2", "Refers to invoice 2024-0042"]
    assert "Total: -1,250.00 EUR" in text
