"""One log line -> Record."""

import re
from dataclasses import dataclass
from typing import Optional

from logscan.parsing.levels import normalise
from logscan.parsing.timestamps import parse_timestamp

LINE = re.compile(
    r"^(?P<ts>\d{4}-\d{2}-\d{2}[T ][\d:.,]+(?:Z|[+-]\d{2}:?\d{2})?)\s+"
    r"(?P<level>[A-Za-z]+)\s+"
    r"(?:\[(?P<source>[^\]]*)\]\s+)?"
    r"(?P<message>.*)$"
)


@dataclass
class Record:
    raw: str
    timestamp: Optional[object] = None
    level: str = "INFO"
    source: str = ""
    message: str = ""

    @property
    def structured(self):
        return self.timestamp is not None


def parse_line(raw):
    """Parses a line; lines that don't look like log lines become unstructured INFO records."""
    match = LINE.match(raw)
    if not match:
        return Record(raw=raw, message=raw)
    return Record(
        raw=raw,
        timestamp=parse_timestamp(match["ts"]),
        level=normalise(match["level"]),
        source=match["source"] or "",
        message=match["message"],
    )


def parse_lines(lines):
    for raw in lines:
        if raw.strip():
            yield parse_line(raw)
