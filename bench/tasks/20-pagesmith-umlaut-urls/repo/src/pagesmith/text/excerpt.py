"""Plain-text excerpts for listings and feeds."""

import re

_MARKUP = re.compile(r"[#*`>\[\]]|\(([^)]*)\)")


def excerpt(body, words=40):
    text = " ".join(line for line in body.splitlines() if not line.lstrip().startswith("#"))
    text = _MARKUP.sub("", text)
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    return " ".join(parts[:words]) + " …"
