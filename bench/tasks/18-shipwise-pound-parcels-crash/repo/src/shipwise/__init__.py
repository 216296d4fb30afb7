"""Shipping quotes: zones, weight bands, surcharges."""

from shipwise.models.address import Address
from shipwise.models.parcel import Parcel
from shipwise.quotes.builder import build_quote
from shipwise.quotes.compare import cheapest_quote

__all__ = ["Address", "Parcel", "build_quote", "cheapest_quote"]
__version__ = "1.3.0"
