"""Events (big promotions, holidays, launches) as the forecaster sees them.

An :class:`Event` is a named window ``[start, end)`` of a given ``kind`` (``"11.11"``,
``"6.18"``, ``"new-year"``...), optionally preceded by a pre-heat period whose traffic is not
"normal" either. Timestamps are pandas Timestamps; a time-zone-aware start carries the event's
own time zone (promotions start at Beijing midnight).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import pandas as pd

from core.errors import ForecastError


def _timestamp(value, field: str, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ForecastError(f"event '{name}': {field}={value!r} is not a timestamp; pass a "
                            f"pd.Timestamp or an ISO string such as '2025-11-11 00:00'.") from exc
    if ts is pd.NaT:
        raise ForecastError(f"event '{name}': {field} is missing (NaT); give the event a real {field}.")
    return ts


@dataclass(frozen=True)
class Event:
    """One event window ``[start, end)``.

    Args:
        name: label shown in tables, e.g. ``"11.11 2025"``.
        kind: what repeats, e.g. ``"11.11"``; lifts of the same kind are pooled first.
        start: first moment of the event (pandas Timestamp or anything it accepts).
        end: end of the event, exclusive.
        preheat: how long before ``start`` traffic is already raised (excluded from baselines).
    """

    name: str
    kind: str
    start: pd.Timestamp
    end: pd.Timestamp
    preheat: pd.Timedelta = pd.Timedelta(0)

    def __post_init__(self) -> None:
        start = _timestamp(self.start, "start", self.name)
        end = _timestamp(self.end, "end", self.name)
        if (start.tzinfo is None) != (end.tzinfo is None):
            raise ForecastError(f"event '{self.name}': start and end mix time-zone-aware and naive "
                                f"timestamps; give both a time zone or neither.")
        if end <= start:
            raise ForecastError(f"event '{self.name}': end {end} is not after start {start}; "
                                f"end is exclusive, e.g. start + 1 day for a one-day sale.")
        preheat = pd.Timedelta(self.preheat)
        if preheat < pd.Timedelta(0):
            raise ForecastError(f"event '{self.name}': preheat {preheat} is negative; use 0 or a "
                                f"positive duration such as pd.Timedelta(days=3).")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        object.__setattr__(self, "preheat", preheat)
        # computed once: the fleet runner asks for it per series and per event (not a field)
        object.__setattr__(self, "_quiet_from", start - preheat)

    @property
    def quiet_from(self) -> pd.Timestamp:
        """Start of the disturbed period (pre-heat included)."""
        return self._quiet_from

    @classmethod
    def from_promotion(cls, promo) -> "Event":
        """Build from a ``store.inventory_types.Promotion`` or a ``store.promotions()`` row."""
        get = promo.get if isinstance(promo, dict) else (lambda k: getattr(promo, k))
        tz = get("tz") or "UTC"
        return cls(name=str(get("name")), kind=str(get("kind")),
                   start=pd.Timestamp(int(get("start")), unit="s", tz="UTC").tz_convert(tz),
                   end=pd.Timestamp(int(get("end")), unit="s", tz="UTC").tz_convert(tz),
                   preheat=pd.Timedelta(days=int(get("preheat_days") or 0)))


def events_from_frame(frame: pd.DataFrame) -> list[Event]:
    """Events from a ``store.promotions()`` DataFrame (epoch-second start/end, tz, preheat_days)."""
    return [Event.from_promotion(row) for row in frame.to_dict("records")]


def check_events(events: Iterable[Event]) -> list[Event]:
    """Return the events sorted by start; overlapping or non-Event items are a ForecastError."""
    events = list(events)
    for item in events:
        if not isinstance(item, Event):
            raise ForecastError(f"events must be forecasting.Event objects, got {type(item).__name__}; "
                                f"build them with Event(name=..., kind=..., start=..., end=...).")
    aware = {e.start.tzinfo is not None for e in events}
    if len(aware) > 1:
        raise ForecastError("events mix time-zone-aware and naive timestamps; give every event a "
                            "time zone (tz_localize) or none.")
    ordered = sorted(events, key=lambda e: e.start)
    for before, after in zip(ordered, ordered[1:]):
        if after.start < before.end:
            raise ForecastError(f"events '{before.name}' ({before.start} to {before.end}) and "
                                f"'{after.name}' (from {after.start}) overlap; merge them into one "
                                f"event or fix their end times.")
    return ordered


def pick_target(events: Iterable[Event], cutoff: pd.Timestamp, which: str | None = None) -> Event:
    """The promotion to forecast: the next one after ``cutoff``, or the next one named ``which``
    (an exact name such as ``"11.11 2026"``, or a kind such as ``"11.11"``).

    Raises:
        ForecastError: no such promotion after the cutoff; the message lists the upcoming ones
            (or says a named one is past and how to score it instead).
    """
    events = sorted(events, key=lambda e: e.start)
    upcoming = [e for e in events if e.start > cutoff]
    if which:
        chosen = [e for e in upcoming if which in (e.name, e.kind)]
        if chosen:
            return chosen[0]
        past = [e for e in events if e.name == which]
        names = ", ".join(e.name for e in upcoming) or "none"
        if past:
            raise ForecastError(f"promotion {which!r} started at {past[0].start}, before the newest data "
                                f"({cutoff}); a forecast is for a coming promotion: pick one of: {names} "
                                f"(or score past ones with `forecast --backtest`).")
        raise ForecastError(f"promotion={which!r} is not an upcoming promotion; pick one of: {names}.")
    if not upcoming:
        raise ForecastError(f"the promotion calendar has no promotion after the newest data ({cutoff}); add "
                            f"the next one (`app.py promotions`) before forecasting.")
    return upcoming[0]


def events_from_records(records: Iterable[dict], tz=None) -> list[Event]:
    """Events from plain records (``name``, ``kind``, ``start``, ``end``, optional ``preheat_days``),
    e.g. a JSON list of holidays; ``tz`` localises naive times. Sorted and checked."""
    out = []
    for r in records:
        start, end = pd.Timestamp(r["start"]), pd.Timestamp(r["end"])
        if tz is not None and start.tzinfo is None:
            start, end = start.tz_localize(tz), end.tz_localize(tz)
        out.append(Event(name=str(r["name"]), kind=str(r["kind"]), start=start, end=end,
                         preheat=pd.Timedelta(days=float(r.get("preheat_days") or 0))))
    return check_events(out)
