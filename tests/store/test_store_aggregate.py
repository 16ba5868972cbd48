"""Aggregates: shards combine by the metric's rule; a cluster-level series is preferred."""
from __future__ import annotations

import numpy as np
import pytest
from storekit import CLUSTERS, HOUR, T0, minutes

from core.errors import StoreInputError

N = 120  # two hours of minutes


@pytest.fixture
def traffic(fleet):
    """Every instance writes qps = 100 * (cluster number) + shard, mem_util = 10 * shard + minute/100;
    the pay-sessions cluster-level qps series says 7777."""
    store, ids = fleet
    t = minutes(T0, N)
    sid, ts, val = [], [], []
    for c, (name, (_, _, shards)) in enumerate(CLUSTERS.items(), start=1):
        for shard in range(shards):
            inst = f"{name}-{shard}:6379"
            for metric, v in (("qps", np.full(N, 100.0 * c + shard)), ("mem_util", 10.0 * shard + np.arange(N) / 100)):
                sid.append(np.full(N, ids[f"{inst}/{metric}"]))
                ts.append(t)
                val.append(v)
    sid.append(np.full(N, ids["cluster:pay-sessions/qps"]))
    ts.append(t)
    val.append(np.full(N, 7777.0))
    store.write_samples(np.concatenate(sid), np.concatenate(ts), np.concatenate(val))
    return store


def by_group(frame):
    return {g: part["value"].tolist() for g, part in frame.groupby("group")}


def test_cluster_qps_is_the_sum_over_shards_unless_the_cluster_keeps_its_own_series(traffic):
    got = by_group(traffic.aggregate("cluster", "qps", T0, T0 + 2 * HOUR))
    assert got == {"pay-cache": [4 * 100 + 6] * N,        # shards 0..3 of cluster 1
                   "pay-sessions": [7777.0] * N,          # cluster-level series, not 2 * 200 + 1
                   "cart-cache": [2 * 300 + 1] * N,
                   "query-cache": [3 * 400 + 3] * N}


def test_business_product_line_and_fleet_qps_add_up_their_clusters(traffic):
    end = T0 + 2 * HOUR
    assert by_group(traffic.aggregate("business", "qps", T0, end)) == {
        "pay": [406 + 7777.0] * N, "cart": [601.0] * N, "query": [1203.0] * N}
    assert by_group(traffic.aggregate("product_line", "qps", T0, end)) == {
        "trade": [406 + 7777.0 + 601] * N, "search": [1203.0] * N}
    assert by_group(traffic.aggregate("fleet", "qps", T0, end)) == {"fleet": [406 + 7777.0 + 601 + 1203] * N}
    assert by_group(traffic.aggregate("business", "qps", T0, end, groups=["cart"])) == {"cart": [601.0] * N}


def test_memory_utilisation_is_the_worst_shard(traffic):
    got = traffic.aggregate("business", "mem_util", T0, T0 + 2 * HOUR)
    pay = got[got["group"] == "pay"]
    assert pay["value"].tolist() == pytest.approx((30 + np.arange(N) / 100).tolist())   # pay-cache shard 3
    query = got[got["group"] == "query"]
    assert query["value"].tolist() == pytest.approx((20 + np.arange(N) / 100).tolist())


def test_aggregates_are_downsampled_and_come_from_rollups_over_long_ranges(traffic):
    got = traffic.aggregate("cluster", "qps", T0, T0 + 2 * HOUR, max_points=12, groups=["pay-cache"])
    assert got["ts"].tolist() == list(range(T0, T0 + 2 * HOUR, 600)) and set(got["value"]) == {406.0}
    got = traffic.aggregate("fleet", "mem_util", T0 - 10 * 86400, T0 + 2 * HOUR)
    assert got["ts"].tolist() == [T0, T0 + HOUR]   # hourly: the rollup tier
    assert got["value"].tolist() == pytest.approx([30 + np.arange(60).mean() / 100, 30 + np.arange(60, 120).mean() / 100])


def test_unknown_level_is_refused(traffic):
    with pytest.raises(StoreInputError, match="level 'shard' is not one of cluster, business"):
        traffic.aggregate("shard", "qps", T0, T0 + HOUR)


