"""Scan structured application logs."""

__version__ = "0.4.1"
