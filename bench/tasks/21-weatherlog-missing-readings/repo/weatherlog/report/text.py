"""Plain-text report, one line per day."""

from weatherlog.stats import daily_summaries
from weatherlog.units import c_to_f


def _temp(value, fahrenheit):
    if fahrenheit:
        value = c_to_f(value)
    return f"{value:.1f}"


def format_line(summary, fahrenheit=False):
    unit = "°F" if fahrenheit else "°C"
    if summary.count == 0:
        temps = "no temperature data"
    else:
        temps = (f"min {_temp(summary.min_c, fahrenheit)}{unit}  max {_temp(summary.max_c, fahrenheit)}{unit}  "
                 f"mean {_temp(summary.mean_c, fahrenheit)}{unit}")
    return f"{summary.day.isoformat()}  {temps}  rain {summary.rain_mm:.1f} mm"


def render_daily(readings, fahrenheit=False):
    return "\n".join(format_line(summary, fahrenheit) for summary in daily_summaries(readings)) + "\n"
