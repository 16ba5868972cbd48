"""Red flags: thresholds tightened by star, staleness never ok, worst-of, wall order."""
from __future__ import annotations

import numpy as np
import pandas as pd

from alerting import flags as fl

NOW = 1_800_000_000


def rows(*specs):
    """(business, star, metric, value, age_s, service, role) -> latest frame."""
    out = [dict(business=b, star=s, metric=m, value=v, ts=np.nan if a is None else NOW - a, service=svc, role=r,
                cluster=f"{b}-c", instance=f"{b}-i{k}", product_line="pl")
           for k, (b, s, m, v, a, svc, r) in enumerate(specs)]
    return pd.DataFrame(out)


def test_star_tightens_thresholds():
    df = rows(("minor", 1, "mem_util", 82.0, 0, "redis", "master"), ("core", 5, "mem_util", 82.0, 0, "redis", "master"))
    sev = fl.evaluate(df, NOW, 300).set_index("business")["severity"]
    assert sev["minor"] == "ok" and sev["core"] == "warn"


def test_low_hit_ratio_and_broken_replication():
    df = rows(("a", 3, "hit_ratio", 50.0, 0, "redis", "master"), ("b", 3, "repl_ok", 0.0, 0, "redis", "slave"),
              ("c", 3, "hit_ratio", 97.0, 0, "memcached", "master"))
    sev = fl.evaluate(df, NOW, 300).set_index("business")["severity"]
    assert list(sev) == ["crit", "crit", "ok"]


def test_silent_series_is_stale_whatever_its_old_value():
    df = rows(("quiet", 3, "mem_util", 40.0, 3600, "redis", "master"), ("never", 3, "qps", np.nan, None, "redis", "master"))
    out = fl.evaluate(df, NOW, 300)
    assert list(out["severity"]) == ["stale", "stale"]


def test_worst_of_business_prefers_crit_over_stale_and_counts_age():
    df = rows(("b", 3, "mem_util", 99.0, 0, "redis", "master"), ("b", 3, "qps", 1.0, 900, "redis", "master"),
              ("s", 3, "qps", 1.0, 900, "redis", "master"))
    worst = fl.worst_of(fl.evaluate(df, NOW, 300), "business", NOW).set_index("business")
    assert worst.loc["b", "severity"] == "crit" and worst.loc["b", "where"] == "b-i0"
    assert worst.loc["s", "severity"] == "stale" and worst.loc["s", "age"] == 900


def test_wall_order_severity_first_within_the_star_band():
    """A 3-star crit is above ten 5-star warns (the NOC reads the strip top down); 1-2 star
    businesses come after the 3-5 star band whatever their severity; longest flagged first."""
    warns = [f"w5-{i}" for i in range(10)]
    frame = pd.DataFrame({"business": warns + ["c3", "c3old", "ok5", "s4", "c1", "w4"],
                          "star": [5] * 10 + [3, 3, 5, 4, 1, 4],
                          "severity": ["warn"] * 10 + ["crit", "crit", "ok", "stale", "crit", "warn"],
                          "since": [NOW - 10] * 10 + [NOW - 10, NOW - 999, NOW, NOW - 5, NOW - 9999, NOW - 99]})
    order = list(fl.wall_order(frame, NOW)["business"])
    assert order[:2] == ["c3old", "c3"]
    assert order[2:12] == warns and order[12] == "w4"
    assert order[13:] == ["s4", "c1"]
    assert fl.counts(frame) == {"ok": 1, "stale": 1, "warn": 11, "crit": 3}


def test_onsets_carry_over_while_severity_holds():
    first = pd.DataFrame({"business": ["a", "b"], "severity": ["crit", "stale"], "age": [0.0, 600.0]})
    since = fl.carry_onsets(first, None, NOW)
    assert since == {"a": NOW, "b": NOW - 600}
    later = fl.carry_onsets(first.assign(severity=["crit", "ok"]), {"a": ("crit", NOW), "b": ("stale", 1)}, NOW + 60)
    assert later == {"a": NOW, "b": NOW + 60}


def test_never_reported_series_makes_its_business_stale():
    df = rows(("n", 2, "qps", np.nan, None, "redis", "master"), ("n", 2, "cpu", 10.0, 600, "redis", "master"),
              ("m", 2, "qps", np.nan, None, "redis", "master"))
    worst = fl.worst_of(fl.evaluate(df, NOW, 300), "business", NOW).set_index("business")
    assert list(worst["severity"]) == ["stale", "stale"]
    assert worst.loc["m", "age"] == 0 and worst.loc["n", "age"] == 600


