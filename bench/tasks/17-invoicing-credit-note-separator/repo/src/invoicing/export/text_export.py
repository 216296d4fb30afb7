"""Plain-text rendering used for e-mails and the PDF generator."""

from invoicing.formatting.currency import format_money
from invoicing.formatting.dates import format_date
from invoicing.tax.calculator import applicable_rate, is_reverse_charge


def render_text(invoice):
    customer = invoice.customer
    locale = customer.locale
    cur = invoice.currency
    lines = [
        f"{invoice.kind} {invoice.number}",
        f"Customer: {customer.name}",
        f"Date: {format_date(invoice.issued, locale)}",
        f"Due: {format_date(invoice.due, locale)}",
        "",
    ]
    if getattr(invoice, "refers_to", ""):
        lines.insert(1, f"Refers to invoice {invoice.refers_to}")
    for item in invoice.lines:
        amount = format_money(invoice.sign * item.net, cur, locale)
        lines.append(f"  {item.qty} x {item.description}: {amount}")
    lines.append("")
    lines.append(f"Net: {format_money(invoice.net, cur, locale)}")
    if is_reverse_charge(customer):
        lines.append("Tax: reverse charge")
    else:
        lines.append(f"Tax ({applicable_rate(customer)} %): {format_money(invoice.tax, cur, locale)}")
    lines.append(f"Total: {format_money(invoice.total, cur, locale)}")
    return "\n".join(lines) + "\n"
