"""The NOC wall in real headless Chromium on the seeded test fleet."""
from __future__ import annotations

import time

import numpy as np
import pytest

import fleetdata
from store import Store

pytestmark = pytest.mark.browser

RED, GREY, GREEN = "rgb(211, 47, 47)", "rgb(123, 128, 136)", "rgb(46, 125, 50)"


def open_wall(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#wall-groups .tile", timeout=30_000)


def tile(page, name: str):
    return page.locator(f'#wall-groups a.tile[data-business="{name}"]')


def tile_names(page) -> list[str]:
    """Every tile's business (the full name: a tile may show it without its product line)."""
    return page.eval_on_selector_all("#wall-groups a.tile", "ts => ts.map(t => t.dataset.business)")


def background(locator) -> str:
    return locator.evaluate("e => getComputedStyle(e).backgroundColor")


def test_wall_shows_every_business(page, served, fleet):
    open_wall(page, served.url + "/")
    assert sorted(tile_names(page)) == sorted(fleet[1].businesses)
    assert page.locator("#wall-counts").inner_text().count("crit 1") == 1
    assert not page.errors


def test_crit_business_is_first_and_red(page, served):
    open_wall(page, served.url + "/")
    first = page.locator("#wall-flags a.flag").first
    assert fleetdata.CRIT in first.inner_text()
    assert background(first) == RED
    assert background(tile(page, fleetdata.CRIT)) == RED


def test_stale_business_is_grey_never_green(page, served):
    open_wall(page, served.url + "/")
    for name in (fleetdata.STALE, fleetdata.EMPTY):
        assert background(tile(page, name)) == GREY, name
    healthy = [n for n in tile_names(page) if n.startswith("ads-")]
    assert healthy and background(tile(page, healthy[0])) == GREEN


def test_clicking_a_tile_opens_its_business_page(page, served):
    open_wall(page, served.url + "/")
    tile(page, fleetdata.HOT).click()
    page.wait_for_url(f"**/business/{fleetdata.HOT}")
    page.wait_for_selector("#hist-graph .main-svg", timeout=20_000)
    assert page.locator("h1").first.inner_text().startswith(fleetdata.HOT)
    # the hot shard is called out on the shard-balance chart
    assert page.locator("#shard-qps").inner_text().count("hot shard") == 1


def test_kiosk_hides_navigation_and_goes_dark(page, served):
    open_wall(page, served.url + "/?kiosk=1")
    assert page.locator("#navbar").count() == 0
    assert page.locator("#wall").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(11, 15, 20)"
    open_wall(page, served.url + "/")
    assert page.locator("#navbar").count() == 1


def test_whole_fleet_fits_one_1080p_screen_in_kiosk(page, tmp_path, serve):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    inv = fleetdata.build_inventory(3000)
    fleetdata.write_fleet(store, inv, int(time.time()), raw_hours=0.1)
    server = serve(store)
    open_wall(page, server.url + "/?kiosk=1")
    assert page.locator("#wall-groups .tile").count() == len(inv.businesses)
    bottom = page.locator("#wall-groups").evaluate("e => e.getBoundingClientRect().bottom")
    assert bottom <= 1080
    store.close()


def test_refresh_updates_tiles_in_place(page, tmp_path, serve):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    inv = fleetdata.build_inventory(60)
    data = fleetdata.write_fleet(store, inv, int(time.time()), raw_hours=0.5)
    server = serve(store, refresh_seconds=2)
    open_wall(page, server.url + "/")
    victim = next(b.name for b in inv.businesses if "-svc" in b.name)
    assert background(tile(page, victim)) == GREEN
    page.evaluate("window.notReloaded = true")
    # one of its shards fills up: the next refresh turns the tile red without reloading the page
    key = next(s.key for s in inv.series if s.metric == "mem_util" and s.cluster.startswith(victim))
    now = int(time.time())
    store.write_samples(np.array([data.ids[key]]), np.array([now]), np.array([99.0]))
    page.wait_for_function(f"() => [...document.querySelectorAll('#wall-groups a.tile')].some("
                           f"t => t.dataset.business === '{victim}' && t.className.includes('sev-crit'))",
                           timeout=20_000)
    assert page.evaluate("window.notReloaded") is True
    assert victim in page.locator("#wall-flags").inner_text()
    store.close()


def test_data_age_turns_red_when_the_store_stops_receiving(page, tmp_path, serve):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    fleetdata.write_fleet(store, fleetdata.build_inventory(60), int(time.time()) - 7200, raw_hours=0.5)
    server = serve(store)
    open_wall(page, server.url + "/")
    age = page.locator("#wall-age")
    page.wait_for_function("() => document.querySelector('#wall-age').textContent.includes('data age')")
    assert "old" in age.get_attribute("class")
    assert background(age) == RED
    assert "2h" in age.inner_text()
    store.close()


def test_chinese_labels(page, served, fleet, serve):
    server = serve(fleet[0], language="zh")
    open_wall(page, server.url + "/")
    assert "监控大屏" in page.locator("h1").first.inner_text()
    assert "严重 1" in page.locator("#wall-counts").inner_text()


def test_empty_store_says_so(page, tmp_path, serve):
    store = Store.open(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    server = serve(store)
    page.goto(server.url + "/")
    page.wait_for_selector("#message", timeout=20_000)
    assert "no data yet" in page.locator("#message").inner_text()
    page.wait_for_function("() => document.querySelector('#wall-age').textContent.includes('no data yet')")
    assert "old" in page.locator("#wall-age").get_attribute("class")
    assert page.locator(".dash-fe-error__title").count() == 0 and not page.errors
    store.close()


def test_demo_fleet_wall_shows_every_business(page, tmp_path, serve):
    from collectors.synthetic.source import SyntheticSource
    store = Store.open(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    SyntheticSource(store, scale=300, seed=7).bootstrap(history_days=1, raw_hours=1)
    names = store.businesses()["name"].tolist()
    server = serve(store)
    open_wall(page, server.url + "/")
    assert sorted(tile_names(page)) == sorted(names)
    assert not page.errors
    store.close()
