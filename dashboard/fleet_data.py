"""What the fleet page shows, as pure functions of a store and a time: daily reads and writes
(fleet total and by product line), instances by product line and by service over time, the
current instance mix, and the top businesses by QPS and by growth.

Days are whole days in the display time zone (the last one is yesterday: today is not over);
a day's reads are its mean read rate x 86,400."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dashboard.business_data import RangeError

DAYS_DEFAULT = 90
DAYS_MIN, DAYS_MAX = 7, 730
DAY = 86_400


def parse_days(value) -> int:
    """The ``?days=`` of the fleet page; a clear error names the accepted range."""
    if value in (None, ""):
        return DAYS_DEFAULT
    try:
        days = int(str(value))
    except ValueError:
        raise RangeError(f"days={value!r} is not a whole number of days; use {DAYS_MIN} to {DAYS_MAX}, "
                         f"e.g. ?days=365.") from None
    if not DAYS_MIN <= days <= DAYS_MAX:
        raise RangeError(f"days={days} is outside {DAYS_MIN}..{DAYS_MAX}; the fleet page shows at most two years.")
    return days


def day_window(now: int, days: int, tz: str) -> tuple[int, int]:
    """[start, end): the last ``days`` whole days in ``tz`` before today (local midnights)."""
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(now, zone).replace(hour=0, minute=0, second=0, microsecond=0)
    start = (today - timedelta(days=days)).replace(tzinfo=zone)
    return int(start.timestamp()), int(today.timestamp())


#: a day with fewer hours of data than this is left out (the first day of a backfill, an outage):
#: its mean would stand for hours it did not see
MIN_HOURS = 20


def daily_by_line(store, metric: str, start: int, end: int) -> pd.DataFrame:
    """[group, ts, value]: ``metric`` per day and product line (mean ops/s x 86,400), for days
    with at least ``MIN_HOURS`` hours of data."""
    days = max(1, (end - start) // DAY)
    hourly = store.aggregate("product_line", metric, start, end, max_points=days * 24)
    day = start + (hourly["ts"] - start) // DAY * DAY
    g = hourly.assign(ts=day).groupby(["group", "ts"], as_index=False)["value"].agg(["mean", "count"])
    g = g[g["count"] >= MIN_HOURS]
    return pd.DataFrame({"group": g["group"].to_numpy(object), "ts": g["ts"].to_numpy(np.int64),
                         "value": g["mean"].to_numpy(np.float64) * DAY})


def rw_coverage(store) -> dict:
    """How much of the fleet has a read/write split: clusters with reads/writes series against
    clusters with traffic series (Redis needs the Peakwatch add-on template in Zabbix)."""
    series = store.series()
    traffic = set(series.loc[series["metric"].isin(["qps", "proxy_qps"]), "cluster"])
    split = set(series.loc[series["metric"] == "reads", "cluster"]) & set(
        series.loc[series["metric"] == "writes", "cluster"])
    return {"clusters": len(traffic | split), "with_split": len(split)}


def reads_writes(store, start: int, end: int) -> dict:
    """Daily reads and writes by product line and for the whole fleet."""
    reads = daily_by_line(store, "reads", start, end)
    writes = daily_by_line(store, "writes", start, end)
    total = pd.concat([reads.groupby("ts")["value"].sum().rename("reads"),
                       writes.groupby("ts")["value"].sum().rename("writes")], axis=1).fillna(0.0)
    return {"reads": reads, "writes": writes,
            "total": total.rename_axis("ts").reset_index().sort_values("ts", ignore_index=True)}


def instance_history(store, start: int, end: int) -> dict:
    """Instances at the end of each day, summed by product line and by service."""
    ends = np.arange(start + DAY, end + 1, DAY, dtype=np.int64)
    counts = store.instance_counts(ends)
    by = {}
    for column in ("product_line", "service"):
        g = counts.groupby([column, "ts"], as_index=False)["instances"].sum()
        by[column] = g.rename(columns={column: "group", "instances": "value"})[["group", "ts", "value"]]
    return by


def instance_mix(store) -> pd.DataFrame:
    """[product_line, service, instances]: today's instances (removed ones left out)."""
    inst = store.instances()
    inst = inst[inst["removed_at"].isna()]
    cl = store.clusters()[["name", "service", "product_line"]]
    df = inst.merge(cl, left_on="cluster", right_on="name", suffixes=("", "_c"))
    return df.groupby(["product_line", "service"], as_index=False).size().rename(columns={"size": "instances"})


def growth(store, now: int, top: int = 15) -> pd.DataFrame:
    """Businesses by growth of their mean QPS: last 7 days against the 7 days a month earlier."""
    def mean(lo, hi):
        df = store.aggregate("business", "qps", lo, hi, max_points=7)
        return df.groupby("group")["value"].mean()
    recent = mean(now - 7 * DAY, now)
    before = mean(now - 37 * DAY, now - 30 * DAY)
    g = (recent / before - 1).dropna() * 100
    return g.sort_values(ascending=False).head(top).rename("growth").rename_axis("business").reset_index()


def fleet_data(store, now: int, days: int, tz: str, tiles: pd.DataFrame) -> dict:
    """Everything the page draws (``tiles``: the wall snapshot's per-business current QPS)."""
    start, end = day_window(now, days, tz)
    coverage = rw_coverage(store)
    rw = reads_writes(store, start, end) if coverage["with_split"] else None
    return {"days": days, "start": start, "end": end, "coverage": coverage, "rw": rw,
            "requests": None if rw is not None else daily_by_line(store, "qps", start, end),
            "history": instance_history(store, start, end), "mix": instance_mix(store),
            "top": tiles[["business", "qps"]].dropna().sort_values("qps", ascending=False).head(15),
            "growth": growth(store, now)}
