"""Promotions found in the fleet's own traffic, for the user to confirm.

A day whose peak stands far above the days around it (``min_lift`` times the median daily peak
of the four weeks centred on it) and that no calendar promotion covers is a suggestion. Runs of
such days are one suggestion (its first day). A suggestion's kind is its month and day ("4.19");
when the same day stands out in several years, it is suggested as a yearly promotion.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = ["name", "kind", "start", "date", "peak", "normal", "lift", "years"]
MIN_HOURS = 20          # a day needs this many hours of data to have a peak
WINDOW_DAYS = 29


def daily_peaks(hourly: pd.Series, tz: str) -> pd.Series:
    """Peak of each local day with at least MIN_HOURS hours of data (index: local midnight)."""
    if hourly.empty:
        return pd.Series(dtype="float64")
    local = hourly.tz_convert(tz) if hourly.index.tz is not None else hourly.tz_localize("UTC").tz_convert(tz)
    days = local.groupby(local.index.normalize())
    peaks = days.max()
    return peaks[days.count() >= MIN_HOURS]


def suggest(hourly: pd.Series, calendar: pd.DataFrame, tz: str, min_lift: float = 1.5) -> pd.DataFrame:
    """Suggested promotions from an hourly traffic series (UTC index) not covered by ``calendar``
    (the store's calendar frame: start, end, preheat_days). Columns :data:`COLUMNS`."""
    peaks = daily_peaks(hourly, tz)
    if len(peaks) < WINDOW_DAYS:
        return pd.DataFrame(columns=COLUMNS)
    normal = peaks.rolling(WINDOW_DAYS, center=True, min_periods=WINDOW_DAYS // 2).median()
    lift = peaks / normal
    hot = lift[lift >= min_lift].dropna()
    covered = np.zeros(len(hot), bool)
    starts = hot.index.tz_convert("UTC").as_unit("s").asi8.astype(np.int64)
    for r in calendar.to_dict("records"):
        lo = int(r["start"]) - int(r.get("preheat_days") or 0) * 86400 - 86399
        covered |= (starts >= lo) & (starts < int(r["end"]) + 86400)
    hot = hot[~covered]
    rows, last = [], None
    for day, value in hot.items():
        if last is not None and (day - last).days == 1:          # the same event, a day later
            last = day
            continue
        last = day
        kind = f"{day.month}.{day.day}"
        rows.append({"name": f"{kind} {day.year}", "kind": kind, "start": int(day.timestamp()),
                     "date": day.strftime("%Y-%m-%d"), "peak": float(peaks[day]), "normal": float(normal[day]),
                     "lift": float(value)})
    out = pd.DataFrame(rows, columns=COLUMNS[:-1])
    out["years"] = out.groupby("kind")["kind"].transform("size") if len(out) else []
    return out[COLUMNS].reset_index(drop=True)


def suggest_from_store(store, tz: str, min_lift: float = 1.5, days: int = 800) -> pd.DataFrame:
    """Suggestions over the fleet's summed qps (hourly means of the rollups)."""
    from forecasting.fleet import last_data_ts
    end = last_data_ts(store)
    frame = store.aggregate("fleet", "qps", end - days * 86400, end + 1, max_points=days * 24 + 48)
    if frame.empty:
        return pd.DataFrame(columns=COLUMNS)
    hourly = pd.Series(frame["value"].to_numpy(), index=pd.to_datetime(frame["ts"].to_numpy(), unit="s", utc=True))
    return suggest(hourly, store.calendar(now=end), tz, min_lift)
