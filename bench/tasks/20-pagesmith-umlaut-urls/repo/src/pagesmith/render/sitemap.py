"""sitemap.xml"""

from xml.sax.saxutils import escape

from pagesmith.urls.routes import absolute


def render_sitemap(routes, config):
    urls = "".join(f"<url><loc>{escape(absolute(route, config))}</loc></url>" for route in sorted(routes))
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n')
