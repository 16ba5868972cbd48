"""Pure pieces of the pages: tiles and their diff, figures, instance rows, ranges, snapshot."""
from __future__ import annotations

import time

import pandas as pd
import pytest

import fleetdata
from dashboard import business_data as bd
from dashboard import figures as fg
from dashboard import instance_rows as ir
from dashboard import wall_data as q
from dashboard import tiles as tl
from core.settings import load_settings

NOW = 1_795_910_400   # 2026-11-29 00:00 UTC = 08:00 in Shanghai


def test_redis_without_maxmemory_says_no_limit():
    assert ir.memory(3 * (1 << 30), 0.0, "en") == "3 GiB / no limit"
    assert ir.memory(3 * (1 << 30), 0.0, "zh") == "3 GiB / 无限制"
    assert ir.memory(1 << 30, 8 * (1 << 30), "en") == "1 GiB / 8 GiB"


def test_zabbix_link_only_when_configured_and_known():
    assert ir.zabbix_link("10084", "http://z.example/") == \
        "http://z.example/zabbix.php?action=latest.view&hostids%5B%5D=10084&filter_set=1"
    assert ir.zabbix_link("10084", "") == "" and ir.zabbix_link(None, "http://z") == ""


def test_twemproxy_backends_read_as_memcached():
    assert ir.family("twemproxy", "proxy") == "twemproxy" and ir.family("twemproxy", "master") == "memcached"


@pytest.mark.parametrize("start, end, message", [
    ("2026-11-20", "2026-11-10", "before it starts"), ("yesterday", None, "dates must look like"),
    ("2020-01-01", "2026-11-01", "limited to"),
])
def test_bad_ranges_are_refused_with_the_fix(start, end, message):
    with pytest.raises(bd.RangeError, match=message):
        bd.parse_range(start, end, "Asia/Shanghai", NOW)


def test_range_is_whole_days_in_the_display_zone():
    lo, hi = bd.parse_range("2026-11-11", "2026-11-11", "Asia/Shanghai", NOW)
    assert hi - lo == 86400 and lo % 86400 == 16 * 3600   # Beijing midnight is 16:00 UTC


def test_tile_diff_sends_only_changes():
    old = [{"cls": "tile sev-ok", "qps": "1k"}, {"cls": "tile sev-ok", "qps": "2k"}]
    new = [{"cls": "tile sev-ok", "qps": "1k"}, {"cls": "tile sev-crit", "qps": "2k"}]
    assert tl.diff(old, new) == {1: {"cls": "tile sev-crit"}}
    assert tl.diff(None, new) == {0: new[0], 1: new[1]}


def test_sparkline_follows_the_values():
    assert tl.sparkline_points([1, 2, 3]) == "0,21 50,11 100,1"
    assert tl.sparkline_points([3, 2, 1]) == "0,1 50,11 100,21"
    assert tl.sparkline_points([5.0]) == ""


def test_hot_shard_is_the_outlier():
    frame = pd.DataFrame({"cluster": ["c"] * 4, "instance": list("abcd"), "shard": range(4),
                          "value": [10.0, 11.0, 50.0, 9.0]})
    assert list(fg.hot_shards(frame)) == [False, False, True, False]
    fig = fg.shard_balance_figure(frame, "qps", "en")
    assert fig.data[0].marker.color[2] == "#d32f2f" and fig.data[0].marker.color[0] != "#d32f2f"


def test_times_are_shown_in_the_display_zone():
    assert fg.local_times([NOW], "Asia/Shanghai") == ["2026-11-29 08:00:00"]
    assert fg.local_times([NOW], "UTC") == ["2026-11-29 00:00:00"]


def test_wall_snapshot_on_the_test_fleet(fleet):
    store, data = fleet
    snap = q.wall_snapshot(store, load_settings(env={}), int(time.time()))
    tiles = snap["tiles"].set_index("business")
    assert set(tiles.index) == set(data.businesses)
    assert tiles.loc[fleetdata.CRIT, "severity"] == "crit"
    assert tiles.loc[fleetdata.STALE, "severity"] == "stale" and tiles.loc[fleetdata.EMPTY, "severity"] == "stale"
    assert snap["flagged"]["business"].iloc[0] == fleetdata.CRIT
    # the same time last week was written with the same shape: the change is small, and known
    assert abs(tiles.loc[fleetdata.HOT, "qps"] / tiles.loc[fleetdata.HOT, "qps_week"] - 1) < 0.2
    assert len(tiles.loc[fleetdata.HOT, "spark"]) >= 12


def test_phone_numbers_are_masked_on_pages():
    from dashboard.components import mask_phones
    assert mask_phones(("Li Wei <+8613800000002>",)) == "Li Wei <+86138****0002>"
    assert "13912345678" not in mask_phones(["Wang Fang <13912345678>", "Zhao Lei <+8613700001111>"])


def test_instance_rows_show_the_stored_alerts_a_cluster_alert_on_each_of_its_instances():
    """The instance table's flag column is what the engine stored (what was paged), not a
    re-evaluation: an instance's own alert, its cluster's alert on every member, the worst wins."""
    import pandas as pd

    from dashboard.business_data import stored_flags
    alerts = pd.DataFrame([
        dict(business="b", cluster="c1", instance="i1", severity="warn", reason="mem_util 88"),
        dict(business="b", cluster="c1", instance=None, severity="crit", reason="cluster silent"),
        dict(business="b", cluster="c2", instance="i3", severity="warn", reason="hit_ratio 70"),
        dict(business="other", cluster="c9", instance="i9", severity="crit", reason="x"),
    ])
    inst = pd.DataFrame({"cluster": ["c1", "c1", "c2", "c2"]}, index=["i1", "i2", "i3", "i4"])
    got = stored_flags(alerts, "b", inst)
    assert got.loc["i1", "severity"] == "crit" and got.loc["i2", "reason"] == "cluster silent"
    assert got.loc["i3", "severity"] == "warn" and "i4" not in got.index and "i9" not in got.index
