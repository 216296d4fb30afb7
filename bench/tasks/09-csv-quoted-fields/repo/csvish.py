"""A tiny CSV-like reader for well-behaved exports."""


def split_row(line, sep=","):
    """Split one line into a list of field strings."""
    return line.split(sep)


def read_records(text, sep=","):
    """Parse ``text`` with a header line into a list of dicts."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    header = [name.strip() for name in split_row(lines[0], sep)]
    records = []
    for lineno, line in enumerate(lines[1:], start=2):
        fields = split_row(line, sep)
        if len(fields) != len(header):
            raise ValueError(
                f"line {lineno}: expected {len(header)} fields, got {len(fields)}"
            )
        records.append(dict(zip(header, fields)))
    return records


def column(records, name):
    """Return the values of column ``name`` from parsed records."""
    return [record[name] for record in records]
