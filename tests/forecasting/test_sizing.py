"""Sizing a new business: shards, proxies and memory per shard from the fleet's capacity, the star's
headroom and similar businesses' promotion lift."""
from __future__ import annotations

import pytest

import app
from core.errors import ForecastError
from forecasting.sizing import GIB, FleetProfile, fleet_profile, parse_size, size_business

PROFILE = FleetProfile(service="twemproxy", qps_per_instance=50_000, mem_per_instance=8 * GIB, instances_per_shard=2,
                       kind="11.11", lift=3.0, similar=("a", "b"))


def test_shards_cover_the_promotion_peak_inside_the_stars_headroom():
    s = size_business(100_000, 16 * GIB, 5, PROFILE)          # 5 stars keep 40% free
    assert s.peak_qps == 300_000
    assert s.shards == 10                                     # 300k / (50k x 0.6)
    assert s.proxies == 10 and s.instances == 10 * 2 + 10
    assert s.mem_per_shard * s.shards >= 16 * GIB / 0.6       # memory inside the headroom too
    one_star = size_business(100_000, 16 * GIB, 1, PROFILE)   # 15% free
    assert one_star.shards == 8 and one_star.shards < s.shards


def test_memory_can_decide_the_shard_count():
    s = size_business(1_000, 400 * GIB, 3, PROFILE)
    assert s.shards == 67                                     # 400 GiB / 0.75 / 8 GiB
    assert s.mem_per_shard <= 8 * GIB


def test_redis_gets_no_proxies_and_a_small_business_at_least_one_shard():
    s = size_business(10, 0.01 * GIB, 3, FleetProfile("redis", 80_000, 8 * GIB, 2, None, 1.0))
    assert s.shards == 1 and s.proxies == 0 and s.instances == 2


@pytest.mark.parametrize("qps,memory,star,words", [(0, GIB, 3, "expected QPS 0 must be a positive number"),
                                                    (1e4, -1, 3, "memory -1 must be a positive size"),
                                                    (1e4, GIB, 6, "star 6 must be 1..5")])
def test_bad_input_is_named(qps, memory, star, words):
    with pytest.raises(ForecastError, match=words):
        size_business(qps, memory, star, PROFILE)


def test_sizes_parse_like_a_dba_writes_them():
    assert parse_size("64GiB") == 64 * GIB and parse_size("512 MiB") == 0.5 * GIB and parse_size("2") == 2 * GIB
    with pytest.raises(ForecastError, match="write it like 64GiB"):
        parse_size("lots")


def test_the_fleets_profile_applies_similar_businesses_lift(demo_store):
    line = sorted(demo_store.businesses()["product_line"])[0]
    p = fleet_profile(demo_store, "twemproxy", 3, product_line=line, kind="11.11")
    assert p.kind == "11.11" and p.lift > 1.5 and p.similar
    assert set(p.similar) <= set(demo_store.businesses().query("product_line == @line")["name"])
    biggest = fleet_profile(demo_store, "redis", 3)             # default: the kind that lifts them most
    assert biggest.lift >= fleet_profile(demo_store, "redis", 3, kind="4.19").lift
    assert biggest.qps_per_instance > 0 and biggest.instances_per_shard >= 1


def test_cli_prints_the_sizing(demo_store_url, capsys):
    assert app.main(["size", "--qps", "200000", "--memory", "64GiB", "--star", "4", "--store-url", demo_store_url]) == 0
    out = capsys.readouterr().out
    assert " shards of " in out and "proxies" in out and "a 4-star business may use 70% of capacity" in out
