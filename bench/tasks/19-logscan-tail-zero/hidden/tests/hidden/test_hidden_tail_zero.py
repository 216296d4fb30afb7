import io

from logscan.cli import main
from logscan.select import last_records

LOG = """2024-05-01T12:00:00Z DEBUG [web] GET /health
2024-05-01T12:00:01Z INFO  [worker] job 41 started
2024-05-01T12:00:02Z ERROR [worker] job 41 failed
2024-05-01T12:00:05Z WARN  [db] slow query
2024-05-01T12:00:09Z INFO  [worker] job 42 started
"""


def run(tmp_path, *args):
    path = tmp_path / "app.log"
    path.write_text(LOG, encoding="utf-8")
    out = io.StringIO()
    assert main([*args, str(path)], out=out) == 0
    return out.getvalue()


def test_tail_zero_prints_nothing(tmp_path):
    assert run(tmp_path, "--tail", "0") == ""


def test_tail_zero_with_filters(tmp_path):
    assert run(tmp_path, "--level", "warn", "--tail", "0") == ""
    assert run(tmp_path, "--tail", "0", "--stats") == "total  0\n"


def test_last_records_zero():
    assert last_records(iter(range(10)), 0) == []
    assert last_records([], 0) == []


def test_other_tail_counts_still_work(tmp_path):
    assert last_records(iter(range(10)), 1) == [9]
    assert last_records(iter(range(3)), 3) == [0, 1, 2]
    assert last_records(iter(range(3)), 10) == [0, 1, 2]
    assert last_records([], 2) == []
    assert run(tmp_path, "--tail", "1") == LOG.splitlines(True)[-1]
