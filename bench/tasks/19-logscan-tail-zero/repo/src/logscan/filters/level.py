from logscan.parsing.levels import rank


def at_least(records, level):
    threshold = rank(level)
    for record in records:
        if rank(record.level) >= threshold:
            yield record
