"""Where each page ends up."""

from pagesmith.urls.slug import page_slug


def page_route(page, config):
    if page.is_post:
        return f"/{config.posts_prefix}/{page.slug}/"
    return f"/{page.slug}/"


def tag_route(tag, config):
    return f"/{config.tags_prefix}/{page_slug(tag)}/"


def absolute(route, config):
    return config.base_url + route


def output_path(route):
    """'/blog/hello/' -> 'blog/hello/index.html'."""
    return route.strip("/") + "/index.html" if route.strip("/") else "index.html"
