"""Instance view reads (``/instance?name=``): one instance's inventory, replication, limits, the
Zabbix items behind its series, and its recent points. Pure functions of a store."""
from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import quote

import pandas as pd

from store.metrics import METRICS

#: the range presets of the view, as the business page's: a rolling window ending now
RANGES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}
DEFAULT_RANGE = "24h"


@dataclass
class InstanceView:
    instance: pd.Series          # the inventory row (name, cluster, business, host, port, role, shard, ...)
    cluster: pd.Series           # its cluster (service, shard_count, qps_per_instance, mem_per_instance, star, ...)
    series: pd.DataFrame         # [id, key, metric, units, label, zabbix_itemid] of its live series
    latest: dict                 # metric -> latest value (a Twemproxy's per-backend series combined)
    members: pd.DataFrame        # its shard's members [name, role, repl_ok] (itself included)
    alerts: pd.DataFrame         # its open alerts and its cluster's cluster-wide ones


def find(store, name: str) -> InstanceView | None:
    """The instance named ``name`` (None when the store has no such live instance)."""
    if not isinstance(name, str) or not name:
        return None
    inst = store.instances()
    row = inst[(inst["name"] == name) & inst["removed_at"].isna()]
    if row.empty:
        return None
    me = row.iloc[0]
    clusters = store.clusters()
    cl = clusters[clusters["name"] == me["cluster"]].iloc[0]
    s = store.series(cluster=me["cluster"])
    s = s[s["removed_at"].isna()]
    mine = s[s["instance"] == name].sort_values(["metric", "label"]).reset_index(drop=True)
    shard = inst[(inst["cluster"] == me["cluster"]) & inst["removed_at"].isna()]
    if me["role"] in ("master", "slave"):
        shard = shard[(shard["shard"] == me["shard"]) & shard["role"].isin(["master", "slave"])]
    else:
        shard = shard[shard["name"] == name]
    members = shard[["name", "role", "host", "port"]].assign(
        repl_ok=[latest_value(store, s, n, "repl_ok") for n in shard["name"]])
    members = members.sort_values(["role", "name"]).reset_index(drop=True)
    alerts = store.open_alerts(include_pending=False)
    alerts = alerts[(alerts["instance"] == name) | (alerts["instance"].isna() & (alerts["cluster"] == me["cluster"]))]
    return InstanceView(me, cl, mine[["id", "key", "metric", "units", "label", "zabbix_itemid"]],
                        latest_values(store, mine), members, alerts.reset_index(drop=True))


def latest_values(store, series: pd.DataFrame) -> dict:
    """metric -> latest value of ``series`` (several series of one metric combine by its rule)."""
    if series.empty:
        return {}
    latest = store.latest(series["id"].tolist())
    df = series[["id", "metric"]].merge(latest, left_on="id", right_on="series_id")
    out = {}
    for metric, g in df.groupby("metric"):
        agg = METRICS[metric].agg if metric in METRICS else "mean"
        out[metric] = float(getattr(g["value"], agg)())
    return out


def latest_value(store, series: pd.DataFrame, instance: str, metric: str) -> float | None:
    chosen = series[(series["instance"] == instance) & (series["metric"] == metric)]
    return latest_values(store, chosen).get(metric)


def points(store, view: InstanceView, start: int, end: int, max_points: int = 600) -> pd.DataFrame:
    """[metric, label, ts, value] of the instance's series over [start, end) (raw or rollups)."""
    if view.series.empty:
        return pd.DataFrame(columns=["metric", "label", "ts", "value"])
    df = store.read_range(view.series["id"].tolist(), start, end, max_points)
    df = df.merge(view.series[["id", "metric", "label"]], left_on="series_id", right_on="id")
    return df[["metric", "label", "ts", "value"]].sort_values(["metric", "label", "ts"]).reset_index(drop=True)


def _known(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v) != ""


def item_link(itemid, zabbix_url: str) -> str:
    """The item's graph in the Zabbix frontend ('' when there is no Zabbix or no item id)."""
    if not zabbix_url or not _known(itemid):
        return ""
    return f"{zabbix_url.rstrip('/')}/history.php?action=showgraph&itemids%5B%5D={quote(str(itemid), safe='')}"


def items_link(itemids, zabbix_url: str) -> str:
    """Every item of the instance on one Zabbix graph page ('' when none is known)."""
    ids = [str(i) for i in itemids if _known(i)]
    if not zabbix_url or not ids:
        return ""
    query = "&".join(f"itemids%5B%5D={quote(i, safe='')}" for i in ids)
    return f"{zabbix_url.rstrip('/')}/history.php?action=showgraph&{query}"


def limits(view: InstanceView) -> dict:
    """What bounds this instance: maxmemory (0 = no limit), and its cluster's planning capacity."""
    return {"mem_used": view.latest.get("mem_used"), "mem_max": view.latest.get("mem_max"),
            "mem_util": view.latest.get("mem_util"),
            "qps_per_instance": float(view.cluster["qps_per_instance"] or 0),
            "mem_per_instance": float(view.cluster["mem_per_instance"] or 0)}
