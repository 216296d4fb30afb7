"""Record filters. Each takes an iterable of records and yields the ones it keeps."""
