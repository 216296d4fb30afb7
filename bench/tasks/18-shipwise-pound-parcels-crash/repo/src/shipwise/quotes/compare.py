"""Picks the cheapest carrier for a parcel."""

from shipwise.rates.carriers import CARRIERS
from shipwise.quotes.builder import DEFAULT_ORIGIN, build_quote


def all_quotes(parcel, destination, origin=DEFAULT_ORIGIN):
    quotes = []
    for name, table in CARRIERS.items():
        if parcel.weight_kg > table.max_weight:
            continue
        quotes.append(build_quote(parcel, destination, name, origin))
    return sorted(quotes, key=lambda q: (q.total, q.carrier))


def cheapest_quote(parcel, destination, origin=DEFAULT_ORIGIN):
    quotes = all_quotes(parcel, destination, origin)
    return quotes[0] if quotes else None
