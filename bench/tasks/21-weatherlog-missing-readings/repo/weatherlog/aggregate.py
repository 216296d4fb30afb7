"""Grouping readings."""

from collections import defaultdict


def by_day(readings):
    """{date: [readings]} in date order; readings keep their time order."""
    groups = defaultdict(list)
    for reading in sorted(readings, key=lambda r: r.time):
        groups[reading.day].append(reading)
    return dict(sorted(groups.items()))


def by_station(readings):
    groups = defaultdict(list)
    for reading in readings:
        groups[reading.station].append(reading)
    return dict(sorted(groups.items()))
