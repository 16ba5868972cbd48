"""Store facade: watermarks, promotions, meta, retention, info, and end to end through the fleet."""
from __future__ import annotations

import numpy as np
import pytest
from storekit import DAY, HOUR, T0, dump, minutes

from core.errors import StoreInputError
from store.inventory_types import Promotion


def test_watermarks_are_per_source_and_move(fleet):
    store, ids = fleet
    a, b = ids["pay-cache-0:6379/qps"], ids["pay-cache-1:6379/qps"]
    store.set_watermarks("zabbix-a", {a: T0, b: T0 + 60})
    store.set_watermarks("zabbix-b", {a: T0 - 60})
    store.set_watermarks("zabbix-a", {a: T0 + 120})
    assert store.watermarks("zabbix-a") == {a: T0 + 120, b: T0 + 60}
    assert store.watermarks("zabbix-b") == {a: T0 - 60}
    assert store.watermarks("nobody") == {}


def test_promotions_are_upserted_by_name(store):
    p = Promotion("11.11 2025", "11.11", T0, T0 + DAY, preheat_days=3)
    assert store.upsert_promotions([p, Promotion("6.18 2025", "6.18", T0 - 100 * DAY, T0 - 99 * DAY)]) == 2
    store.upsert_promotions([Promotion("11.11 2025", "11.11", T0 - HOUR, T0 + 2 * DAY, preheat_days=5)])
    got = store.promotions()
    assert got["name"].tolist() == ["6.18 2025", "11.11 2025"]
    assert got.iloc[1][["start", "end", "preheat_days", "tz"]].tolist() == [T0 - HOUR, T0 + 2 * DAY, 5, "Asia/Shanghai"]
    assert store.delete_promotion("6.18 2025") and not store.delete_promotion("6.18 2025")
    with pytest.raises(StoreInputError, match="'bad' ends before it starts"):
        store.upsert_promotions([Promotion("bad", "custom", T0, T0)])
    assert store.promotions()["name"].tolist() == ["11.11 2025"]


def test_meta_values_round_trip(store):
    assert store.get_meta("fleet_seed", "none") == "none"
    store.set_meta("fleet_seed", "0")
    store.set_meta("fleet_seed", "42")
    assert store.get_meta("fleet_seed") == "42"


def test_prune_drops_old_raw_chunks_and_keeps_their_rollups(fleet):
    store, ids = fleet
    sid = ids["query-cache-0:6379/qps"]
    t = np.arange(T0, T0 + 20 * DAY, 600)
    store.write_samples(np.full(len(t), sid), t, np.round(np.sin(t / 5000.0) * 100 + 500, 1))
    rollups = store.read_rollups([sid], T0, T0 + 20 * DAY)
    now = T0 + 20 * DAY
    dropped = store.prune(now=now)
    assert dropped == 6 * 24   # raw_retention_days = 14
    assert store.read_raw([sid], T0, now)["ts"].min() == now - 14 * DAY
    assert store.read_rollups([sid], T0, now).equals(rollups)
    old = store.read_range([sid], T0 + DAY, T0 + DAY + 6 * HOUR)  # older than the raw tier: rollups
    assert old["ts"].tolist() == list(range(T0 + DAY, T0 + DAY + 6 * HOUR, HOUR))
    assert store.prune(now=now) == 0


def test_a_late_sample_for_a_pruned_hour_joins_its_rollup_instead_of_replacing_it(fleet):
    store, ids = fleet
    sid = ids["query-cache-0:6379/qps"]
    t = minutes(T0, 60)
    store.write_samples(np.full(60, sid), t, np.arange(60.0) + 100)     # one hour: 100..159, mean 129.5
    store.prune(now=T0 + 20 * DAY)
    assert store.read_raw([sid], T0, T0 + HOUR).empty
    # a sample arrives late for that hour (a Zabbix proxy that was offline), and one for an hour
    # that never had data
    store.write_samples([sid, sid], [T0 + 30, T0 + 2 * HOUR], [10.0, 7.0])
    r = store.read_rollups([sid], T0, T0 + 3 * HOUR).set_index("ts")
    assert r.loc[T0, "count"] == 61 and r.loc[T0, "min"] == 10.0 and r.loc[T0, "max"] == 159.0
    assert r.loc[T0, "avg"] == pytest.approx((129.5 * 60 + 10) / 61)
    assert r.loc[T0 + 2 * HOUR, "count"] == 1 and r.loc[T0 + 2 * HOUR, "avg"] == 7.0
    assert store.read_raw([sid], T0, T0 + 3 * HOUR).empty              # the raw tier stays pruned there
    # within the raw window nothing changes: a rewrite still replaces the hour from its raw chunk
    recent = T0 + 19 * DAY
    store.write_samples(np.full(60, sid), minutes(recent, 60), np.full(60, 5.0))
    store.write_samples([sid], [recent + 60], [65.0])
    r = store.read_rollups([sid], recent, recent + HOUR)
    assert r["count"].tolist() == [60] and r["avg"].tolist() == [pytest.approx((5.0 * 59 + 65) / 60)]


def test_info_counts_rows_and_time_ranges(fleet):
    store, ids = fleet
    sid = ids["cart-cache-0:6379/qps"]
    store.write_samples(np.full(90, sid), minutes(T0, 90), np.arange(90.0))
    info = store.info()
    assert info["series"] == len(ids) and info["instances"] == 11 and info["businesses"] == 3
    assert info["raw"]["samples"] == 90 and info["raw"]["chunks"] == 2
    assert info["raw"]["first"] == T0 and info["raw"]["last"] == T0 + 2 * HOUR - 1
    assert info["rollups"]["day_rows"] == 1 and 0 < info["raw"]["bytes"] < 90 * 4


def test_end_to_end_write_read_aggregate_latest_survive_a_reopen(fleet, db_url):
    """What production does on PostgreSQL (and the demo on SQLite): write, reopen, read it all back."""
    from store import Store

    store, ids = fleet
    sids = [ids[f"pay-cache-{i}:6379/qps"] for i in range(4)]
    t = minutes(T0, 180)
    store.write_samples(np.repeat(sids, 180), np.tile(t, 4), np.tile(np.arange(180.0), 4))
    expected = dump(store)
    store.close()
    with Store.open(db_url) as again:
        assert dump(again) == expected
        assert again.read_raw(sids, T0, T0 + 3 * HOUR)["value"].sum() == 4 * np.arange(180.0).sum()
        agg = again.aggregate("cluster", "qps", T0, T0 + 3 * HOUR, groups=["pay-cache"])
        assert agg["value"].tolist() == (4 * np.arange(180.0)).tolist()
        assert again.latest(sids)["value"].tolist() == [179.0] * 4
