"""The fleet runner, backtest, capacity plan and CLI on a synthetic fleet in a real SQLite store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import app
from forecasting.backtest import score
from forecasting.fleet import backtest_fleet, capacity_plan, forecast_fleet

pytestmark = pytest.mark.slow  # builds a two-year synthetic fleet store (about 10 s)


@pytest.fixture(scope="module")
def next_promotion(demo_store_url):
    from store import Store
    with Store.open(demo_store_url) as store:
        return forecast_fleet(store, "12.12", workers=1)


def test_every_business_and_cluster_is_forecast_for_each_metric(demo_store, next_promotion):
    t = next_promotion.table
    assert next_promotion.target.name == "12.12 2026"
    assert (t["error"] == "").all(), t.loc[t["error"] != "", "error"].tolist()
    businesses = set(demo_store.businesses()["name"])
    clusters = demo_store.clusters()
    for metric in ("qps", "mem_used", "conns"):
        assert set(t[(t["level"] == "business") & (t["metric"] == metric)]["group"]) <= businesses
    twem = set(clusters[clusters["service"] == "twemproxy"]["name"])
    assert twem and twem <= set(t[(t["level"] == "cluster") & (t["metric"] == "proxy_qps")]["group"])
    assert set(t[t["level"] == "cluster"]["group"]) == set(clusters["name"])


def test_next_promotion_uses_both_past_12_12s_and_is_above_normal(next_promotion):
    qps = next_promotion.table.query("level == 'business' and metric == 'qps'")
    assert (qps["n_same_kind"] == 2).all()                   # 12.12 2024 and 12.12 2025
    assert (qps["lift"] > 1.2).all()
    assert ((qps["lower"] < qps["point"]) & (qps["point"] < qps["upper"])).all()
    assert (qps["point"] > qps["baseline"]).all()


def test_fleet_backtest_beats_the_naive_forecasts(demo_store):
    rows = backtest_fleet(demo_store, metrics=("qps",), workers=1)
    seen = rows[(rows["n_same_kind"] > 0) & (rows["lead_days"] == 7)]
    s = score(seen).iloc[0]
    assert s["mdape"] < 0.12
    assert s["mdape"] < s["mdape_naive_last"]
    assert 0.5 <= score(rows).iloc[0]["coverage_80"] <= 1.0


def test_capacity_plan_covers_every_cluster_with_its_real_capacity(demo_store, next_promotion):
    plan = capacity_plan(demo_store, next_promotion).set_index("cluster")
    clusters = demo_store.clusters().set_index("name")
    assert set(plan.index) == set(clusters.index)
    expected = clusters["shard_count"] * clusters["qps_per_instance"]
    has_limit = clusters["qps_per_instance"] > 0
    assert np.allclose(plan.loc[expected[has_limit].index, "qps_capacity"], expected[has_limit])
    twem = clusters[clusters["service"] == "twemproxy"].index
    assert (plan.loc[twem, "proxies"] > 0).all() and plan.loc[twem, "proxy_util_point"].notna().all()
    assert list(plan["rank"]) == list(range(1, len(plan) + 1))


def test_cli_prints_the_plan_and_writes_the_csv(demo_store_url, tmp_path, capsys):
    out = tmp_path / "plan.csv"
    code = app.main(["forecast", "--store-url", demo_store_url, "--promotion", "12.12", "--csv", str(out),
                     "--workers", "1"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "forecast for 12.12 2026" in printed and "action" in printed and "shards (+" in printed
    plan = pd.read_csv(out)
    assert len(plan) == 10
    # the change ticket says which method forecast each cluster and how wrong it was before
    forecast = plan[plan["status"] != "no forecast"]
    assert set(forecast["method"]) <= {"pooled", "last_lift", "year_growth", "combined"}
    assert forecast["past_error_pct"].dropna().between(0, 100).all() and forecast["past_error_pct"].notna().sum() >= 5
    assert (plan["confidence_note"].fillna("") != "").eq(plan["low_confidence"]).all()


def test_every_forecast_row_names_its_method_and_past_error(demo_store):
    fc = forecast_fleet(demo_store, "12.12", metrics=("qps",), workers=1)
    ok = fc.table[fc.table["error"] == ""]
    assert len(ok) and ok["method"].isin(["pooled", "last_lift", "year_growth", "combined"]).all()
    scored = ok[ok["n_cases"] > 0]
    assert len(scored) >= len(ok) - 2 and scored["past_mdape"].notna().all()
    unscored = ok[ok["n_cases"] == 0]           # nothing to check the methods on: it says so
    assert unscored["low_confidence"].all() and unscored["reasons"].str.contains("past event").all()
    assert not ok["capped"].any()


def test_cli_backtest_prints_error_coverage_baselines_and_why_cases_failed(demo_store_url, demo_store, capsys):
    assert app.main(["forecast", "--backtest", "--store-url", demo_store_url, "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    for word in ("mdape", "coverage_80", "mdape_naive_last", "mdape_naive_year", "kind seen before"):
        assert word in printed
    rows = backtest_fleet(demo_store, metrics=("qps",), workers=1)
    failed = int((rows["error"] != "").sum())       # every failed case is counted under its reason
    assert (f"{failed} cases could not be forecast; why:" if failed else "every case was forecast") in printed


def test_cli_unknown_promotion_is_one_line_with_the_fix(demo_store_url):
    # its own process, as a user runs it (in this one, other tests' background threads may log)
    import subprocess
    import sys
    from pathlib import Path
    run = subprocess.run([sys.executable, "app.py", "forecast", "--store-url", demo_store_url, "--promotion", "5.20"],
                         cwd=Path(app.__file__).parent, capture_output=True, text=True, timeout=300)
    err = run.stderr.strip()
    assert run.returncode == 1
    assert err.count("\n") == 0 and "'5.20' is not an upcoming promotion; pick one of: " in err
