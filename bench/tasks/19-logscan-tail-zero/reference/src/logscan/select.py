"""Picking a slice of the matching records: --head and --tail."""

from itertools import islice


def first_records(records, n):
    """The first n records (like head -n)."""
    if n < 0:
        raise ValueError("n must not be negative")
    return list(islice(records, n))


def last_records(records, n):
    """The last n records (like tail -n)."""
    if n < 0:
        raise ValueError("n must not be negative")
    return list(records)[-n:] if n else []