# ------------------------------------------------------------------------------ Zabbix problems
def _problem_store(tmp_path, problems_doc):
    """A store with two businesses' instances and active problems written the way the Zabbix
    collector writes them (``Store.replace_problems``)."""
    from store import Store
    from store.inventory_types import Business, Cluster, Instance, Inventory, ProductLine, SeriesSpec
    store = Store.open(f"sqlite:///{tmp_path / 'p.sqlite'}")
    inv = Inventory(product_lines=[ProductLine("trade")],
                    businesses=[Business("cart", "trade", 3), Business("feed", "trade", 3)],
                    clusters=[Cluster("cart-re01", "cart", "redis", 1, 1e4, 1 << 30),
                              Cluster("feed-re01", "feed", "redis", 1, 1e4, 1 << 30)],
                    instances=[Instance("10.0.0.1:6379", "cart-re01", "10.0.0.1", 6379, "master", 0),
                               Instance("10.0.0.2:6379", "feed-re01", "10.0.0.2", 6379, "master", 0)])
    inv.series = [SeriesSpec(f"{i.name}/qps", "qps", i.cluster, i.name) for i in inv.instances]
    store.upsert_inventory(inv)
    store.replace_problems(problems_doc)
    return store, store.problems()


def _problem(eventid, severity, instance, name="Redis is down", host="redis-cart-1", clock=NOW - 600):
    return {"eventid": str(eventid), "clock": clock, "name": name, "severity": severity, "acknowledged": False,
            "host": host, "instance": instance, "tags": {"service": "redis"}}


def test_zabbix_severity_maps_to_warn_and_crit(tmp_path):
    doc = [_problem(1, 5, "10.0.0.1:6379", "Redis is down"), _problem(2, 3, "10.0.0.2:6379", "Memory high"),
           _problem(3, 1, "10.0.0.2:6379", "Config changed"), _problem(4, 5, None, "Unrelated host", "web-1")]
    store, active = _problem_store(tmp_path, doc)
    try:
        pf = fl.problem_flags(active, store.instances())
    finally:
        store.close()
    by_name = pf.set_index("name")
    assert by_name.loc["Redis is down", "severity"] == "crit" and by_name.loc["Redis is down", "business"] == "cart"
    assert by_name.loc["Memory high", "severity"] == "warn" and by_name.loc["Memory high", "business"] == "feed"
    assert by_name.loc["Config changed", "severity"] == "ok"
    assert "Unrelated host" not in by_name.index          # a host Peakwatch does not collect belongs to no business
    assert list(pf["name"])[0] == "Redis is down"          # most severe first


def test_active_problem_raises_the_business_flag(tmp_path):
    doc = [_problem(1, 4, "10.0.0.1:6379", "Replication broken"), _problem(2, 2, "10.0.0.2:6379", "Slow log"),
           _problem(3, 0, "10.0.0.2:6379", "Not classified")]
    store, active = _problem_store(tmp_path, doc)
    try:
        pf = fl.problem_flags(active, store.instances())
    finally:
        store.close()
    worst = pd.DataFrame({"business": ["cart", "feed", "calm"], "severity": ["warn", "crit", "ok"],
                          "reason": ["mem_util 90", "mem_util 99", ""], "where": ["a", "b", ""],
                          "age": [0.0, 0.0, 0.0], "n_flagged": [1, 1, 0]})
    out = fl.raise_with_problems(worst, pf).set_index("business")
    assert out.loc["cart", "severity"] == "crit" and out.loc["cart", "reason"] == "zabbix: Replication broken"
    assert out.loc["cart", "where"] == "10.0.0.1:6379" and out.loc["cart", "n_flagged"] == 2
    assert out.loc["feed", "severity"] == "crit" and out.loc["feed", "reason"] == "mem_util 99"   # already worse
    assert out.loc["calm", "severity"] == "ok"


def test_no_problems_document_changes_nothing(tmp_path):
    store, active = _problem_store(tmp_path, [])
    try:
        pf = fl.problem_flags(active, store.instances())
    finally:
        store.close()
    worst = pd.DataFrame({"business": ["cart"], "severity": ["stale"], "reason": ["no data"], "where": [""],
                          "age": [60.0], "n_flagged": [0]})
    assert pf.empty and fl.raise_with_problems(worst, pf).equals(worst)


def test_a_series_without_value_in_a_reporting_instance_is_not_stale():
    """A Redis without maxmemory has memory use but no utilisation; a cache without traffic has no
    hit ratio: the instance reports, so its business is not grey, and the old value is not judged."""
    df = pd.DataFrame([dict(business="nolimit", star=3, metric=m, value=v, ts=t, service="redis", role="master",
                            cluster="c", instance="r1", product_line="pl")
                       for m, v, t in (("mem_used", 3.3e9, NOW - 30), ("mem_util", 99.0, NOW - 7200),
                                       ("hit_ratio", np.nan, np.nan))])
    out = fl.evaluate(df, NOW, 300)
    assert list(out["severity"]) == ["ok", "ok", "ok"]
    worst = fl.worst_of(out, "business", NOW).set_index("business")
    assert worst.loc["nolimit", "severity"] == "ok"
    silent = df.assign(ts=[NOW - 900, NOW - 7200, np.nan])
    assert list(fl.evaluate(silent, NOW, 300)["severity"]) == ["stale", "stale", "stale"]
