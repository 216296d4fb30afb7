"""Site settings."""

from dataclasses import dataclass


@dataclass
class SiteConfig:
    title: str = "My blog"
    base_url: str = "http://localhost:8000"
    author: str = ""
    posts_prefix: str = "blog"
    tags_prefix: str = "tags"
    feed_items: int = 20

    @classmethod
    def from_dict(cls, data):
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        config = cls(**known)
        config.base_url = config.base_url.rstrip("/")
        return config
