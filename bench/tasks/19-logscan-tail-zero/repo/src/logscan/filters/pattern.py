import re


def matching(records, pattern, ignore_case=False, invert=False):
    regex = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    for record in records:
        if bool(regex.search(record.message)) != invert:
            yield record
