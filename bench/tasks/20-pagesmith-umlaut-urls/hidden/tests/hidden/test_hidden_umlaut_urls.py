from datetime import date

from pagesmith import Page, Site, SiteConfig
from pagesmith.urls.routes import page_route, tag_route
from pagesmith.urls.slug import page_slug


def test_issue_examples():
    config = SiteConfig()
    assert page_route(Page("Grüße aus Köln", date=date(2024, 5, 4)), config) == "/blog/grusse-aus-koln/"
    assert page_route(Page("Über uns"), config) == "/uber-uns/"
    assert tag_route("Fähre", config) == "/tags/fahre/"


def test_titles_differing_only_in_special_letters_get_different_routes():
    site = Site(SiteConfig())
    assert site.add_page(Page("Tur til Ærø", date=date(2024, 6, 1))) == "/blog/tur-til-aero/"
    assert site.add_page(Page("Tur til Årø", date=date(2024, 6, 8))) == "/blog/tur-til-aro/"


def test_more_accented_titles():
    assert page_slug("Café Crème") == "cafe-creme"
    assert page_slug("Ålesund 2024") == "alesund-2024"
    assert page_slug("Straße") == "strasse"
    assert page_slug("Łódź, Kraków") == "lodz-krakow"
    assert page_slug("ÄRGER") == "arger"


def test_url_slugs_match_heading_anchors_for_plain_titles():
    # Unlike anchors, URL slugs never contain underscores.
    assert page_slug("snake_case title") == "snake-case-title"
    assert page_slug("Hello, World!") == "hello-world"
    assert page_slug("!!!") == "untitled"


def test_truncation_happens_after_folding():
    assert page_slug("Ärger über die Fähre nach Föhr", max_length=20) == "arger-uber-die-fahre"
