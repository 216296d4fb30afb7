import pytest

from logscan.select import first_records, last_records


def test_head():
    assert first_records(iter(range(10)), 3) == [0, 1, 2]
    assert first_records(iter(range(2)), 5) == [0, 1]
    assert first_records(iter(range(10)), 0) == []


def test_tail():
    assert last_records(iter(range(10)), 3) == [7, 8, 9]
    assert last_records(iter(range(2)), 5) == [0, 1]


def test_negative_counts_are_rejected():
    with pytest.raises(ValueError):
        first_records([], -1)
    with pytest.raises(ValueError):
        last_records([], -1)
