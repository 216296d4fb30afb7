"""Plausibility checks: out-of-range values are treated as missing."""

RANGES = {
    "temp_c": (-60.0, 60.0),
    "humidity": (0.0, 100.0),
    "rain_mm": (0.0, 300.0),
    "wind_kmh": (0.0, 250.0),
}


def parse_value(field, raw):
    """'12.5' -> 12.5; '', 'NA', None or an implausible value -> None."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = raw.strip()
        if raw in ("", "NA", "n/a", "-"):
            return None
        raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    low, high = RANGES[field]
    return value if low <= value <= high else None
