"""The wall's data (also the flags and Zabbix problems the business page shows): pure functions of a
store, no Dash, no cache. ``dashboard.page_cache`` runs them through the shared cache, so that many
viewers (and gunicorn workers) cost about one query.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from alerting import flags as fl

SPARK_SECONDS = 2 * 3600
#: a threshold rule's warn reaches the wall once it has fired this long (a one-minute blip never
#: does); crit, stale, Zabbix problems and deviations show at once
SETTLE_S = 120
#: a threshold rule's warn or crit stays on the wall this long after its alert resolved, in its
#: place, marked "clearing": a flag that flaps (fires, resolves, fires again) does not blink or move
HOLD_S = 300
SPARK_POINTS = 24
WEEK = 7 * 86400


def front_qps_series(series: pd.DataFrame) -> pd.DataFrame:
    """The series that carry a cluster's client traffic: proxy_qps for Twemproxy pools (their
    backends' qps would count requests twice), qps otherwise; cluster-level where present."""
    live = series[series["removed_at"].isna()]
    front = np.where(live["cluster_service"] == "twemproxy", "proxy_qps", "qps")
    s = live[live["metric"].to_numpy() == front]
    cluster_level = s["instance"].isna()
    has_cluster = set(s.loc[cluster_level, "cluster"])
    return s[cluster_level | ~s["cluster"].isin(has_cluster)]


def _sum_per_business(chosen: pd.DataFrame, values: pd.DataFrame) -> pd.Series:
    merged = values.merge(chosen[["id", "business"]], left_on="series_id", right_on="id")
    return merged.groupby("business")["value"].sum(min_count=1)


