import io
from datetime import date, datetime

from weatherlog.cli import main
from weatherlog.models import Reading
from weatherlog.report.markdown import render_markdown
from weatherlog.stats import daily_summaries, summarise

CSV = """station,time,temp_c,humidity,rain_mm,wind_kmh
st7,2024-04-03T00:00,10.9,91,0.0,8
st7,2024-04-03T03:00,10.1,93,0.0,7
st7,2024-04-03T06:00,11.2,88,0.2,12
st7,2024-04-03T09:00,,85,0.4,
st7,2024-04-03T12:00,14.8,71,0.0,19.5
st7,2024-04-03T15:00,,70,0.0,
st7,2024-04-03T18:00,13.6,76,0.0,14
st7,2024-04-03T21:00,12.0,82,0.0,9
st7,2024-04-04T00:00,,90,0.0,
st7,2024-04-04T03:00,,91,0.6,
"""


def reading(day, hour, temp, rain=0.0):
    return Reading("st7", datetime(2024, 4, day, hour), temp_c=temp, rain_mm=rain)


def test_issue_report(tmp_path):
    path = tmp_path / "station-7.csv"
    path.write_text(CSV, encoding="utf-8")
    out = io.StringIO()
    assert main(["report", str(path)], out=out) == 0
    assert out.getvalue() == (
        "Station st7\n"
        "2024-04-03  min 10.1°C  max 14.8°C  mean 12.1°C  rain 0.6 mm\n"
        "2024-04-04  no temperature data  rain 0.6 mm\n"
    )


def test_missing_temperatures_are_skipped():
    s = summarise(date(2024, 4, 3), [reading(3, 6, 11.2), reading(3, 9, None), reading(3, 12, 14.8)])
    assert (s.count, s.min_c, s.max_c, s.mean_c) == (2, 11.2, 14.8, 13.0)


def test_missing_value_first_or_last():
    s = summarise(date(2024, 4, 3), [reading(3, 0, None), reading(3, 6, -2.5), reading(3, 12, None)])
    assert (s.count, s.min_c, s.max_c, s.mean_c) == (1, -2.5, -2.5, -2.5)


def test_day_without_any_temperature():
    s = summarise(date(2024, 4, 4), [reading(4, 0, None, 0.25), reading(4, 3, None, 0.5)])
    assert (s.count, s.min_c, s.max_c, s.mean_c) == (0, None, None, None)
    assert s.rain_mm == 0.8


def test_zero_degrees_is_a_reading():
    s = summarise(date(2024, 1, 9), [reading(3, 0, 0.0), reading(3, 6, None), reading(3, 12, 3.0)])
    assert (s.count, s.min_c, s.max_c, s.mean_c) == (2, 0.0, 3.0, 1.5)


def test_markdown_with_gaps():
    text = render_markdown([reading(3, 6, 4.0), reading(3, 9, None), reading(4, 6, None, 1.0)])
    assert text.splitlines()[2:] == ["| 2024-04-03 | 4.0 | 4.0 | 4.0 | 0.0 | – |",
                                     "| 2024-04-04 | – | – | – | 1.0 | – |"]
    assert [s.count for s in daily_summaries([reading(3, 6, 4.0), reading(3, 9, None)])] == [1]
