"""Helpers for turning titles into URL slugs."""

import re

_NON_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def slugify(title, max_length=60):
    """Return a lowercase, hyphen-separated slug for ``title``.

    Runs of characters that are not letters or digits become a single
    hyphen, and leading/trailing hyphens are removed. The result is cut
    to at most ``max_length`` characters (without a trailing hyphen).
    """
    slug = _NON_ALNUM.sub("-", title).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug


def unique_slug(title, existing):
    """Return a slug for ``title`` that is not in the set ``existing``."""
    base = slugify(title)
    candidate = base
    n = 2
    while candidate in existing:
        candidate = f"{base}-{n}"
        n += 1
    return candidate
