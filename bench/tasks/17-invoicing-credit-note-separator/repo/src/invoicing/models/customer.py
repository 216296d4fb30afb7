"""Customers we bill."""

from dataclasses import dataclass, field

from invoicing.config import DEFAULT_CURRENCY, DEFAULT_LOCALE, DEFAULT_PAYMENT_DAYS


@dataclass
class Customer:
    name: str
    country: str = "DE"
    locale: str = DEFAULT_LOCALE
    currency: str = DEFAULT_CURRENCY
    vat_id: str = ""
    payment_days: int = DEFAULT_PAYMENT_DAYS
    emails: list = field(default_factory=list)

    @property
    def is_business(self):
        return bool(self.vat_id)

    @classmethod
    def from_dict(cls, data):
        return cls(
            name=data["name"],
            country=data.get("country", "DE"),
            locale=data.get("locale", DEFAULT_LOCALE),
            currency=data.get("currency", DEFAULT_CURRENCY),
            vat_id=data.get("vat_id", ""),
            payment_days=int(data.get("payment_days", DEFAULT_PAYMENT_DAYS)),
            emails=list(data.get("emails", [])),
        )
