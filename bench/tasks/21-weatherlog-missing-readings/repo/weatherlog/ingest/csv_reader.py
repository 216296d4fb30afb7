import csv
from datetime import datetime

from weatherlog.ingest.validate import RANGES, parse_value
from weatherlog.models import Reading


def parse_row(row):
    values = {field: parse_value(field, row.get(field)) for field in RANGES}
    return Reading(station=row["station"].strip(), time=datetime.fromisoformat(row["time"].strip()), **values)


def read_rows(lines):
    return [parse_row(row) for row in csv.DictReader(lines) if row.get("time")]


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return read_rows(fh)
