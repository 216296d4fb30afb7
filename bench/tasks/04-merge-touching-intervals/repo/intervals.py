"""Utilities for closed numeric intervals given as (start, end) tuples."""


def merge_intervals(intervals):
    """Merge overlapping or touching intervals; return them sorted."""
    merged = []
    for start, end in sorted(intervals):
        if start > end:
            raise ValueError(f"invalid interval ({start}, {end})")
        if merged and start < merged[-1][1]:
            last_start, last_end = merged[-1]
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return merged


def total_covered(intervals):
    """Total length covered by the union of ``intervals``."""
    return sum(end - start for start, end in merge_intervals(intervals))


def free_slots(busy, day_start, day_end):
    """Return the gaps between busy intervals inside [day_start, day_end]."""
    slots = []
    cursor = day_start
    for start, end in merge_intervals(busy):
        if start > cursor:
            slots.append((cursor, min(start, day_end)))
        cursor = max(cursor, end)
        if cursor >= day_end:
            break
    if cursor < day_end:
        slots.append((cursor, day_end))
    return slots
