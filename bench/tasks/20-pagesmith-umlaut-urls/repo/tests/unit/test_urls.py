from datetime import date

from pagesmith import Page, SiteConfig
from pagesmith.urls.routes import output_path, page_route, tag_route
from pagesmith.urls.slug import page_slug


def test_page_slug():
    assert page_slug("Hello, World!") == "hello-world"
    assert page_slug("  Python 3.12: what's new?  ") == "python-3-12-what-s-new"
    assert page_slug("!!!") == "untitled"


def test_long_titles_are_cut_at_a_word_boundary():
    assert page_slug("a very long title about many things", max_length=16) == "a-very-long"


def test_routes():
    config = SiteConfig()
    assert page_route(Page("About me"), config) == "/about-me/"
    assert page_route(Page("Hello", date=date(2024, 1, 1)), config) == "/blog/hello/"
    assert page_route(Page("Hello", date=date(2024, 1, 1), slug_override="hi"), config) == "/blog/hi/"
    assert tag_route("Machine Learning", config) == "/tags/machine-learning/"


def test_output_path():
    assert output_path("/blog/hello/") == "blog/hello/index.html"
    assert output_path("/") == "index.html"
