from datetime import date

import pytest

from pagesmith import Page
from pagesmith.content.frontmatter import FrontMatterError, split_front_matter

POST = """---
title: Hello, World!
date: 2024-03-01
tags: meta, python
---

# Welcome

First post.
"""


def test_split_front_matter():
    meta, body = split_front_matter(POST)
    assert meta == {"title": "Hello, World!", "date": "2024-03-01", "tags": "meta, python"}
    assert body.startswith("# Welcome")


def test_page_from_text():
    page = Page.from_text(POST)
    assert page.title == "Hello, World!"
    assert page.date == date(2024, 3, 1)
    assert page.tags == ["meta", "python"]
    assert page.is_post


def test_unclosed_front_matter():
    with pytest.raises(FrontMatterError):
        split_front_matter("---\ntitle: x\n")


def test_title_required():
    with pytest.raises(ValueError):
        Page.from_text("---\ndate: 2024-01-01\n---\nbody")
