"""The label table and what pure builders show in Chinese: metric names, units, roles, statuses,
reasons, durations, chart dates, the shard chart's median, the lift table."""
from __future__ import annotations

import re

import pandas as pd

import zh_walk
from dashboard import figures as fg
from dashboard import forecast_figures as ff
from dashboard import instance_rows as ir
from dashboard import labels as lb
from store.metrics import METRICS

PLACEHOLDER = re.compile(r"\{[^}]*\}|`[^`]*`|\b\w+_\w+\b")   # {n}, `python app.py`, setting names


def test_chinese_labels_have_no_english_words():
    english = {key: zh_walk.english_words(PLACEHOLDER.sub(" ", zh), [])
               for key, (_en, zh) in lb.LABELS.items()}
    assert {k: w for k, w in english.items() if w} == {}


def test_every_metric_and_unit_has_a_chinese_name():
    assert set(METRICS) <= set(lb.METRIC_NAMES)
    assert {m.units for m in METRICS.values()} <= set(lb.UNIT_NAMES)
    assert lb.metric_name("mem_util", "zh") == "内存利用率" and lb.metric_name("mem_util", "en") == "mem_util"


def test_stale_flag_does_not_read_no_data_twice():
    # the wall's flag shows severity then reason: "无数据 无数据" said nothing about what was wrong
    assert lb.t("stale", "zh") != lb.note("no data", "zh")


def test_durations_in_chinese():
    assert lb.duration(23 * 60, "zh") == "23分钟" and lb.duration(23 * 60) == "23m"
    assert lb.duration(7500, "zh") == "2小时05分钟" and lb.duration(42, "zh") == "42秒"
    assert lb.duration(3 * 86400, "zh") == "3天"


def test_reasons_and_notes_in_chinese():
    assert lb.note("mem_util 97.2", "zh") == "内存利用率 97.2"
    assert lb.note("no data", "zh") == "无数据"
    assert lb.note("every instance silent", "zh") == "所有实例均无数据"
    assert lb.note("too little normal history before the event", "zh") == "大促前的日常历史数据不足"
    assert lb.note("no data in the event window", "zh") == "大促期间无数据"
    assert lb.note("zabbix: Redis is down", "zh") == "Zabbix：Redis is down"    # Zabbix's own words stay
    assert lb.note("mem_util 97.2", "en") == "mem_util 97.2"


def test_roles_and_statuses_in_chinese():
    assert [lb.role(r, "zh") for r in ("master", "slave", "proxy")] == ["主", "从", "代理"]
    assert lb.role("slave", "en") == "replica"
    assert [lb.status(s, "zh") for s in ("over", "watch", "ok", "no forecast")] == ["超限", "关注", "正常", "无预测"]


def test_instance_row_role_and_link_in_chinese():
    r = pd.Series({"instance": "10.0.0.1:6380", "role": "slave", "repl_ok": 0.0, "shard": 1, "service": "redis",
                   "severity": "crit", "reason": "repl_ok 0"})
    row = ir.row(r, "zh", "")
    assert row["role"] == "从 · 链路断开"
    assert row["severity"] == "严重 (主从链路 0)"


def test_time_axes_in_chinese():
    frame = pd.DataFrame({"instance": ["a"] * 3, "ts": [1_795_910_400 + 60 * i for i in range(3)], "value": [1.0] * 3})
    fig = fg.realtime_figure(frame, frame[["ts", "value"]], "mem_util", "Asia/Shanghai", "zh")
    stops = {s.value for s in fig.layout.xaxis.tickformatstops}
    assert stops and not any("%b" in s or "%B" in s for s in stops)        # numeric dates: no "Jan 2025"
    assert fig.layout.xaxis.title.text.startswith("时间")
    assert fig.layout.title.text.startswith("内存利用率") and fig.layout.yaxis.ticksuffix == "%"


def test_shard_median_in_chinese():
    frame = pd.DataFrame({"cluster": ["c1"] * 3, "instance": ["a", "b", "c"], "shard": [0, 1, 2],
                          "value": [1.0, 1.0, 5.0]})
    texts = [a.text for a in fg.shard_balance_figure(frame, "qps", "zh").layout.annotations]
    assert any(t.startswith("中位数") for t in texts) and "热点分片" in texts


def test_lift_table_in_chinese():
    start = pd.Timestamp("2025-11-11 00:00", tz="Asia/Shanghai")
    lifts = pd.DataFrame({"name": ["11.11 2025"], "kind": ["11.11"], "start": [start], "baseline": [float("nan")],
                          "peak": [9e5], "lift": [float("nan")], "peak_time": [start], "peak_offset_hours": [0.0],
                          "note": ["too little normal history before the event"]})
    row = ff.lift_rows(lifts, "11.11", "zh")[0]
    assert row["start"] == "2025-11-11 00:00 UTC+8" and row["peak_offset"] == "+0 小时"
    assert row["note"] == "大促前的日常历史数据不足"
    assert ff.lift_rows(lifts, "11.11")[0]["start"] == "2025-11-11 00:00 CST"


def test_tile_tooltip_reason_in_chinese():
    from dashboard import tiles as tl
    row = pd.Series({"business": "trade-cart", "severity": "crit", "reason": "mem_util 97.2", "where": "trade-cart-re01",
                     "qps": 10.0, "qps_week": 8.0, "spark": [1.0, 2.0]})
    assert tl.tile_view(row, "zh", 0)["tip"] == "trade-cart · 严重 · 内存利用率 97.2 · trade-cart-re01"


def test_walker_tells_bytes_from_billions():
    assert zh_walk.english_words("0 B / 无限制 · 1.2 MiB/s · 12.3k", []) == []
    assert zh_walk.english_words("500B writes/day", []) == ["B", "day", "writes"]
    assert lb.named("method", "year_growth", "zh") == "同比增长" and lb.named("method", "x", "zh") == "x"
