"""Input series: validation, regular step, and the daily-peak view the model works on.

The forecaster accepts any pandas Series with a DatetimeIndex at a regular step from one
minute to one day, in any units. Gaps are allowed (they become missing days); a series whose
timestamps are not on one step is refused with the resample call that fixes it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import ForecastError

DAY = pd.Timedelta(days=1)
DAY_NS = DAY.value


def _describe(obj) -> str:
    return type(obj).__name__


def check_series(series, notes: bool = False):
    """Validate ``series``; return it sorted, as float, with its step (and, with ``notes=True``,
    what was done to it in words).

    Duplicate timestamps (a sample sent twice, a local-time series' repeated hour when the clocks
    go back) are kept once, with their maximum: the forecast is of peaks.

    Raises:
        ForecastError: not a Series, empty, no DatetimeIndex, non-numeric values, an irregular
            step or a step coarser than a day.
    """
    if isinstance(series, pd.DataFrame):
        raise ForecastError("series is a DataFrame; pass one column, e.g. frame['qps'].")
    if not isinstance(series, pd.Series):
        raise ForecastError(f"series must be a pandas Series with a DatetimeIndex, got {_describe(series)}.")
    if series.empty:
        raise ForecastError("series is empty; a forecast needs at least a few weeks of history.")
    if not isinstance(series.index, pd.DatetimeIndex):
        hint = ("pd.to_datetime(s.index, unit='s', utc=True)" if pd.api.types.is_numeric_dtype(series.index)
                else "pd.to_datetime(s.index)")
        raise ForecastError(f"series index is {_describe(series.index)}, not a DatetimeIndex; "
                            f"convert it with s.index = {hint}.")
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise ForecastError(f"series values are {series.dtype}, not numbers; convert them with "
                            f"pd.to_numeric(s, errors='coerce').")
    if series.index.hasnans:
        raise ForecastError("series index has missing timestamps (NaT); drop those rows first.")
    # a copy (astype, or shallow when already float) so the caller's index is never touched
    s = series.astype(float) if series.dtype != np.float64 else series.copy(deep=False)
    if not s.index.is_monotonic_increasing:
        s = s.sort_index()
    if s.index.unit != "ns":
        s.index = s.index.as_unit("ns")  # pandas 3 keeps the input's resolution; day arithmetic is in ns
    said = []
    finite = np.isfinite(s.to_numpy())
    if not finite.all():
        s = s[finite]
    if s.empty:
        raise ForecastError("series has no finite values; it is all NaN or infinite.")
    if s.index.has_duplicates:
        n = int(s.index.duplicated().sum())
        s = s.groupby(level=0, sort=False).max()
        said.append(f"{n} duplicate timestamp(s) kept once (their maximum)")
    step = _step(s)
    return (s, step, said) if notes else (s, step)


def _step(s: pd.Series) -> pd.Timedelta:
    if len(s) < 2:
        raise ForecastError("series has a single point; a forecast needs at least a few weeks of history.")
    diffs = np.diff(s.index.asi8)
    step = int(np.median(diffs))
    off_step = np.count_nonzero(diffs % step)
    if off_step > 0.01 * len(diffs):
        raise ForecastError(f"series step is irregular ({off_step} of {len(diffs)} gaps are not a "
                            f"multiple of the usual {pd.Timedelta(step)}); resample it first, e.g. "
                            f"s.resample('1h').mean().")
    if step > DAY_NS:
        raise ForecastError(f"series step is {pd.Timedelta(step)}, coarser than a day; the model needs "
                            f"daily or finer data (minutes, hours or days).")
    return pd.Timedelta(step)


def check_same_clock(series: pd.Series, anchor: pd.Timestamp) -> None:
    """Series and events must both be time-zone-aware or both naive."""
    if (series.index.tz is None) != (anchor.tzinfo is None):
        which = "naive" if series.index.tz is None else "time-zone-aware"
        raise ForecastError(f"series index is {which} but the events are not; localise one side, e.g. "
                            f"s.index = s.index.tz_localize('UTC') or give the events naive timestamps.")


@dataclass(frozen=True)
class DailyPeaks:
    """Per-day maxima on days counted from ``anchor`` (day 0 starts at the anchor).

    Days follow the anchor's time of day, so a promotion starting at Beijing midnight is
    compared with whole Beijing days, whatever the series' own time zone.
    """

    anchor: pd.Timestamp
    day: np.ndarray        # int day numbers with enough data, ascending
    peak: np.ndarray       # max of the series on that day

    def day_of(self, ts: pd.Timestamp) -> int:
        return int((ts.value - self.anchor.value) // DAY_NS)

    def day_after(self, ts: pd.Timestamp | int) -> int:
        """First day that starts at or after ``ts`` (a Timestamp or epoch ns; for exclusive ends)."""
        return -int((self.anchor.value - (ts if isinstance(ts, int) else ts.value)) // DAY_NS)


def daily_peaks(s: pd.Series, step: pd.Timedelta, anchor: pd.Timestamp) -> DailyPeaks:
    """Max per anchor-aligned day; days with less than half their samples are left out."""
    day = (s.index.asi8 - anchor.value) // DAY_NS
    values = s.to_numpy()
    if len(day) > 1 and not (np.diff(day) >= 0).all():      # the index is sorted by check_series
        order = np.argsort(day, kind="stable")
        day, values = day[order], values[order]
    # day numbers are sorted: each day is one run, its max one reduceat
    first = np.flatnonzero(np.r_[True, day[1:] != day[:-1]]) if len(day) else np.zeros(0, dtype=np.intp)
    uniq = day[first]
    counts = np.diff(np.r_[first, len(day)])
    peaks = np.maximum.reduceat(values, first) if len(first) else np.zeros(0)
    expected = max(1, DAY_NS // step.value)
    keep = counts * 2 >= expected
    return DailyPeaks(anchor=anchor, day=uniq[keep].astype(int), peak=peaks[keep])


def gap_fraction(s: pd.Series, step: pd.Timedelta, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Share of expected samples missing in ``[start, end]``."""
    lo, hi = np.searchsorted(s.index.asi8, [start.value, end.value], side="right")
    expected = int((end - start) / step) + 1
    return 1.0 - min(1.0, (hi - lo) / expected) if expected > 0 else 0.0
