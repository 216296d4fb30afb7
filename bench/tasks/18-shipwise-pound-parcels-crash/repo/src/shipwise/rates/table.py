"""Weight-band rate tables."""

from bisect import bisect_left
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Band:
    max_kg: float
    prices: tuple  # one price per zone: zone 1 first

    def price(self, zone):
        return Decimal(self.prices[zone - 1])


class RateTable:
    """Bands sorted by weight; a parcel uses the first band whose max_kg is >= its billable weight."""

    def __init__(self, name, bands, volumetric_divisor=5000):
        self.name = name
        self.bands = sorted(bands, key=lambda b: b.max_kg)
        self.limits = [b.max_kg for b in self.bands]
        self.volumetric_divisor = volumetric_divisor

    @property
    def max_weight(self):
        return self.limits[-1]

    def _band_for(self, weight_kg):
        index = bisect_left(self.limits, weight_kg)
        return self.bands[index]

    def price_for(self, weight_kg, zone):
        if zone not in (1, 2, 3):
            raise ValueError(f"unknown zone {zone}")
        band = self._band_for(weight_kg)
        return band.price(zone)
