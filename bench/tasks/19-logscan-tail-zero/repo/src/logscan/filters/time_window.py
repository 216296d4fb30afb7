"""--since / --until. Unstructured lines (no timestamp) follow the record before them."""


def within(records, since=None, until=None):
    keep = since is None
    for record in records:
        if record.timestamp is not None:
            keep = (since is None or record.timestamp >= since) and (until is None or record.timestamp < until)
        if keep:
            yield record
