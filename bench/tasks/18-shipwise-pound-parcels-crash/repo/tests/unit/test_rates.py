from decimal import Decimal

import pytest

from shipwise.errors import UnknownCarrier
from shipwise.rates.carriers import POSTAL, get_table


def test_band_edges_are_inclusive():
    assert POSTAL.price_for(1.0, 1) == Decimal("4.50")
    assert POSTAL.price_for(1.1, 1) == Decimal("6.20")
    assert POSTAL.price_for(30, 3) == Decimal("109.00")


def test_unknown_zone():
    with pytest.raises(ValueError):
        POSTAL.price_for(1, 4)


def test_unknown_carrier():
    with pytest.raises(UnknownCarrier):
        get_table("pigeon")
