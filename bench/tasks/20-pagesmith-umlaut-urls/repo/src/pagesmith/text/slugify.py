"""Heading anchors: "Grüße aus Köln" -> "grusse-aus-koln".

Anchors must be unique within a page; `AnchorRegistry` appends -1, -2, ... to repeats.
"""

import re
import unicodedata

# Letters that Unicode decomposition does not turn into ASCII.
_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
                          "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "þ": "th", "Þ": "TH"})

_NON_WORD = re.compile(r"[^a-z0-9_]+")


def ascii_fold(text):
    """Replaces accented letters by their ASCII base: "Crème brûlée" -> "Creme brulee"."""
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).encode("ascii", "ignore").decode("ascii")


def anchor_id(text):
    slug = _NON_WORD.sub("-", ascii_fold(text).lower()).strip("-")
    return slug or "section"


class AnchorRegistry:
    def __init__(self):
        self.seen = {}

    def unique(self, text):
        base = anchor_id(text)
        count = self.seen.get(base, 0)
        self.seen[base] = count + 1
        return base if count == 0 else f"{base}-{count}"
