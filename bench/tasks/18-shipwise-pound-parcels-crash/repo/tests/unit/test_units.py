import pytest

from shipwise.errors import UnknownUnit
from shipwise.units import to_cm, to_kg


def test_metric_weights():
    assert to_kg(2.5, "kg") == 2.5
    assert to_kg(750, "g") == pytest.approx(0.75)


def test_ounces():
    assert to_kg(8, "oz") == pytest.approx(0.226796)


def test_aliases_and_case():
    assert to_kg(3, "KGS") == 3.0
    assert to_kg(500, " grams ") == pytest.approx(0.5)


def test_lengths():
    assert to_cm(10, "in") == pytest.approx(25.4)
    assert to_cm(250, "mm") == pytest.approx(25.0)
    assert to_cm(12, "inches") == pytest.approx(30.48)


def test_unknown_unit():
    with pytest.raises(UnknownUnit):
        to_kg(1, "stone")
