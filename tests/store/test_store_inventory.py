"""Inventory upsert: stable ids, idempotent, full collections mark vanished instances removed."""
from __future__ import annotations

import dataclasses

import pytest
from storekit import make_inventory

from core.errors import StoreInputError
from store.inventory_types import Business, SeriesSpec


def frames(store):
    return [f.to_dict("records") for f in (store.businesses(), store.clusters(), store.instances(),
                                           store.series(fresh=True))]


def test_every_series_gets_an_id_and_re_upserting_changes_nothing(store):
    inv = make_inventory()
    ids = store.upsert_inventory(inv)
    assert sorted(ids) == sorted(s.key for s in inv.series) and len(set(ids.values())) == len(ids)
    before = frames(store)
    assert store.upsert_inventory(make_inventory()) == ids
    assert frames(store) == before
    assert store.series_ids(["pay-cache-0:6379/qps", "nope"]) == {"pay-cache-0:6379/qps": ids["pay-cache-0:6379/qps"]}
    series = store.series(metric="qps", business="pay")
    assert sorted(series["key"]) == sorted(k for k in ids if k.startswith(("pay-", "cluster:pay")) and k.endswith("/qps"))
    assert store.series(cluster="cart-cache")["instance"].tolist() == ["cart-cache-0:6379"] * 2 + ["cart-cache-1:6379"] * 2


def test_changed_attributes_are_updated_in_place(store):
    inv = make_inventory()
    ids = store.upsert_inventory(inv)
    inv.businesses[0] = dataclasses.replace(inv.businesses[0], star=1, oncall=("Li Wei", "Wang Fang"))
    assert store.upsert_inventory(inv) == ids
    row = store.businesses().set_index("name").loc[inv.businesses[0].name]
    assert row["star"] == 1 and row["oncall"] == "Li Wei\nWang Fang"


def test_full_collection_marks_vanished_instances_removed_and_keeps_other_sources(store):
    store.upsert_inventory(make_inventory(clusters={"edge-cache": ("query", "redis", 2)}), source="zabbix-b")
    store.upsert_inventory(make_inventory())
    store.upsert_inventory(make_inventory(drop=("pay-cache-3:6379",)), full=True)  # source "synthetic"
    inst = store.instances().set_index("name")
    assert inst.index[inst["removed_at"].notna()].tolist() == ["pay-cache-3:6379"]   # not edge-cache-*
    assert len(inst) == 13
    # its series stay readable; it counts in aggregates before its removal, not after
    assert "pay-cache-3:6379/qps" in store.series(fresh=True)["key"].tolist()
    before, after = 1_735_689_600, int(inst.loc["pay-cache-3:6379", "removed_at"]) + 60
    ids = store.series_ids(["pay-cache-3:6379/qps", "pay-cache-2:6379/qps"])
    store.write_samples(list(ids.values()) * 2, [before, before, after, after], [5.0, 7.0, 5.0, 7.0])
    assert store.aggregate("cluster", "qps", before, before + 60, groups=["pay-cache"])["value"].tolist() == [12.0]
    assert store.aggregate("cluster", "qps", after, after + 60, groups=["pay-cache"])["value"].tolist() == [7.0]
    # a partial collection removes nothing
    store.upsert_inventory(make_inventory(clusters={}), full=False)
    assert store.instances()["removed_at"].notna().sum() == 1


@pytest.mark.parametrize("change, words", [
    (lambda inv: inv.businesses.append(Business("x", "nowhere", 3)), "product line 'nowhere'"),
    (lambda inv: inv.businesses.append(Business("x", "trade", 9)), "stars are 1"),
    (lambda inv: inv.series.append(SeriesSpec("k", "qpz", "pay-cache")), "'qpz', which is not a canonical metric"),
    (lambda inv: inv.series.append(inv.series[0]), "appears twice"),
    (lambda inv: inv.series.append(SeriesSpec("k", "qps", "ghost-cluster")), "not in the inventory"),
])
def test_bad_inventory_is_refused_by_name_and_nothing_is_written(store, change, words):
    inv = make_inventory()
    change(inv)
    with pytest.raises(StoreInputError, match=words):
        store.upsert_inventory(inv)
    assert store.businesses().empty and store.series(fresh=True).empty


def test_changing_a_returned_series_frame_does_not_change_the_store_s_view(fleet):
    store, ids = fleet
    store.write_samples([ids["cart-cache-0:6379/qps"]], [60], [5.0])
    for frame in (store.series(metric="qps"), store.series()):
        frame["key"] = "scribbled"
        frame["id"] = -1
        frame["cluster"] = "nowhere"
    assert sorted(store.series(metric="qps")["key"]) == sorted(k for k in ids if k.endswith("/qps"))
    assert store.aggregate("cluster", "qps", 0, 120, groups=["cart-cache"])["value"].tolist() == [5.0]


DAY = 86_400


def test_instance_counts_follow_joins_and_removals_by_product_line_and_service(store):
    t0 = 1_735_689_600                                   # 2025-01-01 00:00 UTC
    inv = make_inventory()
    # pay-cache's four shards: two from the start, two joined on day 10 (a scale-out)
    inv.instances[:] = [dataclasses.replace(i, added_at=t0 + (10 * DAY if i.name in ("pay-cache-2:6379",
                                                                                      "pay-cache-3:6379") else 0))
                        if i.cluster == "pay-cache" else i for i in inv.instances]
    store.upsert_inventory(inv)
    ends = [t0 + 5 * DAY, t0 + 15 * DAY]
    counts = store.instance_counts(ends)
    pay = counts[counts["product_line"] == "trade"].groupby("ts")["instances"].sum()
    assert pay.loc[ends[1]] - pay.loc[ends[0]] == 2            # the scale-out shows as +2
    # instances without a join date from their source joined when the store first saw them
    later = int(store.instances().set_index("name").loc["cart-cache-0:6379", "added_at"])
    assert abs(later - __import__("time").time()) < 60
    now_counts = store.instance_counts([later + 1])
    assert now_counts["instances"].sum() == len(inv.instances)
    assert set(now_counts["service"]) <= {"redis", "memcached", "twemproxy"}
    # a removal takes the instance out from then on; re-upserting never moves a join date forward
    store.upsert_inventory(make_inventory(drop=("pay-cache-3:6379",)), full=True)
    gone = int(store.instances().set_index("name").loc["pay-cache-3:6379", "removed_at"])
    assert store.instance_counts([gone + 1])["instances"].sum() == len(inv.instances) - 1
    assert int(store.instances().set_index("name").loc["pay-cache-0:6379", "added_at"]) == t0


def test_backdate_moves_join_dates_to_the_first_day_of_data(store):
    ids = store.upsert_inventory(make_inventory())
    seen = int(store.instances().set_index("name").loc["pay-cache-0:6379", "added_at"])
    past = (seen - 40 * DAY) // 3600 * 3600
    store.write_rollups([ids["pay-cache-0:6379/qps"]], [past], [1.0], [2.0], [3.0], [60])
    assert store.backdate_instances() == 1
    assert int(store.instances().set_index("name").loc["pay-cache-0:6379", "added_at"]) == past - past % DAY
    assert store.backdate_instances() == 0                     # nothing left to move
    assert store.instance_counts([])["instances"].tolist() == []
