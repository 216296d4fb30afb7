"""--stats: how many records per level."""

from collections import Counter

from logscan.parsing.levels import ORDER, rank


def count_levels(records):
    return Counter(record.level for record in records)


def format_stats(counts):
    levels = sorted(counts, key=lambda level: (rank(level), level))
    width = max((len(level) for level in levels), default=0)
    lines = [f"{level:<{width}}  {counts[level]}" for level in levels]
    lines.append(f"{'total':<{width}}  {sum(counts.values())}")
    return "\n".join(lines)


__all__ = ["ORDER", "count_levels", "format_stats"]
