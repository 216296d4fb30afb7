class ShipwiseError(Exception):
    """Base class for errors raised by shipwise."""


class UnknownUnit(ShipwiseError):
    pass


class UnknownCarrier(ShipwiseError):
    pass


class NoRoute(ShipwiseError):
    """The carrier does not ship to the destination."""
