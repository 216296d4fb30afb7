import gzip
import io
import json

from logscan.cli import main

LOG = """2024-05-01T12:00:00Z DEBUG [web] GET /health
2024-05-01T12:00:01Z INFO  [worker] job 41 started
2024-05-01T12:00:02Z ERROR [worker] job 41 failed
2024-05-01T12:00:05Z WARN  [db] slow query
2024-05-01T12:00:09Z INFO  [worker] job 42 started
"""


def run(tmp_path, *args, name="app.log"):
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(LOG)
    else:
        path.write_text(LOG, encoding="utf-8")
    out = io.StringIO()
    assert main([*args, str(path)], out=out) == 0
    return out.getvalue()


def test_everything(tmp_path):
    assert run(tmp_path) == LOG


def test_level_and_tail(tmp_path):
    assert run(tmp_path, "--level", "info", "--tail", "2") == "".join(LOG.splitlines(True)[3:5])


def test_head_of_gzip(tmp_path):
    assert run(tmp_path, "--head", "1", name="app.log.gz") == LOG.splitlines(True)[0]


def test_json(tmp_path):
    first = json.loads(run(tmp_path, "--json", "--grep", "failed"))
    assert first == {"timestamp": "2024-05-01T12:00:02+00:00", "level": "ERROR", "source": "worker",
                     "message": "job 41 failed"}


def test_stats(tmp_path):
    assert run(tmp_path, "--stats") == "DEBUG  1\nINFO   2\nWARN   1\nERROR  1\ntotal  5\n"
