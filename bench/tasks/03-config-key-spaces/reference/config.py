"""Minimal INI-style configuration parser."""


def parse_config(text):
    """Parse INI-style ``text`` into ``{section: {key: value}}``.

    Blank lines and lines starting with ``#`` or ``;`` are ignored.
    Keys that appear before any section header go into ``"default"``.
    """
    sections = {"default": {}}
    current = sections["default"]
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip()
            current = sections.setdefault(name, {})
            continue
        if "=" not in line:
            raise ValueError(f"line {lineno}: expected key=value")
        key, value = line.split("=", 1)
        current[key.strip()] = value.strip()
    return sections


def get(cfg, section, key, default=None):
    return cfg.get(section, {}).get(key, default)


def get_int(cfg, section, key, default=0):
    value = get(cfg, section, key)
    return default if value is None else int(value)


def get_bool(cfg, section, key, default=False):
    value = get(cfg, section, key)
    if value is None:
        return default
    return value.lower() in ("1", "true", "yes", "on")
