"""Business page reads: the business and its series, realtime, history, shard balance and instance
frames (pure functions of a store)."""
from __future__ import annotations

from datetime import date, datetime, time as dtime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from alerting import flags as fl
from store.metrics import agg_of

DEFAULT_DAYS = 7
MAX_DAYS = 3 * 366 + 1


class RangeError(ValueError):
    """A history range the user typed that cannot be shown (message says what to fix)."""


def parse_range(start: str | None, end: str | None, tz: str, now: int) -> tuple[int, int]:
    """Dates (YYYY-MM-DD, display time zone, end inclusive) -> [start, end) epoch seconds."""
    zone = ZoneInfo(tz)
    today = datetime.fromtimestamp(now, zone).date()
    try:
        d_end = date.fromisoformat(end[:10]) if end else today
        d_start = date.fromisoformat(start[:10]) if start else d_end - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        raise RangeError(f"dates must look like 2026-11-11 (got start={start!r}, end={end!r}).") from None
    if d_end < d_start:
        raise RangeError(f"the range ends ({d_end}) before it starts ({d_start}); pick an end after the start.")
    if (d_end - d_start).days > MAX_DAYS:
        raise RangeError(f"ranges are limited to {MAX_DAYS} days; pick a shorter range.")
    lo = int(datetime.combine(d_start, dtime(), zone).timestamp())
    hi = int(datetime.combine(d_end + timedelta(days=1), dtime(), zone).timestamp())
    return lo, min(hi, now + 3600)


def combine(frame: pd.DataFrame, metric: str, value: str = "value") -> pd.DataFrame:
    """Instance rows [ts, value(,min,max)] -> one total per ts by the metric's rule."""
    if frame.empty:
        return pd.DataFrame({"ts": [], "value": [], "min": [], "max": []})
    rule = {"sum": "sum", "max": "max", "mean": "mean"}[agg_of(metric)]
    cols = [c for c in ("value", "min", "max") if c in frame]
    return frame.groupby("ts", as_index=False)[cols].agg(rule)


def instance_metrics(series: pd.DataFrame) -> list[str]:
    """Metrics with instance series for this business, in canonical order."""
    from store.metrics import METRICS
    have = set(series.loc[series["instance"].notna(), "metric"])
    return [m for m in METRICS if m in have]


def realtime(store, series: pd.DataFrame, metric: str, start: int, end: int) -> pd.DataFrame:
    """[instance, ts, value] raw points of one metric over [start, end)."""
    chosen = series[(series["metric"] == metric) & series["instance"].notna()]
    if chosen.empty:
        return pd.DataFrame({"instance": [], "ts": [], "value": []})
    # the raw tier only: realtime must never fall back to hourly rollups (read_range would when
    # the raw tier does not cover the whole window, e.g. a store started an hour ago)
    df = store.read_raw(chosen["id"].tolist(), start, end)
    df = df.merge(chosen[["id", "instance"]], left_on="series_id", right_on="id")
    return df[["instance", "ts", "value"]].sort_values(["instance", "ts"]).reset_index(drop=True)


def history(store, series: pd.DataFrame, name: str, metric: str, start: int, end: int,
            max_points: int = 1200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(business total [ts, value, min, max], per cluster [group, ts, value]) over [start, end).

    The total comes from cluster-level series where a cluster has one (what collectors sum),
    otherwise from the instances; long ranges come from the hourly rollups."""
    chosen = series[series["metric"] == metric]
    cl_level = chosen["instance"].isna()
    has_cl = set(chosen.loc[cl_level, "cluster"])
    chosen = chosen[cl_level | ~chosen["cluster"].isin(has_cl)]
    if chosen.empty:
        empty = pd.DataFrame({"ts": [], "value": [], "min": [], "max": []})
        return empty, pd.DataFrame({"group": [], "ts": [], "value": []})
    df = store.read_range(chosen["id"].tolist(), start, end, max_points)
    df = df.merge(chosen[["id", "cluster"]], left_on="series_id", right_on="id")
    rule = {"sum": "sum", "max": "max", "mean": "mean"}[agg_of(metric)]
    per_cluster = df.groupby(["cluster", "ts"], as_index=False)["value"].agg(rule).rename(columns={"cluster": "group"})
    # the band is the envelope of the series for a mean or a max (a mean of minimums would hide
    # the worst cluster of a ratio); summed traffic sums them
    band = ("sum", "sum") if rule == "sum" else ("min", "max")
    total = df.groupby("ts", as_index=False).agg(value=("value", rule), min=("min", band[0]), max=("max", band[1]))
    return total, per_cluster


def shard_frame(flags: pd.DataFrame, instances: pd.DataFrame, metric: str) -> pd.DataFrame:
    """[cluster, instance, shard, value] of the latest ``metric`` on masters and proxies."""
    f = flags[(flags["metric"] == metric) & flags["instance"].notna() & flags["role"].isin(["master", "proxy"])
              & flags["current"]]          # no bar for a value that is not current (memory against no limit)
    # one bar per instance: a proxy's per-backend series (labelled) combine by the metric's rule
    per = per_instance(f[["cluster", "instance", "value"]], metric)
    out = per.merge(instances[["name", "shard"]], left_on="instance", right_on="name")
    return out[["cluster", "instance", "shard", "value"]]


def per_instance(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """[cluster, instance, value]: an instance's several series of one metric (a Twemproxy's one per
    backend) combined by the metric's rule (summed rates, worst utilisation)."""
    how = {"sum": "sum", "max": "max"}.get(agg_of(metric), "mean")
    return frame.groupby(["cluster", "instance"], as_index=False, observed=True)["value"].agg(how)


