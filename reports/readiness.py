"""The pre-promotion readiness report's content, read from the store (``reports.html`` renders it).

For one promotion: the forecast for the fleet and each product line; the clusters at risk, ranked,
each with its past promotions aligned on their start, the forecast band and its capacity line; the
recommended changes (shards, proxies, memory) with their cost in instances; and how accurate the
method was on this fleet's past promotions (the backtest, failures counted by reason).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecasting.backtest import failure_reasons, score
from forecasting.capacity import CapacityLimits
from forecasting.compare import align
from forecasting.events import Event
from forecasting.fleet import (FleetForecast, backtest_fleet, capacity_plan, forecast_fleet, load_history,
                               store_events)

#: what the plan needs per cluster, and the totals shown for the fleet and its product lines
PLAN_METRICS = ("qps", "proxy_qps", "mem_used")
TOTAL_LEVELS = ("fleet", "product_line")
TOTAL_METRICS = ("qps", "mem_used")
TOP_AT_RISK = 8
HOURS_BEFORE, HOURS_AFTER = 24, 48
#: the tightest resource of a plan row -> (metric charted, capacity column)
RESOURCES = {"qps": ("qps", "qps_capacity"), "proxy": ("proxy_qps", "proxy_capacity"), "mem": ("mem_used", "mem_max")}


@dataclass
class RiskChart:
    """One cluster at risk: its past promotions aligned on their start, the forecast, the capacity."""

    cluster: str
    business: str
    star: int
    status: str
    reason: str
    metric: str
    aligned: pd.DataFrame          # compare.align rows (event, offset_hours, value) of past promotions
    point: float
    lower: float
    upper: float
    capacity: float                # what the cluster has
    allowed: float                 # what its star level may use at the peak
    hours: float                   # length of the promotion (the band's width)
    method: str = ""
    low_confidence: bool = False


@dataclass
class Readiness:
    target: Event
    cutoff: pd.Timestamp
    totals: pd.DataFrame           # fleet and product lines x TOTAL_METRICS: the forecast rows
    plan: pd.DataFrame             # the capacity plan, with instances_per_shard and cost_instances
    at_risk: list[RiskChart]
    accuracy: pd.DataFrame         # backtest scores by history (kind seen or not) and lead
    failures: pd.Series            # failed backtest cases counted by reason
    notes: list[str] = field(default_factory=list)


def with_cost(plan: pd.DataFrame, instances: pd.DataFrame) -> pd.DataFrame:
    """Plan rows plus ``instances_per_shard`` (master and replicas) and ``cost_instances``: the new
    instances the recommendation takes (shards x instances per shard + proxies)."""
    live = instances[instances["removed_at"].isna() & (instances["role"] != "proxy")]
    per_cluster = live.groupby("cluster").size()
    shards = plan["shards"].clip(lower=1)
    per_shard = (plan["cluster"].map(per_cluster).fillna(shards) / shards).round().clip(lower=1).astype(int)
    return plan.assign(instances_per_shard=per_shard,
                       cost_instances=plan["add_shards"] * per_shard + plan["add_proxies"])


def risk_chart(store, fc: FleetForecast, row: pd.Series, events: list[Event]) -> RiskChart:
    """The chart data of one plan row: its tightest resource's history around past promotions."""
    utils = {k: row[f"{k}_util_upper"] for k in RESOURCES if pd.notna(row[f"{k}_util_upper"])}
    worst = max(utils, key=utils.get) if utils else "qps"
    metric, cap_col = RESOURCES[worst]
    t = fc.table
    f = t[(t["level"] == "cluster") & (t["group"] == row["cluster"]) & (t["metric"] == metric)]
    f = f.iloc[0] if len(f) else pd.Series({"point": np.nan, "lower": np.nan, "upper": np.nan, "method": "",
                                              "low_confidence": True})
    end = int(fc.cutoff.timestamp())
    history = load_history(store, "cluster", metric, end, groups=[row["cluster"]]).get(row["cluster"])
    past = [e for e in events if e.end <= fc.cutoff]
    same = [e for e in past if e.kind == fc.target.kind][-3:] or past[-3:]
    aligned = pd.DataFrame(columns=["event", "offset_hours", "value"])
    if history is not None and len(history) and same:
        aligned = align(history, same, before=pd.Timedelta(hours=HOURS_BEFORE), after=pd.Timedelta(hours=HOURS_AFTER),
                        today=True)
    capacity = float(row[cap_col]) if pd.notna(row[cap_col]) else np.nan
    return RiskChart(cluster=row["cluster"], business=row["business"], star=int(row["star"]), status=row["status"],
                     reason=row["reason"], metric=metric, aligned=aligned, point=float(f["point"]),
                     lower=float(f["lower"]), upper=float(f["upper"]), capacity=capacity,
                     allowed=capacity * float(row["max_util"]),
                     hours=(fc.target.end - fc.target.start) / pd.Timedelta(hours=1),
                     method=str(f["method"] or ""), low_confidence=bool(f["low_confidence"]))


def accuracy_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Backtest scores for every row, and by history (kind seen before or not) and lead."""
    if rows.empty:
        return pd.DataFrame()
    rows = rows.assign(history=np.where(rows["n_same_kind"] > 0, "kind seen before", "first of its kind"))
    overall = score(rows, by="lead_days").reset_index().assign(history="all promotions")
    parts = score(rows, by=["history", "lead_days"]).reset_index()
    return pd.concat([overall, parts], ignore_index=True)


def build(store, target: str | Event | None, limits: CapacityLimits = CapacityLimits(), *, workers: int = 1,
          top: int = TOP_AT_RISK, forecast: FleetForecast | None = None,
          backtest_rows: pd.DataFrame | None = None) -> Readiness:
    """Everything the readiness report shows for ``target`` (a name or kind; default the next one).

    ``forecast`` (business and cluster forecasts for the target) and ``backtest_rows`` may be
    passed in when already computed (the dashboard caches both)."""
    fc = forecast or forecast_fleet(store, target, metrics=PLAN_METRICS, workers=workers)
    totals = forecast_fleet(store, fc.target, cutoff=fc.cutoff, levels=TOTAL_LEVELS, metrics=TOTAL_METRICS,
                            workers=1).table
    plan = with_cost(capacity_plan(store, fc, limits), store.instances())
    events = store_events(store)
    risky = plan[plan["status"].isin(["over", "watch"])].head(top)
    charts = [risk_chart(store, fc, row, events) for _, row in risky.iterrows()]
    rows = backtest_rows if backtest_rows is not None else backtest_fleet(
        store, level="business", metrics=("qps",), workers=workers)
    notes = []
    if len(plan[plan["status"].isin(["over", "watch"])]) > top:
        notes.append(f"{len(plan[plan['status'].isin(['over', 'watch'])])} clusters are at risk; the {top} "
                     f"riskiest are charted, all are in the table of changes.")
    return Readiness(target=fc.target, cutoff=fc.cutoff, totals=totals, plan=plan, at_risk=charts,
                     accuracy=accuracy_table(rows), failures=failure_reasons(rows) if len(rows) else pd.Series(dtype=int),
                     notes=notes)
