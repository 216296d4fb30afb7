"""Destination address (only what matters for pricing)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Address:
    country: str
    postcode: str = ""
    city: str = ""

    def __post_init__(self):
        object.__setattr__(self, "country", self.country.strip().upper())
        object.__setattr__(self, "postcode", self.postcode.strip().upper())
