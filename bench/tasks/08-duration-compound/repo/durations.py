"""Parse and format human-friendly durations such as "5m" or "2h"."""

import re

UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}

_SINGLE = re.compile(r"(\d+)([dhms])")


def parse_duration(text):
    """Return the number of seconds in a duration string like ``"90s"``."""
    s = text.strip().lower()
    match = _SINGLE.fullmatch(s)
    if not match:
        raise ValueError(f"invalid duration: {text!r}")
    number, unit = match.groups()
    return int(number) * UNITS[unit]


def format_duration(seconds):
    """Format ``seconds`` as a compact string such as ``"1h30m"``."""
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in UNITS.items():
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