def _value_at(store, ids: list[int], at: int, window: int = 600) -> pd.DataFrame:
    """Each series' last value in (at - window, at]."""
    df = store.read_range(ids, at - window, at + 1, max_points=window // 60 + 1)
    if df.empty:
        return df
    return df.sort_values("ts").drop_duplicates("series_id", keep="last")


def sparklines(store, chosen: pd.DataFrame, now: int) -> dict[str, list[float]]:
    """Business -> summed front QPS over the last two hours, ``SPARK_POINTS`` buckets."""
    df = store.read_range(chosen["id"].tolist(), now - SPARK_SECONDS, now + 1, max_points=SPARK_POINTS)
    if df.empty:
        return {}
    owner = pd.Series(chosen["business"].to_numpy(), index=chosen["id"].to_numpy())
    b_codes, b_names = pd.factorize(owner.reindex(df["series_id"].to_numpy()).to_numpy())
    t_codes, t_values = pd.factorize(df["ts"].to_numpy(), sort=True)
    grid = np.full((len(b_names), len(t_values)), np.nan)
    np.add.at(np.nan_to_num(grid, copy=False), (b_codes, t_codes), df["value"].to_numpy())
    seen = np.zeros_like(grid, dtype=bool)
    seen[b_codes, t_codes] = True
    grid = np.round(grid, 1)
    return {b: grid[i, seen[i]].tolist() for i, b in enumerate(b_names)}


def fast_category(column: pd.Series) -> pd.Categorical:
    """Categorical via factorize on plain objects (pandas' own astype compares strings slowly)."""
    codes, uniques = pd.factorize(column.to_numpy(object))
    return pd.Categorical.from_codes(codes, pd.Index(uniques, dtype=object))


@dataclass
class Plan:
    """What the wall needs from the inventory, prepared once (it changes rarely; values change
    every minute): live series with categorical columns, the client-traffic series, businesses."""
    series: pd.DataFrame
    front: pd.DataFrame
    businesses: pd.DataFrame
    owners: pd.DataFrame | None = None   # live instances [name, cluster, business] (Zabbix problems)


def inventory_plan(store) -> Plan:
    series = store.series()
    series = series[series["removed_at"].isna()]
    cols = ["id", "metric", "service", "role", "star", "cluster", "business", "product_line", "instance"]
    live = series[cols].reset_index(drop=True)
    # categoricals: the flag rules compare codes, not hundreds of thousands of strings
    for col in ("metric", "service", "role", "business", "cluster", "product_line"):
        live[col] = fast_category(live[col])
    live["instance"] = live["instance"].to_numpy(object)
    live["fresh_group"] = fl.freshness_groups(live)    # staleness is per instance: computed once here
    front = front_qps_series(series)[["id", "business"]].reset_index(drop=True)
    biz = store.businesses()[["name", "product_line", "star"]].rename(columns={"name": "business"})
    return Plan(live, front, biz, _owners(store))


def _owners(store) -> pd.DataFrame:
    """Live instances [name, cluster, business]: who a Zabbix problem's host belongs to."""
    inst = store.instances()
    return inst.loc[inst["removed_at"].isna(), ["name", "cluster", "business"]].reset_index(drop=True)


def problem_flags(store, plan: Plan | None = None) -> pd.DataFrame:
    """Active Zabbix problems of collected instances as flags (``alerting.flags.problem_flags``)."""
    owners = plan.owners if plan is not None and plan.owners is not None else _owners(store)
    return fl.problem_flags(store.problems(), owners)


def latest_flags(store, settings, now: int, plan: Plan | None = None) -> pd.DataFrame:
    """Every live series with its latest value and flag."""
    plan = plan or inventory_plan(store)
    df = plan.series
    latest = store.latest()
    # align latest values to the plan's rows by id (both sorted by id in practice; searchsorted either way)
    order = np.argsort(latest["series_id"].to_numpy(), kind="stable")
    lid = latest["series_id"].to_numpy()[order]
    pos = np.searchsorted(lid, df["id"].to_numpy())
    pos = np.clip(pos, 0, max(len(lid) - 1, 0))
    found = (lid[pos] == df["id"].to_numpy()) if len(lid) else np.zeros(len(df), bool)
    ts = np.where(found, latest["ts"].to_numpy(np.float64)[order][pos] if len(lid) else 0.0, np.nan)
    val = np.where(found, latest["value"].to_numpy(np.float64)[order][pos] if len(lid) else 0.0, np.nan)
    df = df.assign(ts=ts, value=val)
    stale_after = settings.stale_after_intervals * settings.collect_interval
    return fl.evaluate(df, now, stale_after)


def own_threshold(alerts: pd.DataFrame) -> pd.Series:
    """True for alerts of Peakwatch's own threshold rules, those judged on each sample that can
    flap: a Zabbix problem has its trigger's own delay and recovery, a deviation is judged per hour,
    staleness is not a value."""
    return alerts["metric"].fillna("").astype(str).ne("") & alerts["rule"].ne("deviation")


def wall_alerts(open_alerts: pd.DataFrame, resolved: pd.DataFrame, now: int) -> pd.DataFrame:
    """The stored alerts the wall shows (docs/dashboard.md "Flags that hold stay put").

    Args:
        open_alerts: firing and acknowledged alerts (``Store.open_alerts(include_pending=False)``).
        resolved: alerts resolved lately (``Store.alerts(since=now - HOLD_S, state="resolved")``).
    Returns:
        open alerts plus threshold warns and crits (``own_threshold``) resolved in the last
        ``HOLD_S`` s (``held`` True), less threshold warns that have not settled: such a warn shows
        once it has fired ``SETTLE_S`` s, or once its target (dedup key) fired twice within
        ``HOLD_S`` (it flaps: it holds). Everything else shows as the engine stored it.
    """
    cols = list(open_alerts.columns) + ["held"]
    recent = resolved.iloc[0:0] if resolved.empty else resolved[
        (resolved["resolved_at"] >= now - HOLD_S) & resolved["severity"].isin(("warn", "crit"))
        & own_threshold(resolved)]
    a = pd.concat([df for df in (open_alerts.assign(held=False), recent.assign(held=True)) if len(df)],
                  ignore_index=True) if len(open_alerts) or len(recent) else pd.DataFrame(columns=cols)
    if a.empty:
        return a
    fired = a["fired_at"].astype("int64")
    end = a["resolved_at"].where(a["held"], now).astype("float64")
    flaps = a.groupby("dedup_key")["dedup_key"].transform("size") >= 2
    settled = (end - fired >= SETTLE_S) | flaps | (a["severity"] != "warn") | ~own_threshold(a)
    return a[settled].reset_index(drop=True)


def traffic_trends(store, plan: Plan, now: int) -> dict:
    """Business -> QPS a week ago ("week") and the two-hour sparkline ("spark"). These move once
    per collection pass, so callers may reuse them for the refreshes in between."""
    chosen = plan.front
    ids = chosen["id"].tolist()
    return {"week": _sum_per_business(chosen, _value_at(store, ids, now - WEEK)),
            "spark": sparklines(store, chosen, now)}


def carry_since(tiles: pd.DataFrame, previous: dict | None, now: int) -> pd.Series:
    """Since when each business has shown its severity: the alerts' onset, or the previous
    snapshot's when the business showed the same severity then (a flapping flag's alerts are
    many, one after the other; the flag on the wall is one). ``previous``: business ->
    (severity, since), kept for ``HOLD_S`` (``dashboard.page_cache``)."""
    since = tiles["since"].fillna(now).astype("int64")
    if not previous:
        return since
    prev = tiles["business"].map(lambda b: previous.get(b, (None, now)))
    same = (prev.str[0] == tiles["severity"]).to_numpy() & (tiles["severity"] != "ok").to_numpy()
    earlier = np.minimum(since.to_numpy(), prev.str[1].fillna(now).astype("int64").to_numpy())
    return pd.Series(np.where(same, earlier, since.to_numpy()), index=tiles.index, dtype="int64")


def wall_snapshot(store, settings, now: int, previous_onsets: dict | None = None,
                  plan: Plan | None = None, trends: dict | None = None) -> dict:
    """Everything the NOC wall shows, for every business (see dashboard.tiles for the tiles). Flags
    are the alert engine's stored result (``alerting.engine``): red here is exactly what was paged."""
    plan = plan or inventory_plan(store)
    trends = trends or traffic_trends(store, plan, now)
    biz = plan.businesses
    flags = latest_flags(store, settings, now, plan)     # values (QPS, data age); red comes from the engine
    resolved = store.alerts(since=now - HOLD_S, state="resolved", limit=20_000)
    shown = wall_alerts(store.open_alerts(include_pending=False), resolved, now)
    tiles = biz.merge(fl.from_alerts(shown, now), on="business", how="left")
    has_series = tiles["business"].isin(set(plan.series["business"].astype(object)))
    unflagged = tiles["severity"].isna()
    tiles.loc[unflagged & has_series, ["severity", "reason", "where"]] = ["ok", "", ""]
    tiles.loc[unflagged & ~has_series, ["severity", "reason", "where"]] = ["stale", "no series", ""]
    tiles["since"] = carry_since(tiles, previous_onsets, now)
    tiles["age"] = tiles["age"].fillna(0.0)
    tiles["n_flagged"] = tiles["n_flagged"].fillna(0).astype(int)
    tiles["acked"] = tiles["acked"].fillna(False).astype(bool)
    tiles["silenced"] = tiles["silenced"].fillna(False).astype(bool)
    tiles["held"] = tiles["held"].fillna(False).astype(bool)
    chosen = plan.front
    fresh = flags[flags["current"]]          # values older than stale_after say nothing about now
    latest_qps = pd.Series(fresh["value"].to_numpy(), index=fresh["id"].to_numpy()).reindex(chosen["id"].to_numpy())
    qps = pd.Series(latest_qps.to_numpy(), index=chosen["business"].to_numpy()).groupby(level=0).sum(min_count=1)
    tiles["qps"] = tiles["business"].map(qps)
    tiles["qps_week"] = tiles["business"].map(trends["week"])
    spark = trends["spark"]
    tiles["spark"] = tiles["business"].map(lambda b: spark.get(b, []))
    tiles = tiles.sort_values(["product_line", "business"]).reset_index(drop=True)
    latest_ts = flags["ts"].max()
    snap = {
        "now": int(now),
        "tiles": tiles,
        "flagged": fl.wall_order(tiles, now),
        "counts": fl.counts(tiles),
        "latest_ts": None if pd.isna(latest_ts) else int(latest_ts),
        "onsets": {b: (s, int(t)) for b, s, t in zip(tiles["business"], tiles["severity"], tiles["since"])
                   if s != "ok"},
    }
    snap["version"] = snapshot_version(snap)
    return snap


def snapshot_version(snap: dict) -> str:
    """Changes whenever anything a viewer would see changes (values, flags, inventory)."""
    t = snap["tiles"]
    h = hashlib.blake2b(digest_size=8)
    h.update(pd.util.hash_pandas_object(t[["business", "severity", "qps", "qps_week", "acked", "silenced", "held"]],
                                        index=False).values)
    # a stale tile says for how long ("no data 12m"): it changes every minute even when no data arrives
    minute = snap["now"] // 60 if snap["counts"]["stale"] else None
    h.update(repr((snap["latest_ts"], t["spark"].map(len).sum(), minute)).encode())
    return h.hexdigest()


def now_ts() -> int:
    return int(time.time())
