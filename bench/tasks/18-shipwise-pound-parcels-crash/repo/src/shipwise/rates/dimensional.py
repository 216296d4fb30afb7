"""Volumetric ("dimensional") weight: big light boxes are charged by size."""


def volumetric_kg(parcel, divisor=5000):
    """L x W x H in cm divided by the carrier's divisor, in kg."""
    if divisor <= 0:
        raise ValueError("divisor must be positive")
    return parcel.volume_cm3 / divisor


def billable_kg(parcel, divisor=5000):
    """The larger of the actual and the volumetric weight, rounded up to 0.1 kg."""
    weight = max(parcel.weight_kg, volumetric_kg(parcel, divisor))
    tenths = int(weight * 10)
    if tenths < weight * 10:
        tenths += 1
    return tenths / 10
