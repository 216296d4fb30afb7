"""The `---` block at the top of a content file."""


class FrontMatterError(ValueError):
    pass


def split_front_matter(text):
    """Returns (metadata dict, body). Files without front matter have empty metadata."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return {}, text
    meta = {}
    for number, line in enumerate(lines[1:], start=2):
        if line.strip() == "---":
            return meta, "\n".join(lines[number:]).lstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise FrontMatterError(f"line {number}: expected 'key: value', got {line!r}")
        meta[key.strip().lower()] = value.strip()
    raise FrontMatterError("front matter is not closed with '---'")


def parse_tags(value):
    return [tag.strip() for tag in value.split(",") if tag.strip()]
