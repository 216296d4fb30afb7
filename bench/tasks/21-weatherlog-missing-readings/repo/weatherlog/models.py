from dataclasses import dataclass
from datetime import datetime
from typing import Optional


@dataclass(frozen=True)
class Reading:
    """One measurement. Any value may be None when the sensor did not report it."""

    station: str
    time: datetime
    temp_c: Optional[float] = None
    humidity: Optional[float] = None
    rain_mm: Optional[float] = None
    wind_kmh: Optional[float] = None

    @property
    def day(self):
        return self.time.date()
