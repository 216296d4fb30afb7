import io
import json

from weatherlog.cli import main

CSV = """station,time,temp_c,humidity,rain_mm,wind_kmh
st3,2024-04-03T06:00,8.5,90,0.0,5
st3,2024-04-03T12:00,12.1,70,1.5,22
st3,2024-04-04T06:00,6.0,95,3.0,
"""


def test_text_report(tmp_path):
    path = tmp_path / "st3.csv"
    path.write_text(CSV, encoding="utf-8")
    out = io.StringIO()
    assert main(["report", str(path)], out=out) == 0
    assert out.getvalue() == (
        "Station st3\n"
        "2024-04-03  min 8.5°C  max 12.1°C  mean 10.3°C  rain 1.5 mm\n"
        "2024-04-04  min 6.0°C  max 6.0°C  mean 6.0°C  rain 3.0 mm\n"
    )


def test_markdown_report_from_json(tmp_path):
    path = tmp_path / "st3.json"
    path.write_text(json.dumps([
        {"station": "st3", "time": "2024-04-03T06:00", "temp_c": 8.5, "rain_mm": 0, "wind_kmh": None},
    ]), encoding="utf-8")
    out = io.StringIO()
    main(["report", "--markdown", str(path)], out=out)
    assert out.getvalue().splitlines()[-1] == "| 2024-04-03 | 8.5 | 8.5 | 8.5 | 0.0 | – |"


def test_fahrenheit(tmp_path):
    path = tmp_path / "st3.csv"
    path.write_text(CSV, encoding="utf-8")
    out = io.StringIO()
    main(["report", "--fahrenheit", str(path)], out=out)
    assert "2024-04-04  min 42.8°F  max 42.8°F  mean 42.8°F  rain 3.0 mm" in out.getvalue()
