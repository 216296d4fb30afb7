"""Invoices, credit notes, tax and exports."""

from invoicing.export.csv_export import render_csv
from invoicing.export.text_export import render_text
from invoicing.models.credit_note import CreditNote
from invoicing.models.customer import Customer
from invoicing.models.invoice import Invoice
from invoicing.models.line_item import LineItem

__all__ = ["CreditNote", "Customer", "Invoice", "LineItem", "render_csv", "render_text"]
__version__ = "0.9.2"
