import json
from datetime import datetime

from weatherlog.ingest.validate import RANGES, parse_value
from weatherlog.models import Reading


def parse_object(obj):
    values = {field: parse_value(field, obj.get(field)) for field in RANGES}
    return Reading(station=str(obj["station"]), time=datetime.fromisoformat(obj["time"]), **values)


def read_json(path):
    with open(path, encoding="utf-8") as fh:
        return [parse_object(obj) for obj in json.load(fh)]
