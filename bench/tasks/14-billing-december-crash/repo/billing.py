"""Subscription billing schedules."""

from calutils import add_months


def billing_dates(start, count, interval_months=1):
    """The first ``count`` billing dates of a subscription starting on ``start``.

    Every date is computed from ``start`` so a subscription that started on
    the 31st is billed on the last day of shorter months and goes back to
    the 31st afterwards.
    """
    return [add_months(start, i * interval_months) for i in range(count)]


def next_renewal(start, today, interval_months=1):
    """First billing date strictly after ``today``."""
    i = 0
    while True:
        candidate = add_months(start, i * interval_months)
        if candidate > today:
            return candidate
        i += 1
