"""Reading log files (plain, gzip, or standard input)."""

import gzip
import io
import sys


def open_log(path):
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_lines(paths):
    """Yields the lines of every file in order, without their line endings."""
    for path in paths:
        with open_log(path) as fh:
            for line in fh:
                yield line.rstrip("\r\n")
