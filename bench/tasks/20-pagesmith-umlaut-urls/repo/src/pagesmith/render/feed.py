"""An RSS 2.0 feed of the newest posts."""

from email.utils import format_datetime
from datetime import datetime, timezone
from xml.sax.saxutils import escape

from pagesmith.text.excerpt import excerpt
from pagesmith.urls.routes import absolute, page_route


def render_feed(posts, config):
    newest = sorted(posts, key=lambda p: p.date, reverse=True)[: config.feed_items]
    items = []
    for post in newest:
        link = absolute(page_route(post, config), config)
        published = format_datetime(datetime(post.date.year, post.date.month, post.date.day, tzinfo=timezone.utc))
        items.append(
            f"<item><title>{escape(post.title)}</title><link>{escape(link)}</link>"
            f"<guid>{escape(link)}</guid><pubDate>{published}</pubDate>"
            f"<description>{escape(excerpt(post.body))}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(config.title)}</title><link>{escape(config.base_url)}/</link>"
        f"<description>{escape(config.title)}</description>{''.join(items)}</channel></rss>\n"
    )
