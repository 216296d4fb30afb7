from decimal import Decimal

from shipwise import Address, Parcel, build_quote, cheapest_quote


def test_postal_quote_to_germany():
    quote = build_quote(Parcel(2.5, "kg", 30, 20, 10), Address("DE", "10115"))
    assert quote.zone == 3
    assert quote.billable_kg == 2.5
    assert quote.total == Decimal("34.00")


def test_express_adds_fuel_surcharge():
    quote = build_quote(Parcel(0.4, "kg"), Address("US", "10001"), carrier="express")
    assert quote.base == Decimal("11.00")
    assert quote.fuel == Decimal("1.38")
    assert quote.total == Decimal("12.38")


def test_remote_and_oversize_fees():
    quote = build_quote(Parcel(3, "kg", 130, 10, 10), Address("US", "99501"))
    assert quote.remote == Decimal("7.50")
    assert quote.oversize == Decimal("15.00")


def test_cheapest_quote():
    quote = cheapest_quote(Parcel(0.4, "kg"), Address("CA"))
    assert quote.carrier == "postal"
    assert str(quote) == "postal zone 2, 0.4 kg: 9.90 USD"


def test_cheapest_quote_too_heavy_for_everyone():
    assert cheapest_quote(Parcel(45, "kg"), Address("CA")) is None
