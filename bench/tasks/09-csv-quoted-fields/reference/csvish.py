"""A tiny CSV-like reader for well-behaved exports."""


def split_row(line, sep=","):
    """Split one line into a list of field strings.

    Fields wrapped in double quotes may contain ``sep``; inside quotes a
    doubled quote (``""``) stands for a literal quote character.
    """
    fields = []
    current = []
    in_quotes = False
    i = 0
    while i < len(line):
        ch = line[i]
        if in_quotes:
            if ch == '"':
                if i + 1 < len(line) and line[i + 1] == '"':
                    current.append('"')
                    i += 1
                else:
                    in_quotes = False
            else:
                current.append(ch)
        elif ch == '"':
            in_quotes = True
        elif line.startswith(sep, i):
            fields.append("".join(current))
            current = []
            i += len(sep)
            continue
        else:
            current.append(ch)
        i += 1
    fields.append("".join(current))
    return fields


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
