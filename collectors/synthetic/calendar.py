"""The big-promotion calendar of the synthetic fleet (and a sensible default for a real one).

Four yearly promotions, each starting at Beijing midnight of its day:

    kind    day         pre-heat   length
    11.11   Nov 11      10 days    1 day
    12.12   Dec 12       3 days    1 day
    6.18    Jun 18       7 days    1 day
    4.19    Apr 19       2 days    1 day   (the anniversary sale)

``start``/``end`` are UTC epoch seconds; the pre-heat runs over the ``preheat_days`` days before
``start``.
"""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from store.inventory_types import Promotion

TZ = "Asia/Shanghai"
DAY = 86_400

#: kind -> (month, day, pre-heat days, length in days)
KINDS: dict[str, tuple[int, int, int, int]] = {
    "11.11": (11, 11, 10, 1),
    "12.12": (12, 12, 3, 1),
    "6.18": (6, 18, 7, 1),
    "4.19": (4, 19, 2, 1),
}


def beijing_midnight(year: int, month: int, day: int) -> int:
    """UTC epoch seconds of 00:00 Asia/Shanghai on that calendar day."""
    return int(dt.datetime(year, month, day, tzinfo=ZoneInfo(TZ)).timestamp())


def promotion(kind: str, year: int) -> Promotion:
    """The promotion of ``kind`` ("11.11", "12.12", "6.18" or "4.19") in ``year``."""
    try:
        month, day, preheat, length = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown promotion kind {kind!r}; use one of {', '.join(KINDS)}") from None
    start = beijing_midnight(year, month, day)
    return Promotion(name=f"{kind} {year}", kind=kind, start=start, end=start + length * DAY,
                     preheat_days=preheat, tz=TZ)


def promotions_between(start: int, end: int) -> list[Promotion]:
    """Every calendar promotion whose pre-heat or event overlaps [start, end), by start time."""
    first = dt.datetime.fromtimestamp(start, dt.timezone.utc).year - 1
    last = dt.datetime.fromtimestamp(end, dt.timezone.utc).year + 1
    found = [promotion(kind, year) for year in range(first, last + 1) for kind in KINDS]
    found = [p for p in found if p.start - p.preheat_days * DAY < end and p.end > start]
    return sorted(found, key=lambda p: p.start)


def default_promotions(now: int, years: float = 2.0) -> list[Promotion]:
    """Promotions of the last ``years`` years before ``now`` plus the next one of each kind.

    A promotion in progress at ``now`` counts as past. Sorted by start.
    """
    since = int(now - years * 365.25 * DAY)
    past = [p for p in promotions_between(since, now + 1) if p.start >= since and p.start <= now]
    upcoming = []
    for kind in KINDS:
        year = dt.datetime.fromtimestamp(now, dt.timezone.utc).year - 1
        nxt = promotion(kind, year)
        while nxt.start <= now:
            year += 1
            nxt = promotion(kind, year)
        upcoming.append(nxt)
    return sorted(past + upcoming, key=lambda p: p.start)
