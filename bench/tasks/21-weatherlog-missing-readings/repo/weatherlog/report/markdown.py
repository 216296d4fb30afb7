"""Markdown table for the wiki."""

from weatherlog.stats import daily_summaries


def _cell(value):
    return "–" if value is None else f"{value:.1f}"


def render_markdown(readings):
    rows = ["| Day | Min °C | Max °C | Mean °C | Rain mm | Max wind km/h |", "|---|---|---|---|---|---|"]
    for s in daily_summaries(readings):
        rows.append(f"| {s.day.isoformat()} | {_cell(s.min_c)} | {_cell(s.max_c)} | {_cell(s.mean_c)} | "
                    f"{s.rain_mm:.1f} | {_cell(s.max_wind_kmh)} |")
    return "\n".join(rows) + "\n"
