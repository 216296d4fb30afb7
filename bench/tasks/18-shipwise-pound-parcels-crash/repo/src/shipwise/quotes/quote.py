from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Quote:
    carrier: str
    zone: int
    billable_kg: float
    base: Decimal
    fuel: Decimal = Decimal("0.00")
    remote: Decimal = Decimal("0.00")
    oversize: Decimal = Decimal("0.00")
    currency: str = "USD"

    @property
    def total(self):
        return self.base + self.fuel + self.remote + self.oversize

    def __str__(self):
        return f"{self.carrier} zone {self.zone}, {self.billable_kg:.1f} kg: {self.total:.2f} {self.currency}"
