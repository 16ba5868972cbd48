"""From this cycle's hits and the open alerts to the alerts' next states (pure).

pending (breaching, ``for`` not elapsed) -> firing -> acknowledged -> resolved. A pending alert
that clears is forgotten (it was never red); a firing one resolves only when its value is back past
the rule's clear threshold (a ``hold`` hit keeps it open). Severity changes are events of the same
alert; silenced and inhibited are re-decided every cycle.
"""
from __future__ import annotations

import math

import pandas as pd

from store.alert_types import CycleWrite

VALUE_STEP = 0.01          # a firing alert's value is rewritten when it moved by more than 1%


def _num(x):
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _changed(old, new) -> bool:
    a, b = _num(old), _num(new)
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > VALUE_STEP * max(abs(a), abs(b), 1e-9)


def records(frame: pd.DataFrame) -> list[dict]:
    """Rows as dicts with None (not NaN) for missing values: pandas turns a nullable integer
    column with a gap into floats with NaN, which is truthy and compares false."""
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in frame.to_dict("records")]


def advance(open_alerts: pd.DataFrame, hits: pd.DataFrame, for_s: dict[str, int], now: int,
            write: CycleWrite) -> tuple[list[dict], list[dict]]:
    """Fill ``write`` with new, changed, deleted alerts and their events.

    Returns:
        (open alerts after this cycle as dicts (new ones carry their open_key as ``ref``),
         alerts resolved in this cycle)
    """
    current = {r["open_key"]: r for r in records(open_alerts)}
    after: list[dict] = []
    resolved: list[dict] = []
    seen = set()
    for h in hits.to_dict("records"):
        key = h["key"]
        seen.add(key)
        a = current.get(key)
        if a is None:
            if h["severity"] == "hold":
                continue
            after.append(_new(h, for_s.get(h["rule"], 0), now, write))
            continue
        if h["severity"] == "hold" and a["state"] == "pending":
            write.deleted.append(int(a["id"]))
            continue
        after.append(_update(a, h, for_s.get(h["rule"], 0), now, write))
    silent_inst = set(hits.loc[hits["rule"] == "stale", "instance"].dropna())
    silent_cl = set(hits.loc[hits["rule"] == "cluster_stale", "cluster"].dropna()) | \
        set(hits.loc[(hits["rule"] == "stale") & hits["instance"].isna(), "cluster"].dropna())
    for key, a in current.items():
        if key in seen:
            continue
        if a["rule"] not in ("stale", "cluster_stale") and (a["instance"] in silent_inst or a["cluster"] in silent_cl):
            after.append(dict(a, below=False))     # no data is not a recovery: kept as it was
            continue
        if a["state"] == "pending":
            write.deleted.append(int(a["id"]))
            continue
        write.changed.append({"id": int(a["id"]), "state": "resolved", "open_key": None, "resolved_at": now,
                              "updated_at": now})
        write.events.append((int(a["id"]), now, "resolved", "", a["reason"]))
        resolved.append(dict(a, state="resolved", resolved_at=now))
    return after, resolved


def _new(h: dict, for_s: int, now: int, write: CycleWrite) -> dict:
    firing = for_s <= 0
    since = h.get("since")
    start = int(since) if since is not None and since == since else now    # stale: since the data stopped
    state = ("acknowledged" if h.get("ack") else "firing") if firing else "pending"
    row = {"dedup_key": h["key"], "open_key": h["key"], "business": h["business"],
           "product_line": h["product_line"] or "", "star": int(h["star"]), "cluster": h["cluster"],
           "instance": h["instance"], "rule": h["rule"], "metric": h["metric"] or "", "severity": h["severity"],
           "state": state, "value": _num(h["value"]), "threshold": _num(h["threshold"]), "reason": h["reason"],
           "started_at": start, "fired_at": start if firing else None, "updated_at": now,
           "acked_by": "source" if state == "acknowledged" else None,
           "acked_at": now if state == "acknowledged" else None, "ack_comment": None, "resolved_at": None,
           "escalated_at": None, "silenced_by": None, "inhibited": int(bool(h["inhibited"]))}
    write.new.append(row)
    if firing:
        write.events.append((h["key"], now, "fired", "", f"{h['severity']}: {h['reason']}"))
    return dict(row, ref=h["key"], below=bool(h["below"]))


def _update(a: dict, h: dict, for_s: int, now: int, write: CycleWrite) -> dict:
    aid = int(a["id"])
    ch: dict = {}
    if a["state"] == "pending" and now - int(a["started_at"]) >= for_s:
        ch.update(state="acknowledged" if h.get("ack") else "firing", fired_at=now)
        write.events.append((aid, now, "fired", "", f"{h['severity']}: {h['reason']}"))
    elif a["state"] == "firing" and h.get("ack"):
        ch.update(state="acknowledged", acked_by="source", acked_at=now)
        write.events.append((aid, now, "acknowledged", "source", "acknowledged where it came from (Zabbix)"))
    sev = h["severity"] if h["severity"] != "hold" else a["severity"]
    if sev != a["severity"]:
        ch["severity"] = sev
        write.events.append((aid, now, "severity", "", f"{a['severity']} -> {sev}"))
    if _changed(a["value"], h["value"]):
        ch.update(value=_num(h["value"]), reason=h["reason"])
        if h["severity"] != "hold":
            ch["threshold"] = _num(h["threshold"])
    elif h["reason"] != a["reason"] and h["severity"] != "hold":
        ch["reason"] = h["reason"]
    if int(bool(h["inhibited"])) != int(a["inhibited"] or 0):
        ch["inhibited"] = int(bool(h["inhibited"]))
    if ch:
        ch.update(id=aid, updated_at=now)
        write.changed.append(ch)
    out = dict(a, **{k: v for k, v in ch.items() if k != "id"})
    out["below"] = bool(h["below"])
    return out
