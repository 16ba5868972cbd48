"""The NOC wall's tiles as plain data: what each tile shows, and what changed between two
snapshots (the refresh sends only that). Pure: no store, no Dash."""
from __future__ import annotations

import math

import pandas as pd

from dashboard import labels as lb


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


def tile_view(row, lang: str) -> dict:
    """What one tile shows: class, QPS text, change text and class, sparkline, tooltip."""
    qps = None if pd.isna(row.qps) else float(row.qps)
    week = None if pd.isna(row.qps_week) else float(row.qps_week)
    chg, direction = lb.change(qps, week)
    tip = f"{row.business} · {lb.t(row.severity, lang)}"
    if row.reason:
        tip += f" · {lb.note(row.reason, lang)} @ {row['where'] if isinstance(row, pd.Series) else row.where}"
    return {
        "cls": f"tile sev-{row.severity}",
        "qps": lb.si(qps),
        "chg": chg,
        "chg_cls": f"chg {direction}",
        "spark": sparkline_points(list(row.spark)),
        "tip": tip,
    }


def views(tiles: pd.DataFrame, lang: str) -> list[dict]:
    return [tile_view(r, lang) for r in tiles.itertuples(index=False)]


def grid(tiles: pd.DataFrame, views_: list[dict], lang: str) -> dict:
    """What the browser needs to draw every tile (peakwatch.js ``renderWall``): product lines with
    the indices of their tiles, names, stars and each tile's view. One JSON document instead of
    thousands of Dash components: the wall paints in a fraction of the time."""
    lines = [[str(line), frame.index.tolist()] for line, frame in tiles.groupby("product_line", sort=True)]
    return {"lines": lines, "names": tiles["business"].tolist(), "stars": tiles["star"].astype(int).tolist(),
            "views": views_, "chg_title": lb.t("vs_last_week", lang)}


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
