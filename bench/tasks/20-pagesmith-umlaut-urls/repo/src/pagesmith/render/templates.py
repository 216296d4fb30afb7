"""HTML templates."""

import html
from string import Template

PAGE = Template("""<!doctype html>
<html><head><meta charset="utf-8"><title>$title · $site</title></head>
<body><article><h1>$title</h1>$meta
$content
</article></body></html>
""")

LISTING = Template("""<!doctype html>
<html><head><meta charset="utf-8"><title>$title · $site</title></head>
<body><h1>$title</h1><ul>
$items
</ul></body></html>
""")


def render_page(title, content, site, meta=""):
    return PAGE.substitute(title=html.escape(title), content=content, site=html.escape(site), meta=meta)


def render_listing(title, links, site):
    items = "\n".join(f'<li><a href="{href}">{html.escape(text)}</a></li>' for href, text in links)
    return LISTING.substitute(title=html.escape(title), items=items, site=html.escape(site))
