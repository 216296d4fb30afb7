from weatherlog.ingest.csv_reader import read_csv
from weatherlog.ingest.json_reader import read_json


def read_any(path):
    return read_json(path) if path.endswith(".json") else read_csv(path)


__all__ = ["read_any", "read_csv", "read_json"]
