"""A page or a blog post."""

from dataclasses import dataclass, field
from datetime import date
from typing import Optional

from pagesmith.content.frontmatter import parse_tags, split_front_matter
from pagesmith.urls.slug import page_slug


@dataclass
class Page:
    title: str
    body: str = ""
    date: Optional[date] = None
    tags: list = field(default_factory=list)
    slug_override: str = ""
    draft: bool = False
    source: str = ""

    @property
    def is_post(self):
        return self.date is not None

    @property
    def slug(self):
        return self.slug_override or page_slug(self.title)

    @classmethod
    def from_text(cls, text, source=""):
        meta, body = split_front_matter(text)
        if "title" not in meta:
            raise ValueError(f"{source or 'page'}: front matter needs a title")
        return cls(
            title=meta["title"],
            body=body,
            date=date.fromisoformat(meta["date"]) if meta.get("date") else None,
            tags=parse_tags(meta.get("tags", "")),
            slug_override=meta.get("slug", ""),
            draft=meta.get("draft", "").lower() in ("yes", "true", "1"),
            source=source,
        )