def test_daily_means_match_the_hourly_aggregate_and_count_hours(traffic):
    day0 = T0 - T0 % 86400
    daily = traffic.daily("business", "qps", day0, day0 + 86400)
    hourly = traffic.aggregate("business", "qps", day0, day0 + 86400, max_points=24)
    expect = hourly.groupby("group")["value"].mean()
    got = daily.set_index("group")
    assert sorted(got.index) == sorted(expect.index)
    for g in expect.index:
        assert got.loc[g, "value"] == pytest.approx(expect[g]) and got.loc[g, "hours"] == 2   # two hours of data
    assert (got["ts"] == day0).all()
    # by product line and for the fleet the same sums
    fleet = traffic.daily("fleet", "qps", day0, day0 + 86400)
    assert fleet["value"].iloc[0] == pytest.approx(daily["value"].sum())


@pytest.mark.parametrize("args, words", [(("business", "mem_util", 0, 86400), "combines by 'max'"),
                                         (("business", "qps", 0, 3600), "whole number of days"),
                                         (("shard", "qps", 0, 86400), "not one of")])
def test_daily_refuses_what_it_cannot_sum(traffic, args, words):
    with pytest.raises(StoreInputError, match=words):
        traffic.daily(*args)


def test_a_replicas_writes_are_its_masters_and_count_once(store):
    """A Redis replica replays its master's writes (its commandstats count them): a cluster's
    writes are the masters'; its reads are every instance's."""
    from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec
    inv = Inventory([ProductLine("trade")], [Business("cart", "trade", 4)], [Cluster("cart-re", "cart", "redis", 1)],
                    [Instance("m:6379", "cart-re", "m", 6379, "master"), Instance("r:6379", "cart-re", "r", 6379, "slave")],
                    [SeriesSpec(f"{i}/{m}", m, "cart-re", i) for i in ("m:6379", "r:6379") for m in ("reads", "writes")])
    ids = store.upsert_inventory(inv)
    t = minutes(T0, 60)
    values = {"m:6379/reads": 300.0, "r:6379/reads": 200.0, "m:6379/writes": 50.0, "r:6379/writes": 50.0}
    store.write_samples(np.concatenate([np.full(60, ids[k]) for k in values]), np.tile(t, len(values)),
                        np.concatenate([np.full(60, v) for v in values.values()]))
    assert set(store.aggregate("cluster", "reads", T0, T0 + HOUR)["value"]) == {500.0}
    assert set(store.aggregate("cluster", "writes", T0, T0 + HOUR)["value"]) == {50.0}
    assert store.daily("business", "writes", T0, T0 + 86400)["value"].tolist() == [50.0]


def test_hourly_keeps_each_hours_maximum_summed_over_shards(traffic):
    """The forecaster's read: a one-minute spike on one shard shows in its cluster's hourly max,
    where the hourly average dilutes it 60 times."""
    ids = traffic.series_ids(["pay-cache-0:6379/qps"])
    traffic.write_samples([ids["pay-cache-0:6379/qps"]], [T0 + 60], [100_100.0])
    peak = traffic.hourly("cluster", "qps", T0, T0 + 2 * HOUR, groups=["pay-cache"])
    assert peak["ts"].tolist() == [T0, T0 + HOUR]
    assert peak["value"].tolist() == [100_100.0 + 101 + 102 + 103, 406.0]
    mean = traffic.hourly("cluster", "qps", T0, T0 + 2 * HOUR, stat="avg", groups=["pay-cache"])
    assert mean["value"].iloc[0] == pytest.approx(406 + (100_100 - 100) / 60)
    fleet = traffic.hourly("fleet", "qps", T0, T0 + 2 * HOUR)
    assert fleet["group"].unique().tolist() == ["fleet"] and len(fleet) == 2


def test_hourly_refuses_an_unknown_statistic(traffic):
    with pytest.raises(StoreInputError, match="stat 'p99' is not one of min, avg, max"):
        traffic.hourly("cluster", "qps", T0, T0 + HOUR, stat="p99")
