from datetime import date

import pytest

from pagesmith import DuplicateRouteError, Page, Site, SiteConfig
from pagesmith.content.loader import load_directory


def make_site():
    site = Site(SiteConfig(title="Notes", base_url="https://example.org"))
    site.add_page(Page("About", body="Hi."))
    site.add_page(Page("First post", body="# Intro\n\nHello.", date=date(2024, 1, 5), tags=["meta"]))
    site.add_page(Page("Second post", body="More.", date=date(2024, 2, 1), tags=["meta", "python"]))
    return site


def test_build_routes():
    pages = make_site().build()
    assert sorted(pages) == ["/", "/about/", "/blog/first-post/", "/blog/second-post/", "/tags/meta/",
                             "/tags/python/"]
    assert '<h1 id="intro">Intro</h1>' in pages["/blog/first-post/"]
    assert pages["/"].index("Second post") < pages["/"].index("First post")


def test_duplicate_routes_are_rejected():
    site = make_site()
    with pytest.raises(DuplicateRouteError):
        site.add_page(Page("About!", body=""))


def test_write(tmp_path):
    written = make_site().write(str(tmp_path))
    assert (tmp_path / "blog" / "first-post" / "index.html").exists()
    assert "<loc>https://example.org/blog/first-post/</loc>" in (tmp_path / "sitemap.xml").read_text()
    assert "<link>https://example.org/blog/second-post/</link>" in (tmp_path / "feed.xml").read_text()
    assert len(written) == 8


def test_load_directory_skips_drafts(tmp_path):
    (tmp_path / "posts").mkdir()
    (tmp_path / "about.md").write_text("---\ntitle: About\n---\nHi", encoding="utf-8")
    (tmp_path / "posts" / "a.md").write_text("---\ntitle: A\ndate: 2024-01-01\n---\nx", encoding="utf-8")
    (tmp_path / "posts" / "b.md").write_text("---\ntitle: B\ndraft: yes\n---\nx", encoding="utf-8")
    assert [p.title for p in load_directory(str(tmp_path))] == ["About", "A"]
