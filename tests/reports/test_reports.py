"""The readiness and daily reports as a planner and the NOC meet them: `app.py report` writes one
self-contained HTML file; in Chromium at A4 width it fits the paper and prints to PDF."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import app
from forecasting.capacity import CapacityLimits
from forecasting.fleet import capacity_plan, forecast_fleet
from reports.readiness import with_cost

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
A4_PX = 794          # 210 mm at 96 dpi
PRINT_PX = 707       # inside the report's @page margins (12 mm + 11 mm): what a printed line holds


@pytest.fixture(scope="module")
def readiness_file(demo_store_url, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "readiness.html"
    assert app.main(["report", "--promotion", "12.12", "--out", str(out), "--store-url", demo_store_url,
                     "--workers", "1"]) == 0
    return out


def test_readiness_is_one_self_contained_file(readiness_file):
    text = readiness_file.read_text()
    assert "<script" not in text and not re.search(r'(src|href)="(https?:|/)', text)   # opens offline
    assert "Readiness for 12.12 2026" in text
    for section in ("the fleet and each product line", "Clusters at risk", "Recommended changes and their cost",
                    "Accuracy on this fleet's past promotions"):
        assert section in text


def test_readiness_lists_every_cluster_to_change_with_its_cost_in_instances(readiness_file, demo_store):
    fc = forecast_fleet(demo_store, "12.12", metrics=("qps", "proxy_qps", "mem_used"), workers=1)
    plan = with_cost(capacity_plan(demo_store, fc, CapacityLimits()), demo_store.instances())
    acting = plan[plan["status"].isin(["over", "watch"])]
    assert len(acting) > 0
    text = readiness_file.read_text()
    changes = text[text.index("Recommended changes"):text.index("Accuracy on this fleet")]
    assert f"{len(acting)} clusters need a change before the promotion, {int(acting['cost_instances'].sum())} " \
           f"new instances in all" in changes
    for name in acting["cluster"]:
        assert f"<td>{name}</td>" in changes
    shards = plan.set_index("cluster")
    # a shard costs its master and its replicas
    assert (shards["cost_instances"] >= shards["add_shards"] * shards["instances_per_shard"]).all()
    charts = text[text.index("Clusters at risk"):text.index("Recommended changes")]
    assert charts.count("<svg") == min(8, len(acting))


def test_daily_report_has_yesterdays_peaks_movers_and_flags(demo_store_url, demo_store, tmp_path):
    out = tmp_path / "daily.html"
    newest = pd.Timestamp(int(demo_store.latest(metric="qps")["ts"].max()), unit="s", tz="UTC")
    day = (newest.tz_convert("Asia/Shanghai") - pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    assert app.main(["report", "--daily", "--day", day, "--out", str(out), "--store-url", demo_store_url]) == 0
    text = out.read_text()
    assert f"Daily report {day}" in text
    assert "<script" not in text
    for section in ("Red flags now", "Top movers", "Yesterday's peak per business"):
        assert section in text
    for name in demo_store.businesses()["name"]:
        assert f"<td>{name}</td>" in text


@pytest.mark.browser
@pytest.mark.parametrize("media", ["screen", "print"])
def test_readiness_fits_a4_width_and_prints_to_pdf(browser, readiness_file, tmp_path, media):
    width = PRINT_PX if media == "print" else A4_PX
    page = browser.new_page(viewport={"width": width, "height": 1123})
    page.emulate_media(media=media)
    page.goto(readiness_file.as_uri())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"readiness-a4-{media}.png"), full_page=True)
    overflow = page.evaluate("() => [...document.querySelectorAll('body *')].filter("
                             "e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
                             ".map(e => e.tagName + ' ' + (e.textContent || '').slice(0, 40))")
    assert overflow == []                                       # nothing runs off the paper
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if media == "print":
        pdf = tmp_path / "readiness.pdf"
        page.pdf(path=str(pdf), format="A4", print_background=True)
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", data)) >= 2
        shutil.copy(pdf, ARTIFACTS / "readiness-a4.pdf")
    page.close()


def test_daily_report_of_a_day_without_data_says_so(demo_store_url, tmp_path):
    out = tmp_path / "daily.html"
    assert app.main(["report", "--daily", "--day", "2030-01-01", "--out", str(out), "--store-url", demo_store_url]) == 0
    assert "No qps data for 2030-01-01 (the newest data is from" in out.read_text()
