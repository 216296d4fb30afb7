"""Surcharges added on top of the base rate."""

from decimal import ROUND_HALF_UP, Decimal

FUEL_PERCENT = {"postal": Decimal("0"), "express": Decimal("12.5")}
REMOTE_AREA_FEE = Decimal("7.50")
OVERSIZE_FEE = Decimal("15.00")
OVERSIZE_CM = 120


def fuel_surcharge(carrier, base):
    percent = FUEL_PERCENT.get(carrier, Decimal("0"))
    return (base * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def remote_fee(remote):
    return REMOTE_AREA_FEE if remote else Decimal("0.00")


def oversize_fee(parcel):
    return OVERSIZE_FEE if parcel.longest_side_cm > OVERSIZE_CM else Decimal("0.00")
