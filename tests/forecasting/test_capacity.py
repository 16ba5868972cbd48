"""Capacity plan: utilisation at the predicted peak, headroom by star, what to add, CSV export."""
from __future__ import annotations

import pandas as pd
import pytest

from core.errors import ConfigError
from forecasting.capacity import CapacityLimits, export_csv, parse_headroom, plan

GIB = 2**30


def _frames():
    clusters = pd.DataFrame([
        dict(name="pay-core", business="pay", product_line="payment", service="redis", shard_count=4,
             qps_per_instance=0.0, mem_per_instance=0.0),
        dict(name="feed-cache", business="feed", product_line="content", service="redis", shard_count=4,
             qps_per_instance=0.0, mem_per_instance=0.0),
        dict(name="item-mc", business="item", product_line="trade", service="twemproxy", shard_count=4,
             qps_per_instance=0.0, mem_per_instance=0.0),
        dict(name="idle", business="feed", product_line="content", service="redis", shard_count=2,
             qps_per_instance=0.0, mem_per_instance=0.0),
    ])
    businesses = pd.DataFrame([dict(name="pay", star=5), dict(name="feed", star=1), dict(name="item", star=3)])
    fc = pd.DataFrame([
        ("pay-core", "qps", 200_000, 260_000), ("feed-cache", "qps", 200_000, 260_000),
        ("item-mc", "qps", 100_000, 120_000), ("item-mc", "proxy_qps", 70_000, 90_000),
        ("item-mc", "mem_used", 7 * GIB, 9 * GIB),
    ], columns=["group", "metric", "point", "upper"])
    proxies = pd.Series({"item-mc": 2})
    mem_max = pd.Series({"item-mc": 10 * GIB})
    return fc, clusters, businesses, proxies, mem_max


@pytest.fixture
def table():
    return plan(*_frames(), limits=CapacityLimits()).set_index("cluster")


def test_a_five_star_cluster_keeps_more_headroom_than_a_one_star_one(table):
    core, minor = table.loc["pay-core"], table.loc["feed-cache"]
    assert core["qps_util_point"] == minor["qps_util_point"] == pytest.approx(200_000 / 320_000)
    assert core["status"] == "over" and minor["status"] == "ok"
    assert core["add_shards"] == 2            # 260k / (80k x 60%) = 5.4 -> 6 shards
    assert minor["add_shards"] == 0
    assert "5-star" in core["reason"]


def test_twemproxy_gets_proxies_and_memory(table):
    row = table.loc["item-mc"]
    assert row["status"] == "watch"           # 70% at the point, 90% at the upper bound, 75% allowed
    assert row["proxy_util_upper"] == pytest.approx(0.9)
    assert row["add_proxies"] == 1            # 90k / (50k x 75%) = 2.4 -> 3 proxies
    assert row["add_mem_bytes"] == pytest.approx(2 * GIB)
    assert row["add_shards"] == 1             # memory: 9 GiB / (2.5 GiB x 75%) = 4.8 -> 5 shards


def test_rows_are_ranked_by_risk_and_unforecast_clusters_last(table):
    assert list(table.index) == ["pay-core", "item-mc", "feed-cache", "idle"]
    assert list(table["rank"]) == [1, 2, 3, 4]
    assert table.loc["idle", "status"] == "no forecast"


def test_csv_export_reads_back_for_a_change_ticket(tmp_path, table):
    path = export_csv(table.reset_index(), tmp_path / "plan.csv")
    back = pd.read_csv(path)
    row = back.set_index("cluster").loc["item-mc"]
    assert row["add_mem_gib"] == pytest.approx(2.0)
    assert row["proxy_util_pct_upper"] == pytest.approx(90.0)
    assert back["cluster"].tolist()[0] == "pay-core"


def test_per_instance_limit_from_the_cluster_wins_over_the_setting():
    fc, clusters, businesses, proxies, mem_max = _frames()
    clusters.loc[0, "qps_per_instance"] = 200_000
    row = plan(fc, clusters, businesses, proxies, mem_max).set_index("cluster").loc["pay-core"]
    assert row["qps_capacity"] == 800_000 and row["status"] == "ok"


@pytest.mark.parametrize("text", ["0.1,0.2", "a,b,c,d,e", "0.1,0.2,0.3,0.4,0.95"])
def test_bad_headroom_setting_names_itself(text):
    with pytest.raises(ConfigError, match="capacity_headroom"):
        parse_headroom(text)


def test_limits_come_from_the_settings_table_and_its_environment():
    from core.settings import load_settings
    limits = CapacityLimits.from_settings(load_settings(env={"PEAKWATCH_CAPACITY_PROXY_QPS": "30000",
                                                             "PEAKWATCH_CAPACITY_HEADROOM": "0,0,0,0,0.5"}))
    assert limits.proxy_qps == 30000 and limits.redis_qps == 80000
    assert limits.max_util(5) == 0.5 and limits.max_util(1) == 1.0


