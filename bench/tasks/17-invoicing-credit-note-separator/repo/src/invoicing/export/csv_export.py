"""CSV for the accountants: one row per line item, plain numbers, no grouping."""

import csv
import io

from invoicing.utils.rounding import round_money

HEADER = ["number", "kind", "customer", "description", "qty", "amount", "currency"]


def render_csv(invoice):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    for item in invoice.lines:
        amount = round_money(invoice.sign * item.net, invoice.currency)
        writer.writerow([invoice.number, invoice.kind, invoice.customer.name, item.description,
                         item.qty, str(amount), invoice.currency])
    return buf.getvalue()
