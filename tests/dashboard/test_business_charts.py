"""The business page's charts and flags as a DBA reads them (issue 12, items 6 and 7), and the
instance view's reads (item 11). Pure pieces on the product's synthetic fleet."""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import fleetdata
from alerting import flags as fl
from dashboard import business_data as bd
from dashboard import figures as fg
from dashboard import instance_data as idt
from store import Store

TZ = "Asia/Shanghai"
NOW = 1_795_910_400   # 2026-11-29 00:00 UTC = 08:00 in Shanghai


@pytest.fixture(scope="module")
def cold_cluster(tmp_path_factory):
    """A small synthetic fleet where every instance of one memcached cluster misses: hit ratio
    about 61 % (the rule warns under 80 %), through the store's write path and the alert engine."""
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('cold') / 'store.sqlite'}")
    now = int(time.time()) // 60 * 60
    data = fleetdata.write_fleet(store, fleetdata.build_inventory(40), now, raw_hours=1)
    series = store.series(metric="hit_ratio")
    cluster = next(c.name for c in data.inventory.clusters if c.service == "memcached")
    cold = series[(series["cluster"] == cluster) & series["instance"].notna()]
    ts = np.arange(now - 1800, now + 1, 60)
    for k, sid in enumerate(cold["id"]):
        store.write_samples(np.full(len(ts), sid), ts, np.full(len(ts), 61.0 + k))
    fleetdata.evaluate(store, now)
    yield store, cluster, cold, now
    store.close()


def test_identical_flags_of_a_cluster_are_one_row_with_the_count(cold_cluster):
    store, cluster, cold, now = cold_cluster
    business = store.clusters().set_index("name").loc[cluster, "business"]
    alerts = store.open_alerts(include_pending=False)
    alerts = alerts[alerts["business"] == business]
    assert (alerts["rule"] == "hit_ratio").sum() == len(cold) > 1          # one stored alert per instance
    rows = [r for r in bd.flag_rows(alerts) if r["metric"] == "hit_ratio"]
    assert len(rows) == 1
    assert rows[0]["instances"] == sorted(cold["instance"]) and rows[0]["cluster"] == cluster
    assert "61" in rows[0]["reason"]                                     # the worst one's reason


def test_since_is_when_the_breach_began_and_holds_across_cycles(cold_cluster):
    store, cluster, cold, now = cold_cluster
    first = {r["where"]: r["since"] for r in bd.flag_rows(store.open_alerts(include_pending=False))}
    ts = np.array([now + 60])
    for k, sid in enumerate(cold["id"]):
        store.write_samples([sid], ts, [61.0 + k])
    fleetdata.evaluate(store, now + 60)
    again = {r["where"]: r["since"] for r in bd.flag_rows(store.open_alerts(include_pending=False))}
    assert again == first
    alerts = store.open_alerts(include_pending=False)
    mine = alerts[alerts["cluster"] == cluster]
    assert set(again.values()) >= {int(mine["started_at"].min())}


def test_since_is_the_first_sample_over_the_threshold_not_when_it_fired():
    """A rule with a ``for`` duration fires later than the breach began: the row says when it began."""
    a = pd.DataFrame([{"id": 7, "business": "b", "cluster": "c1", "instance": "i1", "rule": "hit_ratio", "metric": "hit_ratio",
                       "severity": "warn", "state": "firing", "value": 61.0, "threshold": 80.0,
                       "reason": "hit_ratio 61 < 80", "started_at": NOW - 1800, "fired_at": NOW - 600,
                       "silenced_by": None, "acked_by": None}])
    assert bd.flag_rows(a)[0]["since"] == NOW - 1800


