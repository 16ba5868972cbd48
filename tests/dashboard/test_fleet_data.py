"""Fleet page data: daily reads/writes, instances over time, the days parameter."""
from __future__ import annotations

import pandas as pd
import pytest

import fleetdata
from dashboard import business_data as bd
from dashboard import fleet_data as fd
from store import Store
from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec

DAY = 86_400


@pytest.mark.parametrize("value, days", [(None, 90), ("", 90), ("365", 365), (30, 30)])
def test_days_parameter(value, days):
    assert fd.parse_days(value) == days


@pytest.mark.parametrize("value, words", [("abc", "not a whole number"), ("3", "outside 7..730"),
                                          ("5000", "outside 7..730")])
def test_bad_days_are_refused_with_the_fix(value, words):
    with pytest.raises(bd.RangeError, match=words):
        fd.parse_days(value)


def test_days_are_local_days_ending_before_today():
    now = 1_795_910_400 + 3 * 3600            # 2026-11-29 03:00 UTC = 11:00 in Shanghai
    start, end = fd.day_window(now, 30, "Asia/Shanghai")
    assert end == 1_795_910_400 - 8 * 3600 and end - start == 30 * DAY    # Shanghai midnight = 16:00 UTC
    start, end = fd.day_window(now, 7, "UTC")
    assert end == 1_795_910_400 and start == end - 7 * DAY


def test_fleet_data_on_the_test_fleet(fleet):
    store, data = fleet
    tiles = pd.DataFrame({"business": data.businesses, "qps": range(len(data.businesses))})
    out = fd.fleet_data(store, data.now, 30, "Asia/Shanghai", tiles)
    assert out["coverage"]["with_split"] == out["coverage"]["clusters"] > 0
    total = out["rw"]["total"]
    assert len(total) >= 28                                              # 30 days of history, last day whole
    share = total["reads"].sum() / (total["reads"].sum() + total["writes"].sum())
    assert abs(share - fleetdata.READ_SHARE) < 0.02
    # the per-line split adds up to the fleet total
    assert abs(out["rw"]["reads"]["value"].sum() - total["reads"].sum()) < 1e-6 * total["reads"].sum()
    # HOT's scale-out: half its shards (master and replica each) joined SCALE_OUT_DAYS ago
    hot_line = next(b.product_line for b in data.inventory.businesses if b.name == fleetdata.HOT)
    line = out["history"]["product_line"].query("group == @hot_line").set_index("ts")["value"]
    joined = data.now - fleetdata.SCALE_OUT_DAYS * DAY
    # the last whole day before they joined (a day counts what it held in its first hour, so the
    # day they joined on counts them when they came in its first hour, as just after midnight)
    assert line[line.index + DAY <= joined].iloc[-1] + 16 == line.iloc[-1]
    assert line.index[-1] == data.now                                   # the last point is today so far
    service = out["history"]["service"].groupby("group")["value"].last()
    assert service.sum() == out["mix"]["instances"].sum() == len(data.inventory.instances)
    assert set(service.index) == {"redis", "memcached", "twemproxy"}


def test_a_store_without_a_read_write_split_shows_all_requests(tmp_path):
    inv = Inventory([ProductLine("trade")], [Business("pay", "trade", 5)],
                    [Cluster("pay-redis", "pay", "redis", 1)],
                    [Instance("10.0.0.1:6379", "pay-redis", "10.0.0.1", 6379, "master")],
                    [SeriesSpec("10.0.0.1:6379/qps", "qps", "pay-redis", "10.0.0.1:6379")])
    now = 1_795_910_400
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        ids = store.upsert_inventory(inv)
        hours = list(range(now - 10 * DAY, now, 3600))
        store.write_rollups([ids["10.0.0.1:6379/qps"]] * len(hours), hours, [1.0] * len(hours),
                            [100.0] * len(hours), [200.0] * len(hours), [60] * len(hours))
        out = fd.fleet_data(store, now, 7, "UTC", pd.DataFrame({"business": ["pay"], "qps": [1.0]}))
    assert out["rw"] is None and out["coverage"] == {"clusters": 1, "with_split": 0}
    assert out["requests"]["value"].round().tolist() == [100.0 * DAY] * 7


def test_windows_share_settled_blocks_and_give_the_same_days(fleet):
    store, data = fleet
    start, end = fd.day_window(data.now, 730, "Asia/Shanghai")
    pieces = fd._pieces(start, end)
    assert pieces[0][0] == start and pieces[-1][1] == end
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert all(hi - lo == fd.BLOCK_DAYS * DAY for lo, hi in pieces[1:-1])
    # a 90-day window cuts at the same grid, so its inner blocks are the 730-day window's
    inner = set(pieces[1:-1])
    assert {p for p in fd._pieces(*fd.day_window(data.now, 90, "Asia/Shanghai"))[1:-1]} <= inner

    cache, computed = {}, []

    def memo(key, ttl, compute):
        if key not in cache:
            computed.append(key)
            cache[key] = compute()
        return cache[key]

    start, end = fd.day_window(data.now, 90, "Asia/Shanghai")
    plain = fd.daily_by_line(store, "reads", start, end)
    first = fd.daily_by_line(store, "reads", start, end, memo, data.now)
    again = fd.daily_by_line(store, "reads", start, end, memo, data.now)
    pd.testing.assert_frame_equal(plain, first)
    pd.testing.assert_frame_equal(plain, again)
    assert computed and len(computed) == len(cache)               # the second view computed no block again
    assert all(int(k.rsplit(":", 1)[1]) <= data.now - fd.SETTLED for k in cache)   # recent days never cached


def test_growth_follows_client_traffic_not_a_pools_backends(tmp_path):
    """A Twemproxy pool's backends monitored only recently must not read as the business growing."""
    now = 1_795_910_400
    inv = Inventory([ProductLine("trade")], [Business("cart", "trade", 4)],
                    [Cluster("cart-tw", "cart", "twemproxy", 1)],
                    [Instance("10.0.0.1:22121", "cart-tw", "10.0.0.1", 22121, "proxy"),
                     Instance("10.0.0.2:11211", "cart-tw", "10.0.0.2", 11211, "master")],
                    [SeriesSpec("cluster:cart-tw/proxy_qps", "proxy_qps", "cart-tw"),
                     SeriesSpec("10.0.0.2:11211/qps", "qps", "cart-tw", "10.0.0.2:11211")])
    with Store.open(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        ids = store.upsert_inventory(inv)

        def hourly(key, lo, value):
            hours = list(range(lo, now, 3600))
            store.write_rollups([ids[key]] * len(hours), hours, [value] * len(hours), [value] * len(hours),
                                [value] * len(hours), [60] * len(hours))
        hourly("cluster:cart-tw/proxy_qps", now - 40 * DAY, 1000.0)     # steady client traffic
        hourly("10.0.0.2:11211/qps", now - 10 * DAY, 1000.0)             # backend watched for 10 days only
        g = fd.growth(store, now)
    assert g["growth"].round(6).tolist() == [0.0]
