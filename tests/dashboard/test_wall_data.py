"""The wall's data on the product's synthetic test fleet, through the real alert engine: flags that
hold stay put (no blinking warn counts), a one-minute blip never reaches the wall, tiles say what
they show in both languages and never pass an old QPS off as current."""
from __future__ import annotations

import numpy as np
import pytest

import fleetdata
from alerting import flags as fl
from core.settings import load_settings
from dashboard import labels as lb
from dashboard import tiles as tl
from dashboard import wall_data as q
from store import Store

NOW = 1_796_000_000 - 1_796_000_000 % 60
SETTINGS = {"collect_interval": 600}       # stale after 50 min: only the values the test writes move


@pytest.fixture
def small(tmp_path):
    """60 instances written up to NOW, and one healthy memcached business whose shard the test drives."""
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    data = fleetdata.write_fleet(store, fleetdata.build_inventory(60), NOW, raw_hours=0.5)
    fleetdata.evaluate(store, NOW, **SETTINGS)
    victim = next(b for b in data.inventory.businesses if "-svc" in b.name and
                  any(c.business == b.name and c.service == "memcached" for c in data.inventory.clusters))
    key = next(s.key for s in data.inventory.series if s.metric == "mem_util" and s.instance
               and s.cluster.startswith(victim.name))
    warn, crit = fl.thresholds(next(r for r in fl.RULES if r.metric == "mem_util"), victim.star)
    yield store, data, victim.name, data.ids[key], warn, crit
    store.close()


def minutes(store, sid: int, values: list[float]):
    """Each minute: write the shard's memory, run one engine cycle, take the wall snapshot."""
    settings = load_settings(cli=SETTINGS, env={})
    onsets = None            # carried from one snapshot to the next, as dashboard.page_cache does
    for k, v in enumerate(values, start=1):
        now = NOW + 60 * k
        store.write_samples(np.array([sid]), np.array([now]), np.array([v]))
        fleetdata.evaluate(store, now, **SETTINGS)
        snap = q.wall_snapshot(store, settings, now, onsets)
        onsets = snap["onsets"]
        yield snap


def shown(snap, business):
    row = snap["tiles"].set_index("business").loc[business]
    return row["severity"], int(row["since"])


def test_a_flag_flapping_around_its_threshold_stays_put(small):
    """Memory one point above and below warn every other minute: the engine fires and resolves
    each minute; the wall shows one warn from the second firing on, since the first, and the warn
    count never jumps."""
    store, _, victim, sid, warn, _ = small
    snaps = list(minutes(store, sid, [warn + 1, warn - 1] * 8))
    seen = [shown(s, victim) for s in snaps]
    first = next(i for i, (sev, _) in enumerate(seen) if sev == "warn")
    assert first <= 2, seen
    assert {sev for sev, _ in seen[first:]} == {"warn"}, seen
    assert len({since for _, since in seen[first:]}) == 1 and seen[first][1] == NOW + 60
    counts = [s["counts"]["warn"] for s in snaps[first:]]
    assert len(set(counts)) == 1, counts
    place = [list(s["flagged"]["business"]).index(victim) for s in snaps[first:]]
    assert len(set(place)) == 1, place


def test_a_one_minute_blip_never_reaches_the_wall(small):
    store, _, victim, sid, warn, _ = small
    seen = [shown(s, victim)[0] for s in minutes(store, sid, [warn + 1] + [warn - 1] * 6)]
    assert seen == ["ok"] * 7


