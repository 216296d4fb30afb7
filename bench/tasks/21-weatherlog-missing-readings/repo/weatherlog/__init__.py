"""Daily summaries of weather station readings."""

__version__ = "2.1.0"
