"""What the API reports about businesses: pure functions of a store (no Flask)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from alerting import flags as fl
from store.metrics import METRICS

ALERT_FIELDS = ["id", "business", "product_line", "star", "cluster", "instance", "rule", "metric", "severity",
                "state", "value", "threshold", "reason", "fired_at", "acked_by", "acked_at", "ack_comment",
                "resolved_at", "silenced_by"]


def clean(value):
    """A pandas cell as JSON wants it: NaN/NaT -> None, numpy scalars -> Python."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, np.generic):
        return clean(value.item())
    return value


def alert_dict(row: dict) -> dict:
    out = {k: clean(row.get(k)) for k in ALERT_FIELDS}
    for k in ("fired_at", "acked_at", "resolved_at", "silenced_by", "star", "id"):
        if out[k] is not None:
            out[k] = int(out[k])
    out["metric"] = out["metric"] or ""
    out["reason"] = out["reason"] or ""
    return out


def statuses(store, now: int) -> pd.DataFrame:
    """Every business [name, product_line, star, status, open_alerts, acknowledged, silenced]."""
    biz = store.businesses()[["name", "product_line", "star"]]
    alerts = store.open_alerts(include_pending=False)
    flags = fl.from_alerts(alerts, now)
    counts = alerts.groupby("business").size() if not alerts.empty else pd.Series(dtype="int64")
    out = biz.merge(flags[["business", "severity", "acked", "silenced"]], left_on="name", right_on="business",
                    how="left")
    out["status"] = out["severity"].fillna("ok")
    out["acknowledged"] = out["acked"].fillna(False).astype(bool)
    out["silenced"] = out["silenced"].fillna(False).astype(bool)
    out["open_alerts"] = out["name"].map(counts).fillna(0).astype(int)
    out["star"] = out["star"].astype(int)
    return out[["name", "product_line", "star", "status", "open_alerts", "acknowledged", "silenced"]]


def latest_values(store, business: str) -> dict[str, float | None]:
    """The business's latest value per metric: instance series combined by the metric's rule."""
    series = store.series(business=business)
    if series.empty:
        return {}
    series = series[series["removed_at"].isna()]
    latest = store.latest(series["id"].tolist())
    merged = series[["id", "metric", "instance"]].merge(latest, left_on="id", right_on="series_id")
    out: dict[str, float | None] = {}
    for metric, grp in merged.groupby("metric"):
        inst = grp[grp["instance"].notna()] if grp["instance"].notna().any() else grp
        values = inst["value"].dropna()
        rule = METRICS[metric].agg if metric in METRICS else "max"
        if values.empty:
            out[metric] = None
        else:
            out[metric] = round(float(values.sum() if rule == "sum" else values.max() if rule == "max"
                                      else values.mean()), 4)
    return out


def problems_of(store, business: str) -> list[dict]:
    """Active Zabbix problems on the business's instances (or hosts)."""
    probs = store.problems()
    if probs.empty:
        return []
    inst = store.instances()
    mine = inst[inst["business"] == business]
    names, hosts = set(mine["name"]), set(mine["host"])
    sel = probs[probs["instance"].isin(names) | probs["host"].isin(hosts)]
    return [{"eventid": str(r.eventid), "name": r.name, "severity": r.severity, "clock": int(r.clock),
             "host": r.host, "instance": clean(r.instance), "acknowledged": bool(r.acknowledged)}
            for r in sel.itertuples(index=False)]


def instances_of(store, business: str, now: int) -> list[dict]:
    inst = store.instances()
    mine = inst[(inst["business"] == business) & inst["removed_at"].isna()]
    alerts = store.open_alerts(include_pending=False)
    alerts = alerts[alerts["business"] == business]
    worst: dict[str, str] = {}
    for a in alerts.itertuples(index=False):
        keys = [a.instance] if isinstance(a.instance, str) else list(mine.loc[mine["cluster"] == a.cluster, "name"])
        for k in keys:
            if fl.RANK.get(a.severity, 0) > fl.RANK.get(worst.get(k, "ok"), 0):
                worst[k] = a.severity
    return [{"name": r.name, "cluster": r.cluster, "service": r.service or "", "role": r.role, "host": r.host,
             "port": int(r.port), "shard": int(r.shard), "status": worst.get(r.name, "ok")}
            for r in mine.itertuples(index=False)]


def forecast_of(store, business: str) -> dict:
    """The next promotion's qps peak forecast for one business from its own hourly history
    (forecasting.model; the capacity page's fleet forecast also shrinks toward its peers, so its
    number can differ a little). A business or calendar the forecaster cannot serve gives a
    ``note`` saying why and no numbers."""
    from core.errors import ForecastError
    from forecasting.events import pick_target
    from forecasting.fleet import last_data_ts, load_history, store_events
    from forecasting.model import forecast_event_peak
    out = {"business": business, "promotion": None, "starts_at": None, "peak_qps": None, "peak_low": None,
           "peak_high": None, "method": None, "confidence": None, "note": ""}
    try:
        end = last_data_ts(store)
        cutoff = pd.Timestamp(end, unit="s", tz="UTC")
        events = store_events(store)
        target = pick_target(events, cutoff)
        out.update(promotion=target.name, starts_at=int(target.start.timestamp()))
        series = load_history(store, "business", "qps", end, groups=[business]).get(business)
        if series is None or series.empty:
            raise ForecastError(f"business {business!r} has no qps history yet.")
        fc = forecast_event_peak(series, events, target, cutoff)
    except ForecastError as exc:
        out["note"] = str(exc)
        return out
    out.update(peak_qps=round(float(fc.point), 1), peak_low=round(float(fc.lower), 1),
               peak_high=round(float(fc.upper), 1), method=fc.method,
               confidence="low" if fc.low_confidence else "ok", note="; ".join(fc.reasons))
    return out
