"""Invoices made of (description, quantity, unit price) lines."""

from money import parse_amount, round_cents


class Invoice:
    def __init__(self, tax_percent="0"):
        self.tax_rate = float(tax_percent) / 100
        self.lines = []

    def add_line(self, description, qty, unit_price):
        """Add a line; ``unit_price`` is a decimal string like ``"4.99"``."""
        if qty <= 0:
            raise ValueError("quantity must be positive")
        self.lines.append((description, qty, parse_amount(unit_price)))

    def line_total(self, index):
        _, qty, price = self.lines[index]
        return round_cents(qty * price)

    def subtotal(self):
        return sum(self.line_total(i) for i in range(len(self.lines)))

    def tax(self):
        return round_cents(self.subtotal() * self.tax_rate)

    def total(self):
        return self.subtotal() + self.tax()
