from pagesmith.text.excerpt import excerpt
from pagesmith.text.markdown_lite import to_html
from pagesmith.text.slugify import anchor_id


def test_headings_get_anchors():
    html = to_html("# Grüße aus Köln\n\nText\n\n## Setup\n\n## Setup")
    assert '<h1 id="grusse-aus-koln">Grüße aus Köln</h1>' in html
    assert '<h2 id="setup">Setup</h2>' in html
    assert '<h2 id="setup-1">Setup</h2>' in html


def test_inline_markup_and_lists():
    html = to_html("Some *em* and **strong** and `x < y`.\n\n- one\n- [two](/two/)")
    assert html == ('<p>Some <em>em</em> and <strong>strong</strong> and <code>x &lt; y</code>.</p>\n'
                    '<ul><li>one</li><li><a href="/two/">two</a></li></ul>')


def test_anchor_ids():
    assert anchor_id("Crème brûlée") == "creme-brulee"
    assert anchor_id("snake_case stays") == "snake_case-stays"
    assert anchor_id("???") == "section"


def test_excerpt():
    assert excerpt("# Title\n\nOne **two** three", words=2) == "One two …"
