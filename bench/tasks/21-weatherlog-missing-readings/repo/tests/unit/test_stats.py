from datetime import date, datetime

from weatherlog.models import Reading
from weatherlog.stats import daily_summaries, summarise


def reading(hour, temp, rain=0.0, wind=None, day=3):
    return Reading("st7", datetime(2024, 4, day, hour), temp_c=temp, rain_mm=rain, wind_kmh=wind)


def test_summary_of_a_full_day():
    s = summarise(date(2024, 4, 3), [reading(6, 11.2, 0.2, 12), reading(12, 14.8, 0.3, 19.5), reading(18, 13.0)])
    assert (s.count, s.min_c, s.max_c, s.mean_c) == (3, 11.2, 14.8, 13.0)
    assert s.rain_mm == 0.5
    assert s.max_wind_kmh == 19.5


def test_days_are_grouped_and_sorted():
    days = daily_summaries([reading(6, 5.0, day=4), reading(6, 7.0, day=3), reading(9, 9.0, day=3)])
    assert [(s.day, s.count, s.mean_c) for s in days] == [(date(2024, 4, 3), 2, 8.0), (date(2024, 4, 4), 1, 5.0)]


def test_missing_rain_counts_as_zero():
    s = summarise(date(2024, 4, 3), [reading(6, 10.0, None), reading(7, 11.0, 1.25)])
    assert s.rain_mm == 1.2


def test_missing_temperatures_are_skipped():
    # Regression test for #31: station 7 drops temperature readings when its battery is low.
    s = summarise(date(2024, 4, 3), [reading(6, 11.2), reading(9, None), reading(12, 14.8)])
    assert (s.count, s.min_c, s.max_c, s.mean_c) == (2, 11.2, 14.8, 13.0)