def test_a_crit_shows_at_once_and_a_cleared_flag_is_held_then_goes(small):
    store, _, victim, sid, warn, crit = small
    values = [crit + 1, crit + 1, warn - 5] + [warn - 5] * (q.HOLD_S // 60 + 1)
    snaps = list(minutes(store, sid, values))
    assert shown(snaps[0], victim)[0] == "crit"
    held = snaps[2]["tiles"].set_index("business").loc[victim]
    assert held["severity"] == "crit" and held["held"]
    assert shown(snaps[-1], victim)[0] == "ok"


def test_a_settled_warn_shows_after_settle_seconds(small):
    store, _, victim, sid, warn, _ = small
    seen = [shown(s, victim)[0] for s in minutes(store, sid, [warn + 1] * 4)]
    settle = q.SETTLE_S // 60
    assert seen[:settle] == ["ok"] * settle and seen[settle:] == ["warn"] * (4 - settle)


# ------------------------------------------------------------------ tiles and flag text (pure)
def tile_row(**kw):
    import pandas as pd
    row = dict(business="recommend-address2", product_line="recommend", star=3, severity="ok", reason="",
               where="", since=NOW, qps=52_900.0, qps_week=48_000.0, spark=[1.0, 2.0, 3.0], held=False,
               rule=None, metric=None, value=None, threshold=None)
    return pd.Series({**row, **kw})


def test_a_stale_tile_says_how_long_it_has_had_no_data_not_its_last_qps():
    row = tile_row(severity="stale", reason="no data", rule="stale", since=NOW - 12 * 60)
    en, zh = tl.tile_view(row, "en", NOW), tl.tile_view(row, "zh", NOW)
    assert en["qps"] == "no data 12m" and zh["qps"] == "无数据 12分钟"
    assert "52.9k" not in en["qps"] + en["chg"] and en["spark"] == "" and "nodata" in en["cls"]
    assert "52.9k" in tl.tile_view(tile_row(), "en", NOW)["qps"]


def test_severity_is_a_glyph_as_well_as_a_colour():
    glyphs = {sev: tl.tile_view(tile_row(severity=sev, reason="x"), "en", NOW)["glyph"]
              for sev in ("crit", "warn", "stale", "ok")}
    assert glyphs == {"crit": "\u25b2", "warn": "\u25cf", "stale": "?", "ok": "\u2713"}


def test_flag_reasons_and_durations_are_said_in_chinese():
    hit = tile_row(severity="warn", rule="hit_ratio", metric="hit_ratio", value=60.47, reason="hit_ratio 60.47")
    assert tl.reason_text(hit, NOW, "zh") == "命中率 60.47%" and tl.reason_text(hit, NOW, "en") == "hit_ratio 60.47%"
    stale = tile_row(severity="stale", rule="stale", reason="no data", since=NOW - 23 * 60)
    assert tl.reason_text(stale, NOW, "zh") == "最后数据 23分钟前"          # not "无数据 无数据"
    assert lb.t("stale", "zh") not in tl.reason_text(stale, NOW, "zh")
    assert lb.duration(23 * 60, "zh") == "23分钟" and lb.duration(7500, "zh") == "2小时05分钟"
    assert lb.duration(23 * 60) == "23m"
    zabbix = tile_row(severity="crit", rule="zabbix:Redis down", reason="zabbix: Redis down")
    assert tl.reason_text(zabbix, NOW, "zh") == "Zabbix：Redis down"


def test_tile_names_drop_their_product_line_the_tooltip_keeps_the_full_name():
    assert tl.display_name("recommend-address2", "recommend") == "address2"
    assert tl.display_name("pay-core", "payment") == "pay-core" and tl.display_name("ads-", "ads") == "ads-"
    assert tl.tile_view(tile_row(), "en", NOW)["tip"].startswith("recommend-address2")


def test_a_flag_links_to_its_business_page_opened_on_the_flagged_metric(small):
    """From the wall to the cause: the crit memory flag opens the business page on mem_util, a
    stale flag (no metric) on the page's default."""
    store = small[0]
    snap = q.wall_snapshot(store, load_settings(cli=SETTINGS, env={}), NOW, None)
    rows = {r.business: r for r in snap["flagged"].itertuples(index=False)}
    assert tl.flag_href(rows[fleetdata.CRIT]) == f"/business/{fleetdata.CRIT}?metric=mem_util"
    stale = next(r for r in rows.values() if r.severity == "stale")
    assert tl.flag_href(stale) == f"/business/{stale.business}"
