"""URLs of generated pages."""
