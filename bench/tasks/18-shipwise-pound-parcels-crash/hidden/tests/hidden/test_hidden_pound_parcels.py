from decimal import Decimal

import pytest

from shipwise import Address, Parcel, build_quote, cheapest_quote
from shipwise.units import to_kg


def test_issue_example_twenty_pound_box_to_germany():
    parcel = Parcel(20, "lb", 16, 12, 8, dim_unit="in")
    quote = build_quote(parcel, Address("DE", "10115"), carrier="postal")
    assert quote.zone == 3
    assert quote.billable_kg == 9.1
    assert quote.total == Decimal("52.00")


def test_five_pound_parcel_uses_the_five_kg_band():
    quote = build_quote(Parcel(5, "lb"), Address("US", "10001"))
    assert quote.billable_kg == 2.3
    assert quote.total == Decimal("8.90")


def test_pound_conversion():
    assert to_kg(1, "lb") == pytest.approx(0.45359237, rel=1e-4)
    assert to_kg(10, "lbs") == pytest.approx(4.5359237, rel=1e-4)
    assert to_kg(2, "pounds") == pytest.approx(0.9071847, rel=1e-4)
    assert to_kg(16, "oz") == pytest.approx(to_kg(1, "lb"), rel=1e-4)


def test_cheapest_quote_for_pound_parcel():
    quote = cheapest_quote(Parcel(20, "lb", 16, 12, 8, dim_unit="in"), Address("DE", "10115"))
    assert quote is not None
    assert quote.carrier == "postal"
    assert quote.total == Decimal("52.00")


def test_metric_parcels_unchanged():
    assert build_quote(Parcel(2.5, "kg", 30, 20, 10), Address("DE", "10115")).total == Decimal("34.00")
    assert build_quote(Parcel(9000, "g"), Address("CA")).total == Decimal("29.50")
