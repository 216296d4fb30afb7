"""A parcel to ship. Weight and dimensions are normalised to kg and cm on creation."""

from dataclasses import dataclass, field

from shipwise.units import to_cm, to_kg


@dataclass
class Parcel:
    weight: float
    unit: str = "kg"
    length: float = 0.0
    width: float = 0.0
    height: float = 0.0
    dim_unit: str = "cm"
    weight_kg: float = field(init=False)
    dims_cm: tuple = field(init=False)

    def __post_init__(self):
        if self.weight <= 0:
            raise ValueError("a parcel must weigh something")
        self.weight_kg = to_kg(self.weight, self.unit)
        self.dims_cm = tuple(to_cm(v, self.dim_unit) for v in (self.length, self.width, self.height))

    @property
    def volume_cm3(self):
        length, width, height = self.dims_cm
        return length * width * height

    @property
    def longest_side_cm(self):
        return max(self.dims_cm)
