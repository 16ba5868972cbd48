"""The /alerts page's data: pure functions of a store, no Dash. Open alerts first by severity and
star, with who was told through which gateway and whether it was delivered (the outbox); one
alert's timeline; the history with filters, and its CSV."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass

import pandas as pd

from core.logs import mask_phones

SEVERITY_ORDER = {"crit": 0, "warn": 1, "stale": 2}
STATE_ORDER = {"firing": 0, "acknowledged": 1, "pending": 2}
HISTORY_LIMIT = 500
CSV_LIMIT = 100_000
CSV_COLUMNS = ["id", "business", "product_line", "star", "cluster", "instance", "rule", "metric", "severity",
               "state", "value", "threshold", "reason", "fired_at", "acked_by", "acked_at", "ack_comment",
               "resolved_at", "escalated_at", "silenced_by"]


@dataclass(frozen=True)
class Filters:
    """The history's filters (query parameters of /alerts, checked by dashboard.inputs)."""
    business: str = ""
    product_line: str = ""
    rule: str = ""
    days: int = 7

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        keep = pd.Series(True, index=df.index)
        for col in ("business", "product_line", "rule"):
            value = getattr(self, col)
            if value:
                keep &= df[col] == value
        return df[keep]


def order_open(alerts: pd.DataFrame) -> pd.DataFrame:
    """Open alerts worst first: crit before warn before stale, higher star first, then firing
    before acknowledged, then the oldest."""
    if alerts.empty:
        return alerts
    keys = alerts.assign(_s=alerts["state"].map(STATE_ORDER).fillna(9),
                         _v=alerts["severity"].map(SEVERITY_ORDER).fillna(9),
                         _since=alerts["fired_at"].fillna(alerts["started_at"]))
    keys = keys.sort_values(["_v", "star", "_s", "_since", "id"], ascending=[True, False, True, True, True],
                            kind="stable")
    return keys.drop(columns=["_s", "_v", "_since"]).reset_index(drop=True)


def notifications(outbox: pd.DataFrame, alert_ids) -> dict[int, list[dict]]:
    """Alert id -> who was told [{recipient (masked), gateway, state, kind, at}], newest first."""
    wanted = {int(a) for a in alert_ids}
    if outbox.empty or not wanted:
        return {}
    rows = outbox[outbox["alert_ids"] != "[]"]
    ids = rows["alert_ids"].map(json.loads)
    long = rows.assign(alert_id=ids).explode("alert_id").dropna(subset=["alert_id"])
    long = long[long["alert_id"].astype("int64").isin(wanted)]
    out: dict[int, list[dict]] = {}
    sent = long["sent_at"].astype("float64")
    at = sent.where(sent.notna(), long["created_at"].astype("float64")).astype("int64")
    for aid, rcp, gw, state, kind, ts in zip(long["alert_id"], long["recipient"], long["gateway"], long["state"],
                                              long["kind"], at):
        out.setdefault(int(aid), []).append({"recipient": mask_phones(str(rcp)), "gateway": gw, "state": state,
                                             "kind": kind, "at": int(ts)})
    return out


def open_view(store, now: int) -> dict:
    """{"alerts": ordered open alerts (pending left out: not red anywhere), "told": notifications,
    "silences": silences in force or to come}."""
    alerts = order_open(store.open_alerts(include_pending=False))
    since = int(alerts["started_at"].min()) - 3600 if not alerts.empty else now
    told = notifications(store.outbox(since=since, limit=20_000), alerts["id"].tolist()) if not alerts.empty else {}
    return {"alerts": alerts, "told": told, "silences": store.silences(active_at=now)}


def history(store, filters: Filters, now: int, limit: int = HISTORY_LIMIT) -> pd.DataFrame:
    """Fired alerts of the last ``filters.days`` days matching the filters, newest first."""
    df = store.alerts(since=now - filters.days * 86400, business=filters.business or None, limit=CSV_LIMIT)
    return filters.apply(df).head(limit).reset_index(drop=True)


def history_view(store, filters: Filters, now: int, limit: int = HISTORY_LIMIT) -> tuple[pd.DataFrame, dict]:
    """(the history as :func:`history`, the values its filter menus offer), from one read of the
    period's alerts."""
    period = store.alerts(since=now - filters.days * 86400, limit=CSV_LIMIT)
    offered = {c: sorted(set(period[c].dropna().astype(str))) for c in ("business", "product_line", "rule")}
    return filters.apply(period).head(limit).reset_index(drop=True), offered


def timeline(store, alert_id: int) -> pd.DataFrame:
    """[ts, kind, who, detail] of one alert, oldest first (fired, notified, escalated, acknowledged,
    resolved)."""
    return store.alert_events(alert_id=alert_id)[["ts", "kind", "who", "detail"]]


def alert(store, alert_id: int) -> dict | None:
    return store.alert(alert_id)


def silence_matchers(row: dict) -> dict[str, str]:
    """A silence's matchers prefilled from an alert: its business and rule, and its instance (or
    cluster) when it has one."""
    out = {"business": row["business"], "rule": row["rule"]}
    for key in ("instance", "cluster"):
        if isinstance(row.get(key), str) and row[key]:
            out[key] = row[key]
            break
    return out


def history_csv(df: pd.DataFrame, tz: str) -> str:
    """The history as CSV, times in the display time zone (ISO 8601 with offset)."""
    out = df.reindex(columns=CSV_COLUMNS).copy()
    for col in ("business", "product_line", "cluster", "instance", "rule", "reason", "acked_by", "ack_comment"):
        # a cell a spreadsheet would run as a formula is written as text
        out[col] = out[col].map(lambda v: f"'{v}" if isinstance(v, str) and v[:1] in "=+-@\t\r" else v)
    for col in ("fired_at", "acked_at", "resolved_at", "escalated_at"):
        ts = pd.to_datetime(out[col], unit="s", utc=True)
        out[col] = ts.dt.tz_convert(tz).map(lambda t: "" if pd.isna(t) else t.isoformat())
    buf = io.StringIO()
    out.to_csv(buf, index=False)
    return buf.getvalue()
