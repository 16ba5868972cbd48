"""The daily NOC report's content: yesterday's peak per business against its normal peak and the
same day a week before, the top movers, and the red flags standing now (``alerting.flags``, the
wall's own rules). Read from the store; ``reports.html.daily`` renders it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from alerting import flags as fl

DAY = 86_400
NORMAL_DAYS = 7          # the normal peak: median of the daily peaks of the week before yesterday
TOP_MOVERS = 10


@dataclass
class Daily:
    day: pd.Timestamp            # yesterday's local midnight
    peaks: pd.DataFrame          # [business, product_line, peak, normal, vs_normal, growth], by peak
    movers: pd.DataFrame         # the TOP_MOVERS rows of ``peaks`` with the largest |growth|
    fleet_peak: float
    fleet_growth: float
    flags: pd.DataFrame          # [business, severity, reason] of flagged businesses, worst first
    flag_counts: dict
    newest: pd.Timestamp | None = None    # newest sample in the store (said when the day has none)


def _newest(store) -> pd.Timestamp | None:
    latest = store.latest(metric="qps")
    return None if latest.empty else pd.Timestamp(int(latest["ts"].max()), unit="s", tz="UTC")


def _local_days(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    """[group, ts, value] hourly -> [group, day (local midnight), peak]."""
    day = pd.to_datetime(frame["ts"], unit="s", utc=True).dt.tz_convert(tz).dt.floor("D")
    return frame.assign(day=day).groupby(["group", "day"], as_index=False)["value"].max().rename(
        columns={"value": "peak"})


def _peak_table(days: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    wide = days.pivot_table(index="group", columns="day", values="peak", aggfunc="max")
    cols = [c for c in wide.columns if c < day][-NORMAL_DAYS:]
    week_ago = day - pd.Timedelta(days=7)
    nothing = pd.Series(np.nan, index=wide.index)
    out = pd.DataFrame({"peak": wide[day] if day in wide else nothing,
                        "normal": wide[cols].median(axis=1) if cols else nothing,
                        "week_ago": wide[week_ago] if week_ago in wide else nothing}, index=wide.index)
    out["vs_normal"] = out["peak"] / out["normal"] - 1
    out["growth"] = out["peak"] / out["week_ago"] - 1
    return out


def live_flags(store, now: int, stale_after_s: int) -> pd.DataFrame:
    """Every live series with its latest value and flag (the wall's evaluation)."""
    series = store.series()
    series = series[series["removed_at"].isna()].reset_index(drop=True)
    latest = store.latest().set_index("series_id")
    series = series.assign(ts=series["id"].map(latest["ts"]).astype(float),
                           value=series["id"].map(latest["value"]).astype(float))
    return fl.evaluate(series, now, stale_after_s)


def build(store, now: int, tz: str, stale_after_s: int, day: str | None = None) -> Daily:
    """The report for the local day before ``now`` (UTC epoch seconds) in ``tz``, or for ``day``
    (``YYYY-MM-DD``); flags are those standing at ``now``."""
    if day is None:
        day = pd.Timestamp(now, unit="s", tz="UTC").tz_convert(tz).floor("D") - pd.Timedelta(days=1)
    else:
        day = pd.Timestamp(day).tz_localize(tz) if pd.Timestamp(day).tzinfo is None else pd.Timestamp(day)
    today = day + pd.Timedelta(days=1)
    start = int((day - pd.Timedelta(days=NORMAL_DAYS + 1)).timestamp())
    end = int(today.timestamp())
    biz = _peak_table(_local_days(store.hourly("business", "qps", start, end), tz), day)
    lines = store.businesses().set_index("name")["product_line"]
    peaks = (biz.assign(business=biz.index, product_line=biz.index.map(lines)).dropna(subset=["peak"])
             .sort_values("peak", ascending=False).reset_index(drop=True))
    peaks = peaks[["business", "product_line", "peak", "normal", "vs_normal", "growth"]]
    movers = peaks.reindex(peaks["growth"].abs().sort_values(ascending=False).index).head(TOP_MOVERS)
    fleet = _peak_table(_local_days(store.hourly("fleet", "qps", start, end), tz), day)
    worst = fl.worst_of(live_flags(store, now, stale_after_s), "business", now)
    flagged = worst[worst["severity"].isin(["crit", "warn", "stale"])].copy()
    flagged["_r"] = flagged["severity"].map(fl.RANK)
    flagged = flagged.sort_values(["_r", "business"], ascending=[False, True])[["business", "severity", "reason"]]
    return Daily(day=day, peaks=peaks, movers=movers.reset_index(drop=True),
                 fleet_peak=float(fleet["peak"].iloc[0]) if len(fleet) else np.nan,
                 fleet_growth=float(fleet["growth"].iloc[0]) if len(fleet) else np.nan, newest=_newest(store),
                 flags=flagged.reset_index(drop=True), flag_counts=worst["severity"].value_counts().to_dict())
