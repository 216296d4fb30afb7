"""Log levels and their order."""

ORDER = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]

ALIASES = {"WARNING": "WARN", "ERR": "ERROR", "CRITICAL": "FATAL", "CRIT": "FATAL"}


def normalise(level):
    level = level.strip().upper()
    return ALIASES.get(level, level)


def rank(level):
    """Position of a level in ORDER; unknown levels rank like INFO."""
    level = normalise(level)
    return ORDER.index(level) if level in ORDER else ORDER.index("INFO")