def business_frame(store, name: str) -> pd.Series | None:
    biz = store.businesses()
    row = biz[biz["name"] == name]
    return None if row.empty else row.iloc[0]


def business_series(store, name: str) -> pd.DataFrame:
    s = store.series(business=name)
    return s[s["removed_at"].isna()].reset_index(drop=True)


def metric_range(store, series: pd.DataFrame, metric: str, start: int, end: int,
                 max_points: int = 1500) -> pd.DataFrame:
    """[series_id, ts, value, min, max, instance, cluster] of one metric's instance series."""
    chosen = series[(series["metric"] == metric) & series["instance"].notna()]
    if chosen.empty:
        return pd.DataFrame(columns=["series_id", "ts", "value", "min", "max", "instance", "cluster"])
    df = store.read_range(chosen["id"].tolist(), start, end, max_points)
    return df.merge(chosen[["id", "instance", "cluster"]], left_on="series_id", right_on="id").drop(columns="id")


def instance_table(store, flags: pd.DataFrame, name: str, now: int) -> pd.DataFrame:
    """One row per instance of a business, one column per canonical metric (latest values from
    ``flags``, :func:`dashboard.wall_data.latest_flags`); the ``severity`` and ``reason`` of each
    row are the alert engine's stored alerts (what was paged), a cluster-wide alert on every
    instance of its cluster, ok where none is open."""
    f = flags[(flags["business"] == name) & flags["instance"].notna()]
    if f.empty:
        return pd.DataFrame()
    # a reporting instance's old value (utilisation against no limit) is not shown as current; a
    # silent instance keeps its last values (its row is marked stale)
    f = f.assign(value=f["value"].where(f["current"] | (f["severity"] == "stale")))
    wide = pd.concat([per_instance(g[["cluster", "instance", "value"]], m).assign(metric=m)
                      for m, g in f.groupby("metric", observed=True)]) \
        .pivot_table(index="instance", columns="metric", values="value", aggfunc="last")
    inst = store.instances()
    inst = inst[(inst["business"] == name) & inst["removed_at"].isna()].set_index("name")
    out = inst[["cluster", "host", "port", "role", "shard", "zabbix_hostid", "notes"]].join(wide, how="left")
    out = out.join(stored_flags(store.open_alerts(include_pending=False), name, out), how="left")
    out["severity"] = out["severity"].fillna("ok")
    out["reason"] = out["reason"].fillna("")
    out["service"] = inst["service"].reindex(out.index)      # the instance's own (a proxy in a Redis cluster)
    return out.reset_index(names="instance").sort_values(["cluster", "shard", "role", "instance"])


def stored_flags(alerts: pd.DataFrame, business: str, instances: pd.DataFrame) -> pd.DataFrame:
    """[severity, reason] per instance (index) from a business's open alerts: its own, or its
    cluster's when the alert names a cluster only; the worst when several."""
    a = alerts[alerts["business"] == business] if len(alerts) else alerts
    if a.empty:
        return pd.DataFrame(columns=["severity", "reason"])
    rows = [a.loc[a["instance"].notna(), ["instance", "severity", "reason"]]]
    for c in a[a["instance"].isna() & a["cluster"].notna()].itertuples():
        members = instances.index[instances["cluster"] == c.cluster]
        rows.append(pd.DataFrame({"instance": members, "severity": c.severity, "reason": c.reason}))
    both = pd.concat(rows, ignore_index=True)
    both["rank"] = both["severity"].map(fl.RANK).fillna(0)
    worst = both.sort_values("rank", ascending=False, kind="stable").drop_duplicates("instance")
    return worst.set_index("instance")[["severity", "reason"]]


