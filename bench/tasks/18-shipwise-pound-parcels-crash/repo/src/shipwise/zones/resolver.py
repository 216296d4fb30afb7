"""Maps an origin and a destination to a pricing zone.

Zone 1: domestic. Zone 2: same region (EU to EU, North America to North America).
Zone 3: everything else.
"""

from shipwise.zones.data import EU, NORTH_AMERICA, REMOTE_POSTCODES


def region_of(country):
    if country in EU:
        return "EU"
    if country in NORTH_AMERICA:
        return "NA"
    return country


def zone_for(origin, destination):
    origin = origin.upper()
    if destination.country == origin:
        return 1
    if region_of(destination.country) == region_of(origin):
        return 2
    return 3


def is_remote(destination):
    prefixes = REMOTE_POSTCODES.get(destination.country, ())
    return bool(destination.postcode) and destination.postcode.startswith(prefixes)
