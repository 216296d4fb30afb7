import json


def to_dict(record):
    return {
        "timestamp": record.timestamp.isoformat() if record.timestamp else None,
        "level": record.level,
        "source": record.source,
        "message": record.message,
    }


def write_json(records, out):
    for record in records:
        out.write(json.dumps(to_dict(record), ensure_ascii=False) + "\n")
