"""Invoices."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from invoicing.models.customer import Customer
from invoicing.models.line_item import LineItem
from invoicing.tax.calculator import tax_for
from invoicing.utils.rounding import round_money


@dataclass
class Invoice:
    number: str
    customer: Customer
    lines: list = field(default_factory=list)
    issued: date = field(default_factory=date.today)

    kind = "Invoice"
    sign = 1

    @property
    def currency(self):
        return self.customer.currency

    @property
    def due(self):
        return self.issued + timedelta(days=self.customer.payment_days)

    @property
    def net(self):
        return round_money(self.sign * sum((line.net for line in self.lines), start=0), self.currency)

    @property
    def tax(self):
        return tax_for(self.net, self.customer, self.currency)

    @property
    def total(self):
        return self.net + self.tax

    def add(self, line):
        self.lines.append(line)
        return self

    @classmethod
    def from_dict(cls, data):
        issued = date.fromisoformat(data["issued"]) if "issued" in data else date.today()
        return cls(
            number=data["number"],
            customer=Customer.from_dict(data["customer"]),
            lines=[LineItem.from_dict(item) for item in data.get("lines", [])],
            issued=issued,
        )
