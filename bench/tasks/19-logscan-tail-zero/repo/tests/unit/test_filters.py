from datetime import datetime, timezone

from logscan.filters.level import at_least
from logscan.filters.pattern import matching
from logscan.filters.time_window import within
from logscan.parsing.line import parse_lines

LOG = [
    "2024-05-01T12:00:00Z DEBUG [web] GET /health",
    "2024-05-01T12:00:01Z INFO  [worker] job 41 started",
    "2024-05-01T12:00:02Z ERROR [worker] job 41 failed",
    "Traceback (most recent call last):",
    "2024-05-01T12:00:05Z WARN  [db] slow query",
    "2024-05-01T12:00:09Z INFO  [worker] job 42 started",
]


def records():
    return list(parse_lines(LOG))


def test_level_filter():
    assert [r.level for r in at_least(records(), "warn")] == ["ERROR", "WARN"]


def test_pattern_filter():
    assert [r.message for r in matching(records(), r"job \d+ started")] == ["job 41 started", "job 42 started"]
    assert len(list(matching(records(), "JOB", ignore_case=True, invert=True))) == 3


def test_time_window_keeps_continuation_lines():
    since = datetime(2024, 5, 1, 12, 0, 2, tzinfo=timezone.utc)
    until = datetime(2024, 5, 1, 12, 0, 9, tzinfo=timezone.utc)
    kept = [r.raw for r in within(records(), since, until)]
    assert kept == LOG[2:5]
