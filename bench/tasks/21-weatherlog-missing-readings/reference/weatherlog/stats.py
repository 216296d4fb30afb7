"""Daily statistics."""

from dataclasses import dataclass
from datetime import date
from statistics import mean
from typing import Optional

from weatherlog.aggregate import by_day


@dataclass(frozen=True)
class Summary:
    day: date
    count: int  # how many temperature readings min/max/mean are based on
    min_c: Optional[float]
    max_c: Optional[float]
    mean_c: Optional[float]
    rain_mm: float
    max_wind_kmh: Optional[float] = None


def summarise(day, readings):
    temps = [r.temp_c for r in readings if r.temp_c is not None]
    winds = [r.wind_kmh for r in readings if r.wind_kmh is not None]
    rain = round(sum(r.rain_mm or 0.0 for r in readings), 1)
    max_wind = max(winds) if winds else None
    if not temps:
        return Summary(day, 0, None, None, None, rain, max_wind)
    return Summary(
        day=day,
        count=len(temps),
        min_c=min(temps),
        max_c=max(temps),
        mean_c=round(mean(temps), 1),
        rain_mm=rain,
        max_wind_kmh=max_wind,
    )


def daily_summaries(readings):
    return [summarise(day, group) for day, group in by_day(readings).items()]
