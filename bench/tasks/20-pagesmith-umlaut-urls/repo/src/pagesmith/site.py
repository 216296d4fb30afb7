"""Collects pages and renders the whole site."""

import os
from collections import defaultdict

from pagesmith.render.feed import render_feed
from pagesmith.render.sitemap import render_sitemap
from pagesmith.render.templates import render_listing, render_page
from pagesmith.text.markdown_lite import to_html
from pagesmith.urls.routes import output_path, page_route, tag_route


class DuplicateRouteError(Exception):
    pass


class Site:
    def __init__(self, config):
        self.config = config
        self.pages = []
        self._routes = {}

    def add_page(self, page):
        route = page_route(page, self.config)
        if route in self._routes:
            other = self._routes[route]
            raise DuplicateRouteError(f"{route} is produced by both {other.title!r} and {page.title!r}")
        self._routes[route] = page
        self.pages.append(page)
        return route

    def routes(self):
        return dict(self._routes)

    def build(self):
        """Returns {route: html} for every page, tag listing and the blog index."""
        out = {}
        by_tag = defaultdict(list)
        posts = [p for p in self.pages if p.is_post]
        for route, page in self._routes.items():
            meta = f"<p><time>{page.date.isoformat()}</time></p>" if page.date else ""
            out[route] = render_page(page.title, to_html(page.body), self.config.title, meta)
            for tag in page.tags:
                by_tag[tag].append(page)
        for tag, pages in sorted(by_tag.items()):
            links = [(page_route(p, self.config), p.title) for p in pages]
            out[tag_route(tag, self.config)] = render_listing(f"Tagged “{tag}”", links, self.config.title)
        newest = sorted(posts, key=lambda p: p.date, reverse=True)
        out["/"] = render_listing(self.config.title, [(page_route(p, self.config), p.title) for p in newest],
                                  self.config.title)
        return out

    def write(self, directory):
        written = []
        pages = self.build()
        for route, text in pages.items():
            written.append(self._write(directory, output_path(route), text))
        posts = [p for p in self.pages if p.is_post]
        written.append(self._write(directory, "feed.xml", render_feed(posts, self.config)))
        written.append(self._write(directory, "sitemap.xml", render_sitemap(pages, self.config)))
        return written

    @staticmethod
    def _write(directory, relative, text):
        path = os.path.join(directory, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return path
