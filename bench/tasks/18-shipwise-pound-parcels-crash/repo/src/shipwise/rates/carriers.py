"""The carriers we can quote, with their weight bands (prices in USD per zone 1/2/3)."""

from shipwise.errors import UnknownCarrier
from shipwise.rates.table import Band, RateTable

POSTAL = RateTable("postal", [
    Band(1, ("4.50", "9.90", "14.50")),
    Band(2, ("6.20", "13.50", "21.00")),
    Band(5, ("8.90", "19.80", "34.00")),
    Band(10, ("12.40", "29.50", "52.00")),
    Band(20, ("18.90", "44.00", "81.00")),
    Band(30, ("24.50", "58.00", "109.00")),
])

EXPRESS = RateTable("express", [
    Band(0.5, ("11.00", "24.00", "39.00")),
    Band(1, ("13.50", "29.00", "47.00")),
    Band(2, ("16.00", "35.00", "58.00")),
    Band(5, ("21.00", "46.00", "79.00")),
    Band(10, ("29.00", "64.00", "112.00")),
    Band(25, ("45.00", "99.00", "175.00")),
], volumetric_divisor=4000)

CARRIERS = {"postal": POSTAL, "express": EXPRESS}


def get_table(carrier):
    try:
        return CARRIERS[carrier.lower()]
    except KeyError:
        raise UnknownCarrier(f"unknown carrier {carrier!r}; known: {', '.join(sorted(CARRIERS))}") from None