def test_a_ratio_line_is_named_mean_and_its_band_shows_the_worst_series(cold_cluster):
    store, cluster, cold, now = cold_cluster
    business = store.clusters().set_index("name").loc[cluster, "business"]
    series = bd.business_series(store, business)
    total, per_cluster = bd.history(store, series, business, "hit_ratio", now - 1800, now + 1)
    assert total["min"].min() <= 61.0 + 1e-6        # the worst instance, not a mean of minimums
    fig = fg.history_figure(total, per_cluster, "hit_ratio", TZ, "en")
    names = [t.name for t in fig.data]
    assert "mean" in names and "sum" not in names
    qps = fg.history_figure(total.assign(value=1.0), per_cluster, "qps", TZ, "en")
    assert "sum" in [t.name for t in qps.data]
    assert "平均" in [t.name for t in fg.history_figure(total, per_cluster, "hit_ratio", TZ, "zh").data]


def _frame(values, start=NOW - 3600):
    return pd.DataFrame({"ts": np.arange(start, start + 60 * len(values), 60), "value": values,
                         "min": values, "max": values})


def test_hover_values_carry_their_units():
    assert fg.value_text("qps", 53_727.69) == "53.7k/s"
    assert fg.value_text("mem_used", 3.2 * (1 << 30)) == "3.2 GiB"
    assert fg.value_text("hit_ratio", 61.0) == "61.0%"
    fig = fg.history_figure(_frame([53_727.69, 54_000.0]), pd.DataFrame({"group": [], "ts": [], "value": []}),
                            "qps", TZ, "en")
    line = next(t for t in fig.data if t.name == "sum")
    assert line.customdata[0] == "53.7k/s" and "customdata" in line.hovertemplate


def test_values_just_under_a_unit_step_never_read_in_exponent_form():
    assert fg.value_text("net_in", 1023.6 * 1024) == "1024 KiB/s"
    assert fg.value_text("qps", 999_700.0) == "1000k/s"


def test_the_engines_fixed_words_have_zh():
    from dashboard import labels as lb
    assert lb.t(bd.reason_key("every instance silent"), "zh") == "所有实例均无数据"
    assert lb.t(bd.rule_key("cluster_stale"), "zh") == "集群无数据"
    assert bd.reason_key("mem_util 97") is None


def test_time_axes_name_the_zone_and_share_one_crosshair():
    fig = fg.realtime_figure(pd.DataFrame({"instance": [], "ts": [], "value": []}), _frame([1.0, 2.0]), "qps", TZ,
                             "en")
    assert "Asia/Shanghai" in fig.layout.xaxis.title.text and "UTC+08:00" in fig.layout.xaxis.title.text
    assert "UTC+08:00" in fig.layout.xaxis.hoverformat
    assert fig.layout.hovermode == "x unified" and fig.layout.xaxis.showspikes
    assert "时间" in fg.realtime_figure(pd.DataFrame({"instance": [], "ts": [], "value": []}), _frame([1.0]), "qps",
                                       TZ, "zh").layout.xaxis.title.text


def test_a_hover_of_many_lines_becomes_each_lines_own_with_its_time():
    many = pd.concat([_frame([1.0, 2.0]).assign(instance=f"10.0.0.{i}:6379") for i in range(33)])
    fig = fg.realtime_figure(many, _frame([33.0, 66.0]), "qps", TZ, "en")
    assert fig.layout.hovermode == "closest" and fig.layout.xaxis.showspikes
    assert all("UTC+08:00" in t.hovertemplate for t in fig.data)


def test_last_year_overlay_has_a_colour_and_dash_of_its_own():
    per_cluster = pd.concat([_frame([1.0, 2.0]).assign(group=f"c{i}") for i in range(12)])
    fig = fg.history_figure(_frame([5.0, 6.0]), per_cluster, "qps", TZ, "en", _frame([3.0, 4.0]), "last year")
    over = next(t for t in fig.data if t.name == "last year")
    others = [t for t in fig.data if t.name != "last year"]
    assert over.line.color not in fig.layout.colorway
    assert all(t.line.color != over.line.color for t in others)
    assert all(t.line.dash in (None, "solid") for t in others) and over.line.dash not in (None, "solid")


def _shards(clusters: int, shards: int) -> pd.DataFrame:
    rows = [{"cluster": f"c{c}", "instance": f"10.0.{c}.{s}:6379", "shard": s, "value": 1000.0 + 10 * s + c}
            for c in range(clusters) for s in range(shards)]
    return pd.DataFrame(rows)


