import io
from datetime import datetime

from weatherlog.ingest.csv_reader import read_rows
from weatherlog.ingest.validate import parse_value

CSV = """station,time,temp_c,humidity,rain_mm,wind_kmh
st7,2024-04-03T06:00,11.2,88,0.0,12
st7,2024-04-03T09:00,,85,0.4,
st7,2024-04-03T12:00,14.8,NA,0,19.5
"""


def test_read_rows():
    readings = read_rows(io.StringIO(CSV))
    assert len(readings) == 3
    assert readings[0].time == datetime(2024, 4, 3, 6, 0)
    assert readings[0].temp_c == 11.2
    assert readings[1].temp_c is None
    assert readings[1].wind_kmh is None
    assert readings[2].humidity is None


def test_parse_value():
    assert parse_value("temp_c", "12,5") == 12.5
    assert parse_value("temp_c", " -3 ") == -3.0
    assert parse_value("temp_c", "85") is None  # implausible
    assert parse_value("rain_mm", "n/a") is None
    assert parse_value("humidity", None) is None
