import pytest

from weatherlog.units import c_to_f, kmh_to_ms, mm_to_in


def test_conversions():
    assert c_to_f(100) == 212
    assert c_to_f(-40) == -40
    assert kmh_to_ms(36) == pytest.approx(10)
    assert mm_to_in(25.4) == pytest.approx(1)


def test_missing_values_stay_missing():
    assert c_to_f(None) is None
    assert kmh_to_ms(None) is None
