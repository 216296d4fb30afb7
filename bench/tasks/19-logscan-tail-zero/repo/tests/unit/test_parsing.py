from datetime import datetime, timezone

from logscan.parsing.levels import normalise, rank
from logscan.parsing.line import parse_line
from logscan.parsing.timestamps import parse_bound, parse_timestamp


def test_parse_structured_line():
    record = parse_line("2024-05-01T12:00:03Z WARNING [db] slow query (812 ms)")
    assert record.timestamp == datetime(2024, 5, 1, 12, 0, 3, tzinfo=timezone.utc)
    assert record.level == "WARN"
    assert record.source == "db"
    assert record.message == "slow query (812 ms)"


def test_parse_line_without_source():
    record = parse_line("2024-05-01 12:00:03,250 ERROR boom")
    assert record.level == "ERROR"
    assert record.source == ""
    assert record.message == "boom"
    assert record.timestamp.microsecond == 250000


def test_unstructured_line():
    record = parse_line("    at com.example.Main.run(Main.java:42)")
    assert not record.structured
    assert record.level == "INFO"


def test_levels():
    assert normalise(" critical ") == "FATAL"
    assert rank("debug") < rank("info") < rank("warn") < rank("error")
    assert rank("NOTICE") == rank("INFO")


def test_timestamps_with_offset():
    assert parse_timestamp("2024-05-01T14:00:03+02:00") == datetime(2024, 5, 1, 12, 0, 3, tzinfo=timezone.utc)
    assert parse_timestamp("yesterday") is None


def test_parse_bound():
    assert parse_bound("2024-05-01") == datetime(2024, 5, 1, tzinfo=timezone.utc)
    assert parse_bound("2024-05-01 12:30") == datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)
