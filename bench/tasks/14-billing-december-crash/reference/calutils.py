"""Calendar arithmetic helpers (standard library only)."""

from datetime import date


def days_in_month(year, month):
    first = date(year, month, 1)
    if month == 12:
        following = date(year + 1, 1, 1)
    else:
        following = date(year, month + 1, 1)
    return (following - first).days


def add_months(d, months):
    """Return ``d`` shifted by ``months``, clamping the day to the month end."""
    total = d.year * 12 + (d.month - 1) + months
    year, month_index = divmod(total, 12)
    month = month_index + 1
    day = min(d.day, days_in_month(year, month))
    return date(year, month, day)


def month_end(d):
    """Last day of the month containing ``d``."""
    return date(d.year, d.month, days_in_month(d.year, d.month))
