"""A tiny static site generator."""

from pagesmith.config import SiteConfig
from pagesmith.content.page import Page
from pagesmith.site import DuplicateRouteError, Site

__all__ = ["DuplicateRouteError", "Page", "Site", "SiteConfig"]
__version__ = "0.7.0"
