"""What the fleet page shows, as pure functions of a store and a time: daily reads and writes
(fleet total and by product line), instances by product line and by service over time, the
current instance mix, and the top businesses by QPS and by growth.

Days are whole days in the display time zone (the last one is yesterday: today is not over);
a day's reads are its mean read rate x 86,400."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from dashboard import labels as lb
from dashboard.business_data import RangeError

DAYS_DEFAULT = 90
DAYS_MIN, DAYS_MAX = 7, 730
DAY = 86_400


def parse_days(value, lang: str = "en") -> int:
    """The ``?days=`` of the fleet page; a clear error (in ``lang``) names the accepted range."""
    if value in (None, ""):
        return DAYS_DEFAULT
    try:
        days = int(str(value))
    except ValueError:
        raise RangeError(lb.t("days_not_whole", lang).format(value=value, lo=DAYS_MIN, hi=DAYS_MAX)) from None
    if not DAYS_MIN <= days <= DAYS_MAX:
        raise RangeError(lb.t("days_outside", lang).format(value=days, lo=DAYS_MIN, hi=DAYS_MAX))
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


#: past days are computed in blocks of this many days, cached for BLOCK_TTL: a two-year view
#: costs one block (plus the window's edges) once its older blocks have been computed
BLOCK_DAYS = 28
BLOCK_TTL = 6 * 3600
#: a block is only cached once it ends this long before now (late data lands within hours)
SETTLED = 2 * DAY

Memo = Callable[[str, int, Callable[[], pd.DataFrame]], pd.DataFrame]


def _pieces(start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut at a fixed grid of BLOCK_DAYS-day blocks (same phase as ``start``'s
    midnight), so windows of any length share their inner blocks."""
    size = BLOCK_DAYS * DAY
    phase = start % DAY
    cuts = [start]
    k = (start - phase) // size + 1
    while k * size + phase < end:
        cuts.append(k * size + phase)
        k += 1
    return list(zip(cuts, cuts[1:] + [end]))


def daily_by_line(store, metric: str, start: int, end: int, memo: Memo | None = None,
                  now: int | None = None) -> pd.DataFrame:
    """[group, ts, value]: ``metric`` per day and product line (mean ops/s x 86,400), for days
    with at least ``MIN_HOURS`` hours of data. With ``memo`` (a shared cache: key, ttl, compute),
    whole blocks that ended ``SETTLED`` before ``now`` are taken from it."""
    parts = []
    for lo, hi in _pieces(start, end):
        compute = (lambda lo=lo, hi=hi: store.daily("product_line", metric, lo, hi))
        whole = hi - lo == BLOCK_DAYS * DAY
        if memo is not None and whole and now is not None and hi <= now - SETTLED:
            parts.append(memo(f"fleet:daily:{store_key(store)}:{metric}:{lo}:{hi}", BLOCK_TTL, compute))
        else:
            parts.append(compute())
    df = pd.concat(parts, ignore_index=True)
    df = df[df["hours"] >= MIN_HOURS]
    return pd.DataFrame({"group": df["group"].to_numpy(object), "ts": df["ts"].to_numpy(np.int64),
                         "value": df["value"].to_numpy(np.float64) * DAY})


def rw_coverage(store) -> dict:
    """How much of the fleet has a read/write split: clusters with reads/writes series against
    clusters with traffic series (Redis needs the Peakwatch add-on template in Zabbix)."""
    series = store.series()
    traffic = set(series.loc[series["metric"].isin(["qps", "proxy_qps"]), "cluster"])
    split = set(series.loc[series["metric"] == "reads", "cluster"]) & set(
        series.loc[series["metric"] == "writes", "cluster"])
    return {"clusters": len(traffic | split), "with_split": len(split)}


def store_key(store) -> str:
    return str(getattr(store, "url", id(store)))


def reads_writes(store, start: int, end: int, memo: Memo | None = None, now: int | None = None) -> dict:
    """Daily reads and writes by product line and for the whole fleet."""
    reads = daily_by_line(store, "reads", start, end, memo, now)
    writes = daily_by_line(store, "writes", start, end, memo, now)
    total = pd.concat([reads.groupby("ts")["value"].sum().rename("reads"),
                       writes.groupby("ts")["value"].sum().rename("writes")], axis=1).fillna(0.0)
    return {"reads": reads, "writes": writes,
            "total": total.rename_axis("ts").reset_index().sort_values("ts", ignore_index=True)}


def instance_history(store, start: int, end: int, now: int) -> tuple[dict, pd.DataFrame]:
    """Instances at the end of each day and now (today so far), by product line and by service;
    and today's mix [product_line, service, instances] (the last of those counts)."""
    ends = np.arange(start + DAY, end + 1, DAY, dtype=np.int64)
    if now > end:
        ends = np.append(ends, now)
    counts = store.instance_counts(ends)
    by = {}
    for column in ("product_line", "service"):
        g = counts.groupby([column, "ts"], as_index=False)["instances"].sum()
        by[column] = g.rename(columns={column: "group", "instances": "value"})[["group", "ts", "value"]]
    mix = counts[(counts["ts"] == ends[-1]) & (counts["instances"] > 0)] if len(ends) else counts
    return by, mix[["product_line", "service", "instances"]].reset_index(drop=True)


def growth(store, now: int, top: int = 15) -> pd.DataFrame:
    """Businesses by growth of their mean client traffic (QPS; a Twemproxy pool's proxy QPS, not
    its backends' again): last 7 days against the 7 days a month earlier."""
    clusters = store.clusters()
    business = dict(zip(clusters["name"], clusters["business"]))
    pools = clusters["service"] == "twemproxy"
    fronts = [("qps", clusters.loc[~pools, "name"].tolist()), ("proxy_qps", clusters.loc[pools, "name"].tolist())]

    def mean(lo, hi):
        parts = [store.aggregate("cluster", metric, lo, hi, max_points=7, groups=names)
                 for metric, names in fronts if names]
        df = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["group", "ts", "value"])
        per_cluster = df.groupby("group")["value"].mean()
        return per_cluster.groupby(per_cluster.index.map(business)).sum(min_count=1)
    recent = mean(now - 7 * DAY, now)
    before = mean(now - 37 * DAY, now - 30 * DAY)
    g = (recent / before - 1).dropna() * 100
    return g.sort_values(ascending=False).head(top).rename("growth").rename_axis("business").reset_index()


def promotions_in(store, start: int, end: int, now: int) -> pd.DataFrame:
    """The calendar's promotions that start in [start, end) (their names label the spikes):
    [name, kind, start]."""
    cal = store.calendar(now=now)
    inside = cal[(cal["start"] >= start) & (cal["start"] < end)]
    return inside[["name", "kind", "start"]].sort_values("start").reset_index(drop=True)


def fleet_data(store, now: int, days: int, tz: str, tiles: pd.DataFrame, memo: Memo | None = None) -> dict:
    """Everything the page draws (``tiles``: the wall snapshot's per-business current QPS;
    ``memo``: the shared cache for settled blocks of days)."""
    start, end = day_window(now, days, tz)
    coverage = rw_coverage(store)
    rw = reads_writes(store, start, end, memo, now) if coverage["with_split"] else None
    history, mix = instance_history(store, start, end, now)
    return {"days": days, "start": start, "end": end, "coverage": coverage, "rw": rw,
            "requests": None if rw is not None else daily_by_line(store, "qps", start, end, memo, now),
            "history": history, "mix": mix, "promotions": promotions_in(store, start, end, now),
            "top": tiles[["business", "qps"]].dropna().sort_values("qps", ascending=False).head(15),
            "growth": growth(store, now)}
