"""What ``app.py forecast`` prints for a planner: one time zone, named low-confidence groups,
counts as whole numbers, the deadline to act."""
from __future__ import annotations

import re

import pandas as pd

from forecasting.capacity import CapacityLimits, plan
from forecasting.cli import plan_report
from forecasting.events import Event
from forecasting.fleet import FleetForecast

GIB = 2**30


def _forecast(n_weak: int) -> FleetForecast:
    target = Event("12.12 2026", "12.12", pd.Timestamp("2026-12-12", tz="Asia/Shanghai"),
                   pd.Timestamp("2026-12-13", tz="Asia/Shanghai"))
    groups = [f"biz{i:02d}" for i in range(n_weak)] + ["pay-core", "pay-core"]
    table = pd.DataFrame({"level": ["business"] * n_weak + ["cluster", "cluster"], "group": groups,
                          "metric": ["qps"] * (n_weak + 1) + ["mem_used"],
                          "point": [1e5] * n_weak + [200_000.0, 3.0 * GIB],
                          "upper": [1.2e5] * n_weak + [260_000.0, 4.0 * GIB],
                          "low_confidence": [True] * n_weak + [False, False], "error": ""})
    return FleetForecast(target=target, cutoff=pd.Timestamp("2026-11-30 16:00", tz="UTC"), table=table)


def _plan(fc: FleetForecast) -> pd.DataFrame:
    clusters = pd.DataFrame([dict(name="pay-core", business="pay", product_line="payment", service="redis",
                                  shard_count=4, qps_per_instance=0.0, mem_per_instance=0.0)])
    cl = fc.table[fc.table["level"] == "cluster"]
    return plan(cl, clusters, pd.DataFrame([dict(name="pay", star=5)]), pd.Series(dtype=int),
                pd.Series({"pay-core": 16.0 * GIB}), CapacityLimits())


def test_plan_report_names_the_low_confidence_groups_and_uses_one_time_zone():
    fc = _forecast(14)
    lines = plan_report(fc, _plan(fc), "Asia/Shanghai", 7, pd.Timestamp("2026-12-01 02:00", tz="UTC"))
    text = "\n".join(lines)
    assert "14 low-confidence in 14 businesses and clusters: business biz00, business biz01" in text
    assert "business biz09 and 4 more" in text and "biz10" not in text
    # the start (CST) and the data cutoff (UTC) are both in the display time zone, named once
    assert "starts 2026-12-12 00:00), data up to 2026-12-01 00:00; times in Asia/Shanghai" in text
    assert not re.search(r"\b(UTC|CST)\b", text)
    assert "act by 2026-12-05 00:00 Asia/Shanghai (7 days before the start, setting capacity_lead_days): " \
           "4 days left" in text


def test_plan_report_prints_counts_as_whole_numbers_with_current_shards_and_the_action():
    fc = _forecast(2)
    table = plan_report(fc, _plan(fc), "Asia/Shanghai", 7, pd.Timestamp("2026-12-01", tz="UTC"))[-1]
    header, row = table.splitlines()[:2]
    assert "shards" in header.split() and "action" in header.split()
    rank, cluster, business, star, service, status, shards, proxies = row.split()[:8]
    assert (rank, star, shards, proxies) == ("1", "5", "4", "0"), row        # 4 shards, not 4.0
    assert "split 4 -> 6 shards (+2)" in row


def test_backtest_tables_print_counts_as_whole_numbers():
    from forecasting.cli import backtest_tables
    rows = pd.DataFrame({"series": ["a", "b", "a", "b"], "event": "11.11 2025", "kind": "11.11",
                         "lead_days": [1, 1, 7, 7], "truth": 100.0, "point": [90.0, 110.0, 80.0, 120.0],
                         "lower": 70.0, "upper": 130.0, "naive_last": 95.0, "naive_year": 90.0,
                         "n_same_kind": [1, 0, 1, 0], "error": ""})
    text = "\n".join(backtest_tables(rows))
    assert not [w for w in text.split() if re.fullmatch(r"\d+\.0", w)], text     # 2, not 2.0
    assert re.search(r"^1\s+2\s+0\s", text, re.M), text        # lead 1: n=2, failed=0
