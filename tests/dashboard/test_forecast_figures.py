"""Builders of the promotions and capacity pages: what each figure and table shows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import forecast_figures as ff
from forecasting.capacity import CapacityLimits, plan

GIB = 1 << 30


def aligned_rows() -> pd.DataFrame:
    """compare.align-shaped rows: two 11.11s, one 6.18, and today."""
    hours = np.arange(-3, 4, dtype=float)
    parts = []
    for event, kind, scale in (("11.11 2024", "11.11", 1.0), ("11.11 2025", "11.11", 2.0),
                               ("6.18 2025", "6.18", 1.5), ("today", "today", 1.8)):
        parts.append(pd.DataFrame({"event": event, "kind": kind, "offset_hours": hours,
                                   "local_time": pd.date_range("2025-11-10 21:00", periods=7, freq="h"),
                                   "value": scale * 1000 * (1 + (hours == 0) * 4), "relative": 1 + (hours == 0) * 4.0}))
    return pd.concat(parts, ignore_index=True)


def test_overlay_has_one_line_per_promotion_of_the_kind_then_today():
    fig = ff.overlay_figure(aligned_rows(), "11.11", "qps", "en")
    assert [t.name for t in fig.data] == ["11.11 2024", "11.11 2025", "today"]
    assert max(fig.data[1].y) == 10_000 and list(fig.data[1].x) == list(range(-3, 4))
    assert fig.data[2].line.dash == "dot"                       # today stands out
    assert fig.data[0].line.color != fig.data[1].line.color


def test_overlay_relative_scale_and_memory_in_gib():
    rows = aligned_rows()
    rel = ff.overlay_figure(rows, "11.11", "qps", "en", relative=True)
    assert max(rel.data[0].y) == 5.0 and "normal" in rel.layout.yaxis.title.text
    mem = ff.overlay_figure(rows.assign(value=rows["value"] * GIB), "6.18", "mem_used", "zh")
    assert mem.layout.yaxis.title.text == "GiB" and max(mem.data[0].y) == 7500
    assert mem.data[-1].name == "今天"


def test_lift_rows_newest_first_with_the_lift_as_a_multiplier():
    tz = "Asia/Shanghai"
    lifts = pd.DataFrame({
        "name": ["11.11 2024", "6.18 2025", "11.11 2025"], "kind": ["11.11", "6.18", "11.11"],
        "start": [pd.Timestamp("2024-11-11", tz=tz), pd.Timestamp("2025-06-18", tz=tz), pd.Timestamp("2025-11-11", tz=tz)],
        "baseline": [1000.0, 1500.0, 2000.0], "peak": [5000.0, 6000.0, np.nan], "lift": [5.0, 4.0, np.nan],
        "peak_time": [pd.Timestamp("2024-11-11 00:10", tz=tz), pd.Timestamp("2025-06-18 01:00", tz=tz), pd.NaT],
        "peak_offset_hours": [0.17, 1.0, np.nan], "note": ["", "", "no data in the event"]})
    rows = ff.lift_rows(lifts, "11.11")
    assert [r["name"] for r in rows] == ["11.11 2025", "11.11 2024"]
    assert rows[1]["lift"] == "×5.00" and rows[1]["baseline"] == "1k" and rows[1]["peak"] == "5k"
    assert rows[1]["start"] == "2024-11-11 00:00 CST" and rows[1]["peak_offset"] == "+0 h"
    assert rows[0]["lift"] == "–" and rows[0]["peak_time"] == "–" and rows[0]["note"] == "no data in the event"
    assert len(ff.lift_rows(lifts)) == 3


def forecasts(n: int = 50) -> pd.DataFrame:
    point = np.arange(1, n + 1) * 1000.0
    return pd.DataFrame({"group": [f"biz-{i:02d}" for i in range(n)], "point": point, "lower": point * 0.9,
                         "upper": point * 1.2, "baseline": point / 3, "low_confidence": [i == n - 1 for i in range(n)]})


def test_forecast_figure_shows_the_top_groups_biggest_on_top_with_their_interval():
    rows = forecasts()
    rows.loc[0, "point"] = np.nan
    fig = ff.forecast_figure(rows, "qps", "peaks", "en", top=10)
    peak = fig.data[0]
    assert len(peak.y) == 10 and peak.y[-1] == "biz-49" and peak.y[0] == "biz-40"
    assert peak.error_x.array[-1] == pytest.approx(50_000 * 0.2)
    assert peak.error_x.arrayminus[-1] == pytest.approx(50_000 * 0.1)
    assert peak.marker.symbol[-1] == "circle-open" and peak.marker.symbol[0] == "circle"
    assert list(fig.data[1].x) == pytest.approx(list(np.arange(41, 51) * 1000 / 3))


def test_forecast_figure_reads_memory_in_gib():
    rows = forecasts(3).assign(point=lambda d: d["point"] * GIB, lower=lambda d: d["lower"] * GIB,
                               upper=lambda d: d["upper"] * GIB, baseline=lambda d: d["baseline"] * GIB)
    fig = ff.forecast_figure(rows, "mem_used", "memory", "en")
    assert fig.layout.xaxis.title.text == "GiB" and max(fig.data[0].x) == 3000


@pytest.fixture
def capacity_plan() -> pd.DataFrame:
    clusters = pd.DataFrame({"name": ["hot-re01", "calm-re01", "proxy-tw01", "new-re01"],
                             "business": ["hot", "calm", "proxy", "new"], "product_line": "trade",
                             "service": ["redis", "redis", "twemproxy", "redis"], "shard_count": [4, 4, 4, 2],
                             "qps_per_instance": [80_000.0, 80_000.0, 100_000.0, 80_000.0],
                             "mem_per_instance": 8.0 * GIB})
    businesses = pd.DataFrame({"name": ["hot", "calm", "proxy", "new"], "star": [5, 2, 3, 1]})
    fc = pd.DataFrame({
        "group": ["hot-re01", "hot-re01", "calm-re01", "calm-re01", "proxy-tw01", "proxy-tw01"],
        "metric": ["qps", "mem_used", "qps", "mem_used", "proxy_qps", "mem_used"],
        "point": [300_000.0, 10 * GIB, 50_000.0, 30 * GIB, 95_000.0, 4 * GIB],
        "upper": [340_000.0, 11 * GIB, 60_000.0, 31 * GIB, 110_000.0, 5 * GIB]})
    mem_max = pd.Series({"hot-re01": 32.0 * GIB, "calm-re01": 32.0 * GIB, "proxy-tw01": 32.0 * GIB})
    return plan(fc, clusters, businesses, pd.Series({"proxy-tw01": 2}), mem_max, CapacityLimits())


def test_worst_utilisation_picks_each_clusters_tightest_resource(capacity_plan):
    w = ff.worst_utilisation(capacity_plan).set_index("cluster")
    assert "new-re01" not in w.index                       # no forecast: nothing to draw
    assert w.loc["hot-re01", "resource"] == "qps" and w.loc["hot-re01", "upper"] == pytest.approx(340_000 / 320_000)
    assert w.loc["calm-re01", "resource"] == "memory" and w.loc["calm-re01", "allowed"] == pytest.approx(0.8)
    assert w.loc["proxy-tw01", "resource"] == "proxy_qps"


def test_utilisation_figure_rank_one_on_top_against_the_star_headroom(capacity_plan):
    fig = ff.utilisation_figure(capacity_plan, "en")
    point, upper, allowed = fig.data
    assert point.y[-1].startswith(capacity_plan.loc[0, "cluster"])   # plotly draws categories bottom-up
    assert len(point.y) == 3
    assert upper.x[-1] == pytest.approx(100 * 340_000 / 320_000)
    assert allowed.x[-1] == pytest.approx(60.0)                    # a 5-star business keeps 40% free
    assert all(u >= p for u, p in zip(upper.x, point.x))


def test_plan_rows_keep_the_risk_order_and_colour_by_status(capacity_plan):
    rows = ff.plan_rows(capacity_plan)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    assert rows[0]["cluster"] == "hot-re01" and rows[0]["status"] == "over" and rows[0]["sev"] == "crit"
    assert rows[0]["add_shards"] == 4 and rows[0]["star"] == "5★"
    assert rows[-1]["cluster"] == "new-re01" and rows[-1]["sev"] == "stale" and rows[-1]["util_upper"] == "–"
    calm = next(r for r in rows if r["cluster"] == "calm-re01")
    assert calm["resource"] == "memory" and calm["util_upper"] == "97%" and calm["add_mem"] != "0"


#: words a Chinese page may keep in Latin letters: names of things, units and setting names
LATIN_OK = {"UTC", "qps", "QPS", "GiB", "MiB", "TiB", "maxmemory", "CSV", "capacity_lead_days", "confidence_note", "redis",
            "memcached", "twemproxy", "proxy", "Asia", "Shanghai"}


def english_words(text: str, names=()) -> list[str]:
    """Latin words of ``text`` that are neither ``names`` (clusters, businesses) nor in LATIN_OK."""
    import re
    tokens = re.findall(r"[A-Za-z0-9_.-]+", text)
    return [t for t in tokens if re.search(r"[A-Za-z]{2,}", t) and t not in set(names) | LATIN_OK]


def test_plan_rows_show_current_shards_and_the_action_in_the_pages_language(capacity_plan):
    en = {r["cluster"]: r for r in ff.plan_rows(capacity_plan, "en")}
    assert en["hot-re01"]["shards"] == 4 and en["hot-re01"]["action"] == "split 4 → 8 shards (+4)"
    assert en["proxy-tw01"]["proxies"] == 2 and en["calm-re01"]["proxies"] == "–"
    assert en["calm-re01"]["action"].startswith("raise maxmemory to ") and " per shard (+" in en["calm-re01"]["action"]
    assert en["hot-re01"]["status"] == "over"
    zh = {r["cluster"]: r for r in ff.plan_rows(capacity_plan, "zh")}
    assert zh["hot-re01"]["status"] == "超限" and zh["hot-re01"]["action"] == "拆分 4 → 8 个分片（+4）"
    assert "5 星业务允许 60%" in zh["hot-re01"]["reason"]
    names = list(capacity_plan["cluster"]) + list(capacity_plan["business"])
    for r in zh.values():
        shown = " ".join(str(r[c]) for c in ("status", "action", "resource", "confidence", "reason"))
        assert english_words(shown, names) == [], shown


def test_capacity_summary_says_what_by_when_and_how_sure(capacity_plan):
    from types import SimpleNamespace

    from forecasting.events import Event
    target = Event("12.12 2026", "12.12", pd.Timestamp("2026-12-12", tz="Asia/Shanghai"),
                   pd.Timestamp("2026-12-13", tz="Asia/Shanghai"))
    settings = SimpleNamespace(timezone="Asia/Shanghai", capacity_lead_days=7)
    result = {"cutoff": int(pd.Timestamp("2026-11-30 16:00", tz="UTC").timestamp())}
    backtest = {"n": 2100, "mdape": 0.13, "coverage_80": 0.9, "version": "v"}
    now = int(pd.Timestamp("2026-12-01 02:00", tz="UTC").timestamp())
    lines = ff.capacity_summary(target, capacity_plan, result, backtest, settings, now, "en")
    text = "\n".join(lines)
    assert "starts 2026-12-12 00:00; data up to 2026-12-01 00:00 (times in Asia/Shanghai)" in text
    assert "4 clusters: 3 over, 0 watch, 0 ok. 1 without a forecast." in text
    assert "Act by 2026-12-05 00:00" in text and "4 days left" in text
    assert "(2100 business forecasts): median error 13%, the 80% interval held the real peak 90%" in text
    zh = "\n".join(ff.capacity_summary(target, capacity_plan, result, None, settings, now, "zh"))
    assert "请在 2026-12-05 00:00 前完成" in zh and "还剩 4 天" in zh
    assert english_words(zh, ["12.12"]) == [], zh
    late = ff.capacity_summary(target, capacity_plan, result, None, settings, now + 8 * 86400, "en")
    assert "passed 4 days ago" in late[1]