def test_the_csv_export_neutralises_cells_a_spreadsheet_would_run(tmp_path):
    import csv

    import pandas as pd

    from forecasting.capacity import export_csv
    names = ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "cart-cache"]
    plan = pd.DataFrame({"cluster": names, "business": ["b"] * 6, "qps_util_point": [0.5, -0.25, 1, 2, 3, 4.0],
                         "add_shards": [-1, 0, 1, 2, 3, 4]})
    with open(export_csv(plan, tmp_path / "plan.csv"), newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["cluster"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+1+2", "'-2+3", "'@SUM(A1)", "'\tcmd",
                                            "cart-cache"]
    assert [r["qps_util_pct_point"] for r in rows][:2] == ["50.0", "-25.0"] and rows[0]["add_shards"] == "-1"


def test_mixed_memory_limits_size_only_the_limited_shards():
    """Two shards at 8 GiB with 3.4 and 3.5 GiB used, two without maxmemory holding 6 GiB each:
    dividing all 19 GiB by the 16 GiB of limits said 118% (a false alarm); the limited shards are at
    43%, and the plan says how many shards it cannot size."""
    from forecasting.capacity import memory_by_cluster
    latest = pd.DataFrame({"cluster": ["c"] * 4, "instance": list("abcd"),
                           "mem_used": [3.4 * GIB, 3.5 * GIB, 6 * GIB, 6 * GIB], "mem_max": [8 * GIB, 8 * GIB, 0, 0]})
    mem = memory_by_cluster(latest)
    assert mem.loc["c", "limit"] == 16 * GIB and mem.loc["c", "unlimited"] == 2
    clusters = pd.DataFrame([dict(name="c", business="b", product_line="p", service="redis", shard_count=4,
                                  qps_per_instance=0.0, mem_per_instance=0.0)])
    fc = pd.DataFrame([("c", "mem_used", 18.9 * GIB, 18.9 * GIB)], columns=["group", "metric", "point", "upper"])
    row = plan(fc, clusters, pd.DataFrame([dict(name="b", star=3)]), pd.Series(dtype=int), mem).iloc[0]
    assert row["mem_util_point"] == pytest.approx(6.9 / 16)
    assert row["status"] == "ok" and "2 of 4 shards have no memory limit" in row["reason"]
    unlimited = memory_by_cluster(latest.assign(mem_max=0.0))
    row = plan(fc, clusters, pd.DataFrame([dict(name="b", star=3)]), pd.Series(dtype=int), unlimited).iloc[0]
    assert pd.isna(row["mem_util_point"]) and row["add_mem_bytes"] == 0


def test_proxies_in_a_redis_cluster_are_sized_as_proxies():
    clusters = pd.DataFrame([dict(name="r", business="b", product_line="p", service="redis", shard_count=4,
                                  qps_per_instance=0.0, mem_per_instance=0.0)])
    fc = pd.DataFrame([("r", "qps", 200_000, 220_000), ("r", "proxy_qps", 90_000, 100_000)],
                      columns=["group", "metric", "point", "upper"])
    row = plan(fc, clusters, pd.DataFrame([dict(name="b", star=3)]), pd.Series({"r": 2}), pd.Series(dtype=float)).iloc[0]
    assert row["qps_capacity"] == 4 * 80_000 and row["proxy_capacity"] == 2 * 50_000
    assert row["proxy_util_point"] == pytest.approx(0.9) and row["add_proxies"] == 1


def test_action_says_current_and_target_shard_counts_and_what_the_memory_alternative_is(table):
    from forecasting.capacity import action, action_text
    core = action(table.loc["pay-core"].to_dict())
    assert (core.shards, core.shards_to) == (4, 6)
    assert table.loc["pay-core", "action"] == "split 4 -> 6 shards (+2)"
    # short of memory (and proxies) only: raising maxmemory per shard is the alternative to a split,
    # said per shard, not as a cluster total beside a shard count
    item = action(table.loc["item-mc"].to_dict())
    assert item.mem_per_shard == pytest.approx(0.5 * GIB) and item.mem_per_shard_to == pytest.approx(3 * GIB)
    assert action_text(item) == ("raise maxmemory to 3.0 GiB per shard (+0.5 GiB each) or split 4 -> 5 shards (+1); "
                                 "proxies 2 -> 3 (+1)")
    assert table.loc["feed-cache", "action"] == "no change"


def test_deadline_to_act_is_the_start_minus_the_lead_time():
    from forecasting.capacity import act_by
    start = pd.Timestamp("2026-12-12 00:00", tz="Asia/Shanghai")
    assert act_by(start, 7) == pd.Timestamp("2026-12-05 00:00", tz="Asia/Shanghai")
