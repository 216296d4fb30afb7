"""Renders an invoice as a table for the terminal."""

from invoicing.display.currency_fmt import column_width, format_cell


def render_table(invoice):
    amounts = [invoice.sign * line.net for line in invoice.lines] + [invoice.net, invoice.tax, invoice.total]
    width = max(column_width(amounts, invoice.currency), 10)
    desc_width = max([len(line.description) for line in invoice.lines] + [11])
    rows = [f"{invoice.kind} {invoice.number} ({invoice.currency})", ""]
    for line in invoice.lines:
        cell = format_cell(invoice.sign * line.net, invoice.currency)
        rows.append(f"{line.description:<{desc_width}}  {line.qty:>4}  {cell:>{width}}")
    rows.append("-" * (desc_width + width + 8))
    for label, value in (("Net", invoice.net), ("Tax", invoice.tax), ("Total", invoice.total)):
        rows.append(f"{label:<{desc_width}}        {format_cell(value, invoice.currency):>{width}}")
    return "\n".join(rows)
