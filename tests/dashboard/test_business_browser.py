"""Business and fleet pages, and bad input, in real headless Chromium."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import fleetdata

pytestmark = pytest.mark.browser


def open_business(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#hist-graph .main-svg, #message", timeout=20_000)


def no_error_box(page) -> None:
    body = page.locator("body").inner_text()
    assert "Traceback" not in body and "Callback error" not in body
    assert page.locator(".dash-fe-error__title").count() == 0
    assert not page.errors


def test_range_picker_changes_the_data_shown(page, served):
    open_business(page, f"{served.url}/business/{fleetdata.HOT}")
    points = page.locator("#hist-points")
    before = points.inner_text()
    first_x = "() => document.querySelector('#hist-graph').querySelector('.xtick text').textContent"
    tick_before = page.evaluate(first_x)
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    start, end = day - timedelta(days=25), day - timedelta(days=20)
    page.locator(".dash-datepicker-start-date").fill(start.isoformat())
    page.locator(".dash-datepicker-start-date").press("Enter")
    page.locator(".dash-datepicker-end-date").fill(end.isoformat())
    page.locator(".dash-datepicker-end-date").press("Enter")
    want = f"{start} 00:00 – {end + timedelta(days=1)} 00:00"
    page.wait_for_function(f"() => document.querySelector('#hist-points').textContent.startsWith('{want}')",
                           timeout=20_000)
    assert points.inner_text() != before
    page.wait_for_function(f"() => ({first_x})() !== {tick_before!r}", timeout=10_000)
    no_error_box(page)


def test_business_page_shows_what_a_dba_reads(page, served):
    open_business(page, f"{served.url}/business/{fleetdata.CRIT}")
    assert page.locator("#biz-severity").inner_text() == "crit"
    flags = page.locator("#flags-table").inner_text()
    assert "mem_util" in flags and "97" in flags
    redis = page.locator("#inst-redis").inner_text()
    assert "GiB / 8 GiB" in redis and "link up" in redis
    link = page.locator("#inst-redis a[target=_blank]").first.get_attribute("href")
    assert link.startswith("http://zabbix.example/zabbix.php?action=latest.view&hostids%5B%5D=")
    page.wait_for_selector("#rt-graph .main-svg")
    no_error_box(page)


def test_unknown_business_names_it_with_a_link_back(page, served):
    open_business(page, f"{served.url}/business/no-such-biz")
    message = page.locator("#message").inner_text()
    assert "no-such-biz" in message
    page.locator("#message a.back-link").click()
    page.wait_for_selector("#wall-groups .tile", timeout=20_000)
    no_error_box(page)


@pytest.mark.parametrize("query, expected", [
    ("?start=2026-13-45", "dates must look like"),
    ("?start=2026-11-20&end=2026-11-10", "ends (2026-11-10) before it starts"),
    ("?window=99", "window='99' is not one of"),
])
def test_bad_query_parameters_get_a_clear_message(page, served, query, expected):
    open_business(page, f"{served.url}/business/{fleetdata.CRIT}{query}")
    assert expected in page.locator("#biz-problems").inner_text()
    page.wait_for_selector("#hist-graph .main-svg")   # the page still works, on the default range
    no_error_box(page)


def test_business_with_no_series_says_so(page, served):
    open_business(page, f"{served.url}/business/{fleetdata.EMPTY}")
    assert "no series" in page.locator("#message").inner_text()
    no_error_box(page)


def traces(page, graph: str) -> list[str]:
    return page.evaluate(f"() => document.querySelector('#{graph} .js-plotly-plot').data.map(t => t.name)")


def test_fleet_page(page, served, fleet):
    page.goto(f"{served.url}/fleet")
    page.wait_for_selector("#fleet-daily .main-svg", timeout=20_000)
    total = len(fleet[1].inventory.instances)
    assert page.locator("#fleet-total").inner_text().startswith(str(total))
    assert fleetdata.HOT in page.locator("#fleet-top").inner_text()   # 5x traffic on one shard: the top QPS
    assert traces(page, "fleet-daily") == ["reads", "writes"]
    lines = {b.product_line for b in fleet[1].inventory.businesses if b.name != fleetdata.EMPTY}
    assert set(traces(page, "fleet-reads")) == set(traces(page, "fleet-writes")) == lines
    assert set(traces(page, "fleet-inst-line")) == lines
    assert set(traces(page, "fleet-inst-service")) == {"redis", "memcached", "twemproxy"}
    assert page.locator("#fleet-rw-note").count() == 0                 # every cluster has the split
    page.locator("#fleet-days-30").click()
    page.wait_for_url("**/fleet?days=30")
    page.wait_for_selector("#fleet-days-30.active", timeout=20_000)
    no_error_box(page)


def test_fleet_page_refuses_a_bad_day_count(page, served):
    page.goto(f"{served.url}/fleet?days=abc")
    page.wait_for_selector("#message", timeout=20_000)
    assert "7 to 730" in page.locator("#message").inner_text()
    no_error_box(page)


def test_unknown_path_is_a_clear_page(page, served):
    page.goto(f"{served.url}/nowhere")
    page.wait_for_selector("#message", timeout=20_000)
    assert "not found" in page.locator("#message").inner_text().lower()
    no_error_box(page)


def test_history_per_instance_draws_a_line_per_instance(page, served, fleet):
    open_business(page, f"{served.url}/business/{fleetdata.HOT}")
    traces = "() => document.querySelector('#hist-graph .js-plotly-plot').data.length"
    before = page.evaluate(traces)
    page.get_by_label("per instance").check()
    n_inst = sum(1 for i in fleet[1].inventory.instances if i.cluster.startswith(fleetdata.HOT))
    page.wait_for_function(f"() => ({traces})() >= {n_inst}", timeout=20_000)
    assert page.evaluate(traces) > before
    no_error_box(page)