def test_median_labels_of_several_clusters_do_not_overlap():
    fig = fg.shard_balance_figure(_shards(3, 4), "qps", "en")
    medians = [a for a in fig.layout.annotations if a.text.startswith("median")]
    assert len(medians) == 3
    xs = sorted(float(a.x) for a in medians)
    assert all(b - a >= 3 for a, b in zip(xs, xs[1:]))       # a cluster's width apart (4 bars each)


def test_memory_utilisation_reads_on_a_fixed_0_to_100_axis():
    fig = fg.history_figure(_frame([20.0, 30.0]), pd.DataFrame({"group": [], "ts": [], "value": []}), "mem_util",
                            TZ, "en")
    assert tuple(fig.layout.yaxis.range) == (0, 100) and fig.layout.yaxis.ticksuffix == "%"
    shard = fg.shard_balance_figure(_shards(1, 4).assign(value=25.0), "mem_util", "en")
    assert tuple(shard.layout.yaxis.range) == (0, 100)


def test_threshold_lines_are_the_rules_for_the_star_level():
    warn, crit = fl.thresholds(next(r for r in fl.RULES if r.metric == "mem_util"), 5)
    marks = bd.rule_thresholds(fl.RULES, "mem_util", 5)
    assert marks == [("warn", warn), ("crit", crit)]
    fig = fg.history_figure(_frame([20.0, 30.0]), pd.DataFrame({"group": [], "ts": [], "value": []}), "mem_util",
                            TZ, "en", thresholds=marks)
    assert sorted(s.y0 for s in fig.layout.shapes) == sorted([warn, crit])
    assert bd.rule_thresholds(fl.RULES, "qps", 5) == []


def test_history_footer_never_ends_in_the_future():
    lo, hi = bd.parse_range(None, None, TZ, NOW)       # today's whole day ends at midnight ahead
    assert hi > NOW and bd.shown_end(hi, NOW) == NOW


def test_quick_ranges_roll_up_to_now():
    assert bd.preset_range("1h", NOW) == (NOW - 3600, NOW + 1)
    assert bd.preset_range("30d", NOW)[0] == NOW - 30 * 86400
    with pytest.raises(bd.RangeError, match="1h, 24h, 7d, 30d"):
        bd.preset_range("2w", NOW)


def test_page_without_a_metric_opens_on_the_worst_flags(cold_cluster):
    store, cluster, cold, now = cold_cluster
    alerts = store.open_alerts(include_pending=False)
    alerts = alerts[alerts["cluster"] == cluster]
    assert bd.flagged_metric(alerts, ["qps", "hit_ratio"]) == "hit_ratio"
    assert bd.flagged_metric(alerts.iloc[0:0], ["qps"]) is None


# ------------------------------------------------------------------ instance view reads
def test_instance_view_has_role_replication_limits_and_zabbix_items(fleet):
    store = fleet[0]
    inst = store.instances()
    replica = inst[(inst["business"] == fleetdata.CRIT) & (inst["role"] == "slave")].iloc[0]
    view = idt.find(store, replica["name"])
    assert view is not None and view.instance["role"] == "slave"
    assert set(view.members["role"]) == {"master", "slave"}
    assert view.members.set_index("name").loc[replica["name"], "repl_ok"] >= 0.5     # link up
    assert idt.limits(view)["mem_max"] == 8 * (1 << 30)
    assert view.series["zabbix_itemid"].notna().all()
    link = idt.item_link(view.series["zabbix_itemid"].iloc[0], "http://z.example/")
    assert link == f"http://z.example/history.php?action=showgraph&itemids%5B%5D={view.series['zabbix_itemid'].iloc[0]}"
    assert idt.item_link("123", "") == "" and idt.item_link(None, "http://z") == ""


@pytest.mark.parametrize("name", ["no-such:1", "", None, "../etc/passwd"])
def test_unknown_instance_is_none(fleet, name):
    assert idt.find(fleet[0], name) is None
