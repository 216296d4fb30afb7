"""Builds a quote for one parcel, one destination and one carrier."""

from shipwise.rates.carriers import get_table
from shipwise.rates.dimensional import billable_kg
from shipwise.rates.surcharges import fuel_surcharge, oversize_fee, remote_fee
from shipwise.quotes.quote import Quote
from shipwise.zones.resolver import is_remote, zone_for

DEFAULT_ORIGIN = "US"


def build_quote(parcel, destination, carrier="postal", origin=DEFAULT_ORIGIN):
    table = get_table(carrier)
    zone = zone_for(origin, destination)
    billable = billable_kg(parcel, table.volumetric_divisor)
    base = table.price_for(billable, zone)
    return Quote(
        carrier=table.name,
        zone=zone,
        billable_kg=billable,
        base=base,
        fuel=fuel_surcharge(table.name, base),
        remote=remote_fee(is_remote(destination)),
        oversize=oversize_fee(parcel),
    )