# ------------------------------------------------------------------ time-range presets
#: Grafana's quick ranges: rolling windows ending now
PRESETS = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}


def preset_range(preset: str, now: int) -> tuple[int, int]:
    """[now - preset, now + 1) for a preset name ('1h', '24h', '7d', '30d')."""
    if preset not in PRESETS:
        raise RangeError(f"range {preset!r} is not one of {', '.join(PRESETS)}.")
    return now - PRESETS[preset], now + 1


def shown_end(hi: int, now: int) -> int:
    """The end a footer shows: never after now (a range of whole days ends at midnight ahead)."""
    return min(int(hi), int(now))


# ------------------------------------------------------------------ thresholds of the rules
def rule_thresholds(rules, metric: str, star: int, tighten: dict | None = None) -> list[tuple[str, float]]:
    """[("warn", v), ("crit", v)] of the rule on ``metric`` for a business of ``star`` (the same
    numbers the alert engine applies); [] when no rule watches the metric."""
    for rule in rules:
        if rule.metric == metric:
            warn, crit = fl.thresholds(rule, star, tighten)
            return [("warn", float(warn)), ("crit", float(crit))] if warn != crit else [("crit", float(crit))]
    return []


# ------------------------------------------------------------------ the flags table
def flag_rows(alerts: pd.DataFrame) -> list[dict]:
    """A business's open alerts as table rows, worst first: the instance alerts of one cluster with
    the same rule, severity and state make one row (``instances`` lists them, ``reason`` is the
    worst one's); ``since`` is when the breach began (the alert's ``started_at``, else its
    ``fired_at``): it does not move while the flag holds."""
    if alerts.empty:
        return []
    a = alerts.copy()
    a["since"] = a["started_at"].where(a["started_at"].notna(), a["fired_at"])
    a["mark"] = np.where(a["silenced_by"].notna(), "silenced", np.where(a["state"] == "acknowledged", "acked", ""))
    a["gap"] = (pd.to_numeric(a["value"], errors="coerce") - pd.to_numeric(a["threshold"], errors="coerce")).abs()
    a["where"] = a["instance"].where(a["instance"].notna(), a["cluster"])
    a["rank"] = a["severity"].map(fl.RANK).fillna(0)
    inst = a["instance"].notna()
    keys = ["cluster", "rule", "severity", "mark"]
    rows = []
    for _, r in a[~inst].iterrows():
        rows.append(_flag_row(r, []))
    for _, g in a[inst].groupby(keys, sort=False, dropna=False):
        worst = g.sort_values("gap", ascending=False, kind="stable").iloc[0]
        rows.append(_flag_row(worst, sorted(g["instance"]), since=int(g["since"].min())))
    rows.sort(key=lambda r: (-r["rank"], r["since"], r["where"]))
    return rows


def _flag_row(r: pd.Series, instances: list[str], since: int | None = None) -> dict:
    return {"where": str(r["where"]), "cluster": str(r["cluster"]), "instances": instances,
            "metric": str(r["metric"] or r["rule"]), "severity": str(r["severity"]), "reason": str(r["reason"]),
            "since": int(r["since"] if since is None else since), "mark": str(r["mark"]),
            "acked_by": r["acked_by"] if isinstance(r["acked_by"], str) else "", "rank": int(r["rank"])}


#: the alert engine's fixed reasons and rule names (no metric) -> label keys: shown in the page's language
REASON_KEYS = {"no data": "no_data", "every instance silent": "reason_all_silent"}
RULE_KEYS = {"stale": "rule_stale", "cluster_stale": "rule_cluster_stale", "watchdog": "rule_watchdog",
             "deviation": "rule_deviation"}


def reason_key(reason: str) -> str | None:
    return REASON_KEYS.get(reason)


def rule_key(metric: str) -> str | None:
    return RULE_KEYS.get(metric)


def flagged_metric(alerts: pd.DataFrame, metrics: list[str]) -> str | None:
    """The metric of the business's worst open alert that the page can chart (None if none)."""
    if alerts.empty:
        return None
    a = alerts.assign(rank=alerts["severity"].map(fl.RANK).fillna(0)).sort_values("rank", ascending=False,
                                                                                  kind="stable")
    for m in a["metric"]:
        if m in metrics:
            return m
    return None
