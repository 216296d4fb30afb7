"""Reads every .md file under a content directory."""

import os

from pagesmith.content.page import Page


def load_directory(root):
    pages = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.endswith(".md") or name.startswith("_"):
                continue
            path = os.path.join(dirpath, name)
            with open(path, encoding="utf-8") as fh:
                page = Page.from_text(fh.read(), source=os.path.relpath(path, root))
            if not page.draft:
                pages.append(page)
    return pages
