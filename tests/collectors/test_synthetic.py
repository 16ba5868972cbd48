"""The synthetic fleet: deterministic, the right shape and size, and the patterns the demo promises."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from collectors.synthetic import calendar, signals, truth
from collectors.synthetic.fleet import build_fleet, build_model

HOUR, DAY = 3600, 86_400


@pytest.fixture(scope="module")
def model():
    return build_model(3000, 7)


def _series(model, metric=None, cluster_level=None, cluster=None):
    out = []
    for i, s in enumerate(model.inventory.series):
        if metric is not None and s.metric != metric:
            continue
        if cluster_level is not None and (s.instance is None) != cluster_level:
            continue
        if cluster is not None and s.cluster != cluster:
            continue
        out.append(i)
    return np.array(out, dtype=np.int64)


def _business_qps(model, business, ts):
    """Sum of the cluster-level traffic series of one business."""
    rows = [i for i in model.cluster_series
            if model.inventory.series[i].metric in ("qps", "proxy_qps")
            and model.inventory.clusters[model.s_cluster[i]].business == business]
    return signals.values(model, rows, ts).sum(axis=0)


# ---- determinism -------------------------------------------------------------------------------

def test_same_seed_gives_the_same_fleet_and_samples():
    a, b = build_model(300, 11), build_model(300, 11)
    assert a.inventory == b.inventory
    ts = signals.minutes(a.anchor - 2 * HOUR, a.anchor)
    np.testing.assert_array_equal(signals.values(a, None, ts), signals.values(b, None, ts))


def test_another_seed_gives_another_fleet():
    a, b = build_fleet(300, 1), build_fleet(300, 2)
    assert [x.name for x in a.businesses] != [x.name for x in b.businesses]


def test_two_halves_of_a_window_equal_the_whole(model):
    ts = signals.minutes(model.anchor - 2 * HOUR, model.anchor + HOUR)
    whole = signals.values(model, None, ts)
    halves = np.hstack([signals.values(model, None, ts[:97]), signals.values(model, None, ts[97:])])
    np.testing.assert_array_equal(whole, halves)


def test_a_subset_of_series_equals_the_same_rows_of_the_whole(model):
    ts = signals.minutes(model.anchor - HOUR, model.anchor)
    whole = signals.values(model, None, ts)
    pick = np.random.default_rng(0).choice(len(model.s_metric), 500, replace=False)
    np.testing.assert_array_equal(signals.values(model, pick, ts), whole[pick])


def test_hourly_rollups_are_deterministic_per_window(model):
    hours = np.arange(model.anchor - 48 * HOUR, model.anchor, HOUR)
    rows = np.r_[model.cluster_series[:50], model.instance_series[:200]]
    whole = signals.hourly(model, rows, hours)
    halves = [np.hstack(pair) for pair in zip(signals.hourly(model, rows, hours[:20]),
                                              signals.hourly(model, rows, hours[20:]))]
    for w, h in zip(whole, halves):
        np.testing.assert_array_equal(w, h)


# ---- shape and scale ---------------------------------------------------------------------------

def test_default_scale_has_about_300_businesses_in_15_product_lines(model):
    inv = model.inventory
    assert len(inv.product_lines) == 15
    assert 280 <= len(inv.businesses) <= 320
    assert 3000 <= len(inv.instances) <= 3200
    stars = Counter(b.star for b in inv.businesses)
    assert set(stars) == {1, 2, 3, 4, 5}
    assert stars[5] == min(stars.values())
    assert all(b.oncall for b in inv.businesses)
    services = Counter(c.service for c in inv.clusters)
    assert services["redis"] > services["memcached"] + services["twemproxy"]
    assert services["twemproxy"] > 0
    assert max(c.shard_count for c in inv.clusters) >= 32
    assert {b.name for b in inv.businesses} == {c.business for c in inv.clusters}


def test_clusters_have_masters_with_slaves_and_proxies_in_front(model):
    roles: dict[str, Counter] = {}
    for x in model.inventory.instances:
        roles.setdefault(x.cluster, Counter())[x.role] += 1
    for c in model.inventory.clusters:
        r = roles[c.name]
        if c.service == "redis":
            assert r["master"] == r["slave"] == c.shard_count
        elif c.service == "twemproxy":
            assert r["proxy"] >= 2 and r["master"] == c.shard_count
        else:
            assert r["master"] == c.shard_count and not r["proxy"]
        assert c.qps_per_instance > 0 and c.mem_per_instance > 0


def test_series_keys_are_unique_and_about_ten_per_instance(model):
    inv = model.inventory
    keys = [s.key for s in inv.series]
    assert len(set(keys)) == len(keys)
    assert len({x.name for x in inv.instances}) == len(inv.instances)
    per_instance = sum(s.instance is not None for s in inv.series) / len(inv.instances)
    assert 8 <= per_instance <= 11
    cluster_keys = {s.key for s in inv.series if s.instance is None}
    for c in inv.clusters:
        traffic = "proxy_qps" if c.service == "twemproxy" else "qps"
        assert {f"cluster:{c.name}/{m}" for m in (traffic, "mem_used", "conns", "reads", "writes")} <= cluster_keys
    assert not any(s.metric in ("reads", "writes") for s in inv.series if s.instance is not None)
    assert model.index([keys[5], keys[-1]]).tolist() == [5, len(keys) - 1]


@pytest.mark.slow
def test_30000_instances_with_128_shard_clusters_generate_an_hour():
    big = build_model(30_000, 7)
    assert 29_000 <= len(big.inventory.instances) <= 31_000
    assert sum(c.shard_count == 128 for c in big.inventory.clusters) >= 1
    assert len(big.inventory.businesses) == 3000
    ts = signals.minutes(big.anchor - HOUR, big.anchor)
    v = signals.values(big, None, ts)
    assert v.shape == (len(big.inventory.series), 60)
    silent = truth.incidents(big)["silent"]["instance"]
    assert np.isfinite(v).sum() == v.size - 60 * sum(s.instance == silent for s in big.inventory.series)


# ---- values ------------------------------------------------------------------------------------

def test_cluster_series_equal_the_sum_of_their_instances(model):
    ts = signals.minutes(model.anchor - 4 * HOUR, model.anchor - 3 * HOUR)   # before the silence
    v = signals.values(model, None, ts)
    inv = model.inventory
    sums: dict[tuple[str, str], np.ndarray] = {}
    for i, s in enumerate(inv.series):
        if s.instance is not None and s.metric in ("qps", "proxy_qps", "mem_used", "conns"):
            key = (s.cluster, s.metric)
            sums[key] = sums.get(key, 0) + v[i]
    checked = 0
    for i in model.cluster_series:
        s = inv.series[i]
        if s.metric in ("reads", "writes"):          # cluster-level only: see the next test
            continue
        np.testing.assert_array_equal(v[i], sums[(s.cluster, s.metric)], err_msg=s.key)
        checked += 1
    assert checked == 3 * len(inv.clusters)


def _traffic_reads_writes(model):
    """Row indices (traffic, reads, writes) of the cluster-level series, one row per cluster."""
    by = {(s.cluster, s.metric): i for i, s in enumerate(model.inventory.series) if s.instance is None}
    rows = [(by.get((c.name, "qps"), by.get((c.name, "proxy_qps"))), by[(c.name, "reads")], by[(c.name, "writes")])
            for c in model.inventory.clusters]
    return tuple(np.array(r) for r in zip(*rows))


def test_reads_plus_writes_equal_the_cluster_traffic_every_minute(model):
    traffic, reads, writes = _traffic_reads_writes(model)
    spike = calendar.promotion("11.11", 2025).start
    ts = np.r_[signals.minutes(spike - HOUR, spike + HOUR), signals.minutes(model.anchor - HOUR, model.anchor)]
    v = signals.values(model, np.r_[traffic, reads, writes], ts)
    q, r, w = np.split(v, 3)
    np.testing.assert_array_equal(r + w, q)
    assert (r >= 0).all() and (w >= 0).all() and (r == np.round(r)).all()
    share = r.sum(axis=1) / q.sum(axis=1)
    assert 0.54 <= share.min() and share.max() <= 0.96
    np.testing.assert_allclose(share, model.cl_read_share, atol=0.002)
    # a Twemproxy pool's reads and writes are its Memcached backends' gets and sets
    now = ts >= model.anchor - HOUR               # (in 2025 some backends had not joined yet)
    pools = [c for c, cl in enumerate(model.inventory.clusters) if cl.service == "twemproxy"]
    for c in pools[:10]:
        backends = _series(model, "qps", cluster_level=False, cluster=model.inventory.clusters[c].name)
        np.testing.assert_array_equal(signals.values(model, backends, ts[now]).sum(axis=0), r[c, now] + w[c, now])


def test_hourly_reads_and_writes_add_up_to_the_hourly_traffic(model):
    traffic, reads, writes = _traffic_reads_writes(model)
    promo = calendar.promotion("6.18", 2026)
    hours = np.arange(promo.start - 12 * HOUR, promo.start + 12 * HOUR, HOUR)
    q, r, w = (signals.hourly(model, rows, hours) for rows in (traffic, reads, writes))
    np.testing.assert_array_equal(r[0] + w[0], q[0])                 # min
    np.testing.assert_allclose(r[1] + w[1], q[1], atol=1e-6)        # avg (two decimals)
    np.testing.assert_array_equal(r[2] + w[2], q[2])                 # max
    assert (r[3] == 60).all() and (w[3] == 60).all()
    # and the minutes they summarise agree
    raw = signals.values(model, reads[:40], signals.minutes(hours[0], hours[-1] + HOUR)).reshape(40, -1, 60)
    np.testing.assert_allclose(r[1][:40], raw.mean(axis=2), rtol=0.03)


def test_read_share_differs_between_clusters_and_stays_put(model):
    traffic, reads, _ = _traffic_reads_writes(model)
    day = calendar.beijing_midnight(2026, 9, 15)
    share = [signals.values(model, reads, signals.minutes(d, d + DAY, 600)).sum(axis=1)
             / signals.values(model, traffic, signals.minutes(d, d + DAY, 600)).sum(axis=1)
             for d in (day, day - 365 * DAY)]
    assert share[0].std() > 0.08 and share[0].max() - share[0].min() > 0.3
    np.testing.assert_allclose(share[0], share[1], atol=0.002)     # a cluster's mix does not drift
    assert len({round(x, 2) for x in share[0]}) > len(model.inventory.clusters) // 12


# ---- scale-outs --------------------------------------------------------------------------------

def test_big_clusters_were_scaled_out_10_to_20_days_before_a_promotion(model):
    inv = model.inventory
    outs = truth.scale_outs(model)
    promos = {p.name: p for p in calendar.promotions_between(model.anchor - 720 * DAY, model.anchor)}
    assert set(outs) == {c.name for c in inv.clusters if c.shard_count >= 4}
    assert len({o["promotion"] for o in outs.values()}) >= 4          # spread over the two years
    founded = min(x.added_at for x in inv.instances)
    assert founded <= model.anchor - 730 * DAY
    shards = {c.name: c.shard_count for c in inv.clusters}
    by_cluster: dict[str, list] = {}
    for x in inv.instances:
        by_cluster.setdefault(x.cluster, []).append(x)
    for name, o in outs.items():
        p = promos[o["promotion"]]
        assert 40 * DAY <= model.anchor - p.start <= 700 * DAY
        assert (o["at"] + 8 * HOUR) % DAY == 2 * HOUR                  # 02:00 Beijing time
        assert 10 * DAY <= p.start - (o["at"] - 2 * HOUR) <= 20 * DAY   # on the 10th..20th day before
        new = {x.name for x in by_cluster[name] if x.added_at == o["at"]}
        assert new == {x.name for x in by_cluster[name] if x.role != "proxy" and x.shard >= o["shards_before"]}
        assert 0 < o["shards_before"] < o["shards_after"] == shards[name]
    assert {x.added_at for x in inv.instances if x.cluster not in outs} == {founded}
    joined_last_year = sum(x.added_at > model.anchor - 365 * DAY for x in inv.instances)
    assert 0.05 * len(inv.instances) < joined_last_year < 0.3 * len(inv.instances)


def test_instances_have_no_data_before_they_joined(model):
    name, o = next((n, o) for n, o in truth.scale_outs(model).items() if o["shards_before"] > 1)
    rows = _series(model, cluster=name, cluster_level=False)
    joined = model.in_added[model.s_instance[rows]]
    new, old = joined == o["at"], joined < o["at"]
    assert new.any() and old.any()
    ts = signals.minutes(o["at"] - 2 * HOUR, o["at"] + 2 * HOUR)
    v = signals.values(model, rows, ts)
    assert np.isnan(v[np.ix_(new, ts < o["at"])]).all()
    assert np.isfinite(v[np.ix_(new, ts >= o["at"])]).all()
    assert np.isfinite(v[old]).all()
    _, vavg, _, count = signals.hourly(model, rows, np.arange(o["at"] - 2 * HOUR, o["at"] + 2 * HOUR, HOUR))
    assert (count[new][:, :2] == 0).all() and np.isnan(vavg[new][:, :2]).all()
    assert (count[new][:, 2:] == 60).all() and (count[old] == 60).all()
    # the cluster-level series (the promotion history the forecaster reads) go back further
    cl = _series(model, cluster=name, cluster_level=True)
    assert np.isfinite(signals.values(model, cl, np.array([o["at"] - 30 * DAY]))).all()


def test_values_have_realistic_units_and_precision(model):
    ts = signals.minutes(model.anchor - HOUR, model.anchor)
    v = signals.values(model, None, ts)
    metric = np.array([s.metric for s in model.inventory.series])
    ok = np.isfinite(v)
    assert (v[ok] >= 0).all()
    for m in ("qps", "mem_used", "mem_max", "conns", "net_in", "net_out", "proxy_qps"):
        x = v[metric == m]
        x = x[np.isfinite(x)]
        np.testing.assert_array_equal(x, np.round(x), err_msg=m)
    for m in ("mem_util", "hit_ratio", "cpu"):
        x = v[metric == m]
        x = x[np.isfinite(x)]
        np.testing.assert_allclose(x, np.round(x, 2), err_msg=m)
        assert x.max() <= 100
    per_instance = np.array([s.instance is not None for s in model.inventory.series])
    used, mx, util = (v[(metric == m) & per_instance] for m in ("mem_used", "mem_max", "mem_util"))
    np.testing.assert_allclose(util, np.round(used / mx * 100, 2))
    assert (v[metric == "repl_ok"][np.isfinite(v[metric == "repl_ok"])] == 1).all()


def test_diurnal_peaks_at_10_and_21_beijing_time(model):
    midnight = calendar.beijing_midnight(2026, 9, 15)         # an ordinary Tuesday
    ts = signals.minutes(midnight, midnight + DAY)
    total = signals.values(model, _series(model, "qps", cluster_level=True), ts).sum(axis=0)
    hour = (ts - midnight) / HOUR
    morning = (hour >= 6) & (hour < 15)
    evening = hour >= 15
    assert abs(hour[morning][np.argmax(total[morning])] - 10) <= 0.34
    assert abs(hour[evening][np.argmax(total[evening])] - 21) <= 0.5
    at = {h: total[int(h * 60)] for h in (4, 10, 15, 21)}
    assert at[10] > 1.2 * at[15] and at[21] > 1.2 * at[15] and at[15] > 1.5 * at[4]


def test_weekend_changes_traffic_per_business(model):
    mon = calendar.beijing_midnight(2026, 9, 14)
    sat = calendar.beijing_midnight(2026, 9, 19)
    b = int(np.argmax(np.abs(model.biz_weekend)))
    name = model.inventory.businesses[b].name
    weekday = _business_qps(model, name, signals.minutes(mon, mon + DAY, 300)).mean()
    weekend = _business_qps(model, name, signals.minutes(sat, sat + DAY, 300)).mean()
    assert np.sign(weekend - weekday) == np.sign(model.biz_weekend[b])
    assert abs(weekend / weekday - 1) > 0.05


def test_traffic_grows_about_threefold_a_year(model):
    rows = _series(model, "qps", cluster_level=True)
    now = calendar.beijing_midnight(2026, 9, 1)
    then = calendar.beijing_midnight(2025, 9, 1)
    _, now_avg, _, _ = signals.hourly(model, rows, np.arange(now, now + 28 * DAY, HOUR))
    _, then_avg, _, _ = signals.hourly(model, rows, np.arange(then, then + 28 * DAY, HOUR))
    assert 2.5 <= now_avg.sum() / then_avg.sum() <= 3.6


def test_promotion_midnight_spike_carries_the_business_lift(model):
    promo = calendar.promotion("11.11", 2025)
    week_before_preheat = promo.start - (promo.preheat_days + 4) * DAY      # same weekday
    lifts = truth.lifts(model, [promo]).set_index("business")["lift"]
    measured, expected = [], []
    for b in model.inventory.businesses[:60]:
        spike = _business_qps(model, b.name, np.array([promo.start]))[0]
        normal_peak = _business_qps(model, b.name, signals.minutes(
            week_before_preheat, week_before_preheat + DAY)).max()
        measured.append(spike / normal_peak)
        expected.append(lifts[b.name])
    ratio = np.array(measured) / np.array(expected)
    assert 0.9 <= np.median(ratio) <= 1.12
    assert ((ratio > 0.75) & (ratio < 1.3)).all()
    assert np.corrcoef(measured, expected)[0, 1] > 0.9
    assert max(expected) > 2 * min(expected)          # lifts differ per business


def test_lifts_of_one_kind_are_similar_across_years_and_kinds_differ(model):
    df = truth.lifts(model, [calendar.promotion(k, y) for k in ("11.11", "4.19") for y in (2024, 2025)])
    pivot = df.pivot(index="business", columns="promotion", values="lift")
    assert np.corrcoef(pivot["11.11 2024"], pivot["11.11 2025"])[0, 1] > 0.9
    assert (pivot["11.11 2025"] > pivot["4.19 2025"]).all()
    assert 2.0 <= pivot["11.11 2025"].min() and pivot["11.11 2025"].max() <= 9.0


def test_preheat_ramps_up_before_the_midnight_spike(model):
    promo = calendar.promotion("11.11", 2025)
    b = model.inventory.businesses[0].name
    day = lambda start: _business_qps(model, b, signals.minutes(start, start + DAY, 600)).max()   # noqa: E731
    before = day(promo.start - (promo.preheat_days + 1) * DAY)
    last_preheat = day(promo.start - DAY)
    assert last_preheat > 1.05 * before
    spike = _business_qps(model, b, np.array([promo.start, promo.start + 3 * HOUR]))
    assert spike[0] > 1.5 * spike[1]


def test_hourly_rollups_match_the_minutes_they_summarise(model):
    promo = calendar.promotion("6.18", 2026)
    rows = model.cluster_series[:60]
    hours = np.arange(promo.start - 12 * HOUR, promo.start + 12 * HOUR, HOUR)
    vmin, vavg, vmax, count = signals.hourly(model, rows, hours)
    raw = signals.values(model, rows, signals.minutes(hours[0], hours[-1] + HOUR)).reshape(len(rows), -1, 60)
    np.testing.assert_allclose(vavg, raw.mean(axis=2), rtol=0.03)
    np.testing.assert_allclose(vmax, raw.max(axis=2), rtol=0.08)
    np.testing.assert_allclose(vmin, raw.min(axis=2), rtol=0.08)
    assert (count == 60).all()
    spike_hour = np.flatnonzero(hours == promo.start)[0]
    np.testing.assert_allclose(vmax[:, spike_hour], raw[:, spike_hour, 0], rtol=0.1)


# ---- incidents ---------------------------------------------------------------------------------

def test_silent_instance_has_no_data_in_its_silent_window(model):
    silent = truth.incidents(model)["silent"]
    rows = np.array([i for i, s in enumerate(model.inventory.series) if s.instance == silent["instance"]])
    assert len(rows) >= 9
    assert model.silent_since(silent["instance"]) == silent["since"]
    ts = signals.minutes(silent["since"] - HOUR, model.anchor + HOUR)
    v = signals.values(model, rows, ts)
    assert np.isnan(v[:, ts >= silent["since"]]).all()
    assert np.isfinite(v[:, ts < silent["since"]]).all()
    hours = np.arange(silent["since"] - 2 * HOUR, silent["since"] + 2 * HOUR, HOUR)
    _, vavg, _, count = signals.hourly(model, rows, hours)
    assert (count[:, :2] == 60).all() and (count[:, 2:] == 0).all()
    assert np.isnan(vavg[:, 2:]).all()


def test_memory_creep_reaches_the_limit_and_evicts(model):
    creep = truth.incidents(model)["memory_creep"]
    util = _series(model, "mem_util", cluster=creep["cluster"])
    evictions = _series(model, "evictions", cluster=creep["cluster"])
    early = signals.values(model, util, np.array([creep["since"] - DAY]))
    late = signals.values(model, np.r_[util, evictions], np.array([model.anchor]))
    assert early.max() < 90
    assert late[:len(util)].min() > 95
    assert late[len(util):].max() > 0


def test_hit_ratio_drops_on_one_cluster(model):
    drop = truth.incidents(model)["hit_ratio_drop"]
    rows = _series(model, "hit_ratio", cluster=drop["cluster"])
    v = signals.values(model, rows, np.array([drop["since"] - DAY, model.anchor]))
    assert (v[:, 0] - v[:, 1]).min() > 20
    assert ((v >= 0) & (v <= 100)).all()


def test_a_hot_shard_carries_the_most_traffic(model):
    name, shard = next(iter(truth.incidents(model)["hot_shards"].items()))
    masters = [i for i, s in enumerate(model.inventory.series)
               if s.cluster == name and s.metric == "qps" and s.instance is not None
               and model.inventory.instances[model.s_instance[i]].role == "master"]
    v = signals.values(model, masters, signals.minutes(model.anchor - 4 * HOUR, model.anchor - 3 * HOUR))
    hottest = model.inventory.instances[model.s_instance[masters[int(np.argmax(v.mean(axis=1)))]]]
    assert hottest.shard == shard


# ---- calendar ----------------------------------------------------------------------------------

def test_promotions_start_at_beijing_midnight():
    p = calendar.promotion("11.11", 2025)
    assert p.start == 1_762_790_400                    # 2025-11-10 16:00 UTC
    assert (p.end - p.start, p.preheat_days, p.tz) == (DAY, 10, "Asia/Shanghai")
    assert [calendar.promotion(k, 2025).preheat_days for k in ("12.12", "6.18", "4.19")] == [3, 7, 2]
    with pytest.raises(ValueError, match="unknown promotion kind"):
        calendar.promotion("5.20", 2025)


def test_default_promotions_cover_two_years_and_the_next_of_each_kind():
    now = calendar.beijing_midnight(2026, 11, 29)
    promos = calendar.default_promotions(now)
    past = [p for p in promos if p.start <= now]
    future = [p for p in promos if p.start > now]
    assert Counter(p.kind for p in future) == {"11.11": 1, "12.12": 1, "6.18": 1, "4.19": 1}
    assert Counter(p.kind for p in past) == {"11.11": 2, "12.12": 2, "6.18": 2, "4.19": 2}
    assert all(now - p.start <= 2 * 366 * DAY for p in past)
    assert all((p.start + 8 * HOUR) % DAY == 0 for p in promos)
    assert len({p.name for p in promos}) == len(promos)


def test_bad_scale_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="at least 30"):
        build_model(5, 7)
