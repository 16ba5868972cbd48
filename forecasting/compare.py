"""Promotion comparison: past promotions aligned on their start hour, and their lift table.

The relative axis is wall-clock hours from each promotion's start in the promotion's own time
zone (its start's tz), so a Beijing-midnight start is hour 0 whatever the series' time zone.
Lifts use the same measurement as the forecaster (:mod:`forecasting.lifts`), so the table and
the forecast agree.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from core.errors import ForecastError
from forecasting.baseline import quiet_mask
from forecasting.events import Event, check_events
from forecasting.lifts import disturbed_days, measure
from forecasting.series import DAY, check_same_clock, check_series, daily_peaks

HOUR = pd.Timedelta(hours=1)
ALIGN_COLUMNS = ["event", "kind", "offset_hours", "local_time", "value", "relative"]
TABLE_COLUMNS = ["name", "kind", "start", "baseline", "peak", "lift", "peak_time", "peak_offset_hours", "note"]


def _wall(index: pd.DatetimeIndex, tz) -> pd.DatetimeIndex:
    """Wall-clock times in ``tz`` without the zone (naive input stays as it is)."""
    if tz is None or index.tz is None:
        return index
    return index.tz_convert(tz).tz_localize(None)


def _offset_hours(index: pd.DatetimeIndex, start: pd.Timestamp) -> np.ndarray:
    wall = _wall(index, start.tz)
    origin = start.tz_localize(None) if start.tz is not None else start
    return ((wall - origin) / HOUR).to_numpy()


def _baselines(table: pd.DataFrame) -> dict[str, float]:
    return dict(zip(table["name"], table["baseline"]))


def align(series: pd.Series, events: Iterable[Event], before: pd.Timedelta = pd.Timedelta(days=3),
          after: pd.Timedelta = pd.Timedelta(days=2), today: bool = False) -> pd.DataFrame:
    """Long frame, one row per sample near each event: ``offset_hours`` from its start.

    ``relative`` is the value over the event's normal peak (1.0 = a normal day's peak), which
    makes promotions of different years comparable despite growth. With ``today=True`` the
    series' last ``before`` (up to its end) is added as event ``"today"``, hour 0 being the
    latest start of a day at the events' start hour, to overlay current traffic.
    """
    s, step = check_series(series)
    events = check_events(events)
    if not events:
        raise ForecastError("align needs at least one event; pass the promotions to compare.")
    check_same_clock(s, events[0].start)
    bases = _baselines(lift_table(s, events))
    frames = []
    for e in events:
        window = s[(s.index >= e.start - before) & (s.index < e.start + after)]
        frames.append(_rows(window, e.name, e.kind, e.start, bases.get(e.name, np.nan)))
    if today:
        frames.append(_today(s, step, events[-1], before))
    out = pd.concat([f for f in frames if not f.empty], ignore_index=True) if frames else None
    return out if out is not None else pd.DataFrame(columns=ALIGN_COLUMNS)


def _rows(window: pd.Series, name: str, kind: str, start: pd.Timestamp, baseline: float) -> pd.DataFrame:
    return pd.DataFrame({"event": name, "kind": kind, "offset_hours": _offset_hours(window.index, start),
                         "local_time": _wall(window.index, start.tz), "value": window.to_numpy(),
                         "relative": window.to_numpy() / baseline if baseline > 0 else np.nan},
                        columns=ALIGN_COLUMNS)


def _today(s: pd.Series, step: pd.Timedelta, last: Event, before: pd.Timedelta) -> pd.DataFrame:
    end = s.index[-1]
    days_since = np.floor((end - last.start) / DAY)
    day0 = last.start + days_since * DAY
    window = s[s.index >= day0 - before]
    peaks = daily_peaks(s, step, day0)
    recent = peaks.peak[(peaks.day < 0) & (peaks.day >= -7)]
    baseline = float(np.mean(recent)) if len(recent) else np.nan
    return _rows(window, "today", "today", day0, baseline)


def lift_table(series: pd.Series, events: Iterable[Event]) -> pd.DataFrame:
    """Per event: normal peak (baseline), peak, lift = peak / baseline, time and hour of the peak.

    ``start`` and ``peak_time`` are in the event's own time zone.
    """
    s, step = check_series(series)
    events = check_events(events)
    if not events:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    check_same_clock(s, events[0].start)
    peaks = daily_peaks(s, step, events[-1].start)
    table = measure(s, peaks, events, quiet_mask(peaks, disturbed_days(peaks, events))).frame()
    table["peak_offset_hours"] = [
        float(_offset_hours(pd.DatetimeIndex([t]), e.start)[0]) if isinstance(t, pd.Timestamp) else np.nan
        for e, t in zip(events, table["peak_time"])]
    return table[TABLE_COLUMNS]
