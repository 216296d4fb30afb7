import pytest

from shipwise import Parcel
from shipwise.rates.dimensional import billable_kg, volumetric_kg


def test_parcel_normalises_to_metric():
    parcel = Parcel(1200, "g", 10, 8, 4, dim_unit="in")
    assert parcel.weight_kg == pytest.approx(1.2)
    assert parcel.dims_cm == pytest.approx((25.4, 20.32, 10.16))


def test_zero_weight_rejected():
    with pytest.raises(ValueError):
        Parcel(0)


def test_volumetric_weight_wins_for_big_light_boxes():
    parcel = Parcel(1, "kg", 50, 40, 30)
    assert volumetric_kg(parcel) == pytest.approx(12.0)
    assert billable_kg(parcel) == 12.0


def test_billable_rounds_up_to_tenths():
    assert billable_kg(Parcel(2.01, "kg")) == 2.1
    assert billable_kg(Parcel(2.0, "kg")) == 2.0
