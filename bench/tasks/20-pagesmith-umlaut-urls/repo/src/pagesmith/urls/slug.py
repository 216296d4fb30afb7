"""URL slugs for pages and tags: "Hello, World!" -> "hello-world"."""

import re

_UNSAFE = re.compile(r"[^a-z0-9]+")


def page_slug(title, max_length=60):
    """Lowercase ASCII words joined by hyphens, cut at a word boundary to max_length."""
    slug = _UNSAFE.sub("-", title.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug.rfind("-", 0, max_length + 1)
        slug = slug[:cut if cut > 0 else max_length].rstrip("-")
    return slug or "untitled"
