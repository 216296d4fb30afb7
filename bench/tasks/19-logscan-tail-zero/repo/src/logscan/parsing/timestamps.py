"""Timestamps at the start of log lines, and the --since/--until arguments."""

from datetime import datetime, timezone

FORMATS = ["%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S,%f", "%Y-%m-%d %H:%M:%S"]


def parse_timestamp(text):
    """Parses a log timestamp; naive times are taken as UTC. Returns None when it isn't one."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    for fmt in FORMATS:
        try:
            value = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return None


def parse_bound(text):
    """--since/--until: a date, a date and a time (minutes or seconds), UTC unless an offset is given."""
    text = text.strip().replace(" ", "T")
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            pass
    value = parse_timestamp(text)
    if value is None:
        raise ValueError(f"not a date or time: {text!r}")
    return value
