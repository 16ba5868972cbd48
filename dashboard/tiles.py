"""The NOC wall's tiles as plain data: what each tile shows, and what changed between two
snapshots (the refresh sends only that). Pure: no store, no Dash."""
from __future__ import annotations

from urllib.parse import quote

import math

import pandas as pd

from dashboard import labels as lb
from store.metrics import METRICS


SPARK_W, SPARK_H = 100, 22   # the viewBox peakwatch.js draws sparklines in


def sparkline_points(values: list[float]) -> str:
    """Polyline points of a tiny sparkline ('' when there are fewer than two values)."""
    pts = [v for v in values if v is not None and not math.isnan(v)]
    if len(pts) < 2:
        return ""
    lo, hi = min(pts), max(pts)
    span = (hi - lo) or 1.0
    step = SPARK_W / (len(pts) - 1)
    return " ".join(f"{i * step:.0f},{SPARK_H - 1 - (v - lo) / span * (SPARK_H - 2):.0f}" for i, v in enumerate(pts))


#: severity is never colour alone: a glyph (and, in peakwatch.css, a border pattern) says it too
GLYPH = {"crit": "\u25b2", "warn": "\u25cf", "stale": "?", "ok": "\u2713"}     # ▲ ● ? ✓
#: units of the metrics flags name (the value follows the metric's name)
UNIT = {"mem_util": "%", "hit_ratio": "%", "cpu": "%"}


def _num(x) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _get(row, key: str, default=None):
    value = getattr(row, key, default) if not isinstance(row, pd.Series) else row.get(key, default)
    return default if value is None or (isinstance(value, float) and math.isnan(value)) else value


def reason_text(row, now: int, lang: str) -> str:
    """Why a business is flagged, in the wall's language: 'hit_ratio 60.47%' / '命中率 60.47%',
    'last data 12m ago' / '最后数据 12分钟前', 'Zabbix: <problem>'. ``row`` has severity, reason,
    since and (stored alerts) rule, metric, value."""
    rule, reason = str(_get(row, "rule", "")), str(_get(row, "reason", ""))
    metric, value = str(_get(row, "metric", "")), _num(_get(row, "value"))
    ago = lb.t("last_data", lang).format(d=lb.duration(now - int(_get(row, "since", now)), lang))
    if reason == "no series":
        return lb.t("no_series_short", lang)
    if rule == "stale" or (not rule and row.severity == "stale"):
        return ago
    if rule == "cluster_stale":
        return f"{lb.note(reason, lang)} · {ago}"
    if metric and value is not None and rule != "deviation":
        return f"{lb.metric_name(metric, lang)} {value:.4g}{UNIT.get(metric, '')}"
    return lb.note(reason, lang)      # Zabbix problems, deviation, watchdog


def display_name(name: str, line: str) -> str:
    """The name a tile shows under its product line's title: 'recommend-address2' -> 'address2'
    (the tile's tooltip and link keep the full name)."""
    prefix = f"{line}-"
    return name[len(prefix):] if name.startswith(prefix) and len(name) > len(prefix) else name


def tile_view(row, lang: str, now: int) -> dict:
    """What one tile shows: class, glyph, QPS text (or how long there has been no data), change
    text and class, sparkline, tooltip."""
    sev = row.severity
    qps = None if pd.isna(row.qps) else float(row.qps)
    week = None if pd.isna(row.qps_week) else float(row.qps_week)
    chg, direction = lb.change(qps, week)
    why = reason_text(row, now, lang) if sev != "ok" else ""
    held = bool(_get(row, "held", False))
    tip = " · ".join(x for x in (row.business, lb.t(sev, lang), why, str(_get(row, "where", "")),
                                lb.t("clearing", lang) if held else "") if x)
    view = {"cls": f"tile sev-{sev}" + (" held" if held else ""), "glyph": GLYPH.get(sev, "?"),
            "qps": lb.si(qps), "chg": chg, "chg_cls": f"chg {direction}",
            "spark": sparkline_points(list(row.spark)), "tip": tip}
    if sev == "stale":       # an old QPS is not the current one: say how long there has been none
        view.update(qps=why if _get(row, "reason", "") == "no series" else
                    lb.t("tile_no_data", lang).format(d=lb.duration(now - int(_get(row, "since", now)), lang)),
                    chg="", chg_cls="chg", spark="")
        view["cls"] += " nodata"
    return view


def views(tiles: pd.DataFrame, lang: str, now: int) -> list[dict]:
    return [tile_view(r, lang, now) for r in tiles.itertuples(index=False)]


def grid(tiles: pd.DataFrame, views_: list[dict], lang: str) -> dict:
    """What the browser needs to draw every tile (peakwatch.js ``renderWall``): product lines with
    the indices of their tiles, names (full, and as the tile shows them), stars and each tile's view.
    One JSON document instead of thousands of Dash components: the wall paints in a fraction of the time."""
    lines = [[str(line), frame.index.tolist()] for line, frame in tiles.groupby("product_line", sort=True)]
    return {"lines": lines, "names": tiles["business"].tolist(),
            "short": [display_name(n, str(pl)) for n, pl in zip(tiles["business"], tiles["product_line"])],
            "stars": tiles["star"].astype(int).tolist(), "views": views_, "chg_title": lb.t("vs_last_week", lang)}


def diff(old: list[dict] | None, new: list[dict]) -> dict[int, dict]:
    """Index -> only the fields that changed (everything when there is no old snapshot)."""
    if old is None or len(old) != len(new):
        return dict(enumerate(new))
    out: dict[int, dict] = {}
    for i, (a, b) in enumerate(zip(old, new)):
        changed = {k: v for k, v in b.items() if a.get(k) != v}
        if changed:
            out[i] = changed
    return out


def flag_href(row) -> str:
    """The business page, opened on the flagged metric when the flag has one (a stale flag has none)."""
    metric = getattr(row, "metric", None)
    href = f"/business/{quote(row.business)}"
    return f"{href}?metric={quote(metric)}" if isinstance(metric, str) and metric in METRICS else href
