"""A single invoice line."""

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class LineItem:
    description: str
    unit_price: Decimal
    qty: int = 1
    discount_percent: Decimal = Decimal(0)

    def __post_init__(self):
        self.unit_price = Decimal(self.unit_price)
        self.discount_percent = Decimal(self.discount_percent)
        if self.qty <= 0:
            raise ValueError(f"quantity must be positive, got {self.qty}")
        if not Decimal(0) <= self.discount_percent <= Decimal(100):
            raise ValueError("discount must be between 0 and 100 percent")

    @property
    def net(self):
        gross = self.unit_price * self.qty
        return gross - gross * self.discount_percent / Decimal(100)

    @classmethod
    def from_dict(cls, data):
        return cls(
            description=data["description"],
            unit_price=Decimal(str(data["unit_price"])),
            qty=int(data.get("qty", 1)),
            discount_percent=Decimal(str(data.get("discount_percent", 0))),
        )
