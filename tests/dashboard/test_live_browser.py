"""Live behaviour in Chromium: realtime points appended, kiosk rotation, sound mute."""
from __future__ import annotations

import time

import numpy as np
import pytest

import fleetdata
from store import Store

pytestmark = pytest.mark.browser


@pytest.fixture
def small(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    inv = fleetdata.build_inventory(60)
    data = fleetdata.write_fleet(store, inv, int(time.time()) - 120, raw_hours=1)
    yield store, inv, data
    store.close()


def test_realtime_appends_new_points_without_rebuilding(page, small, serve):
    store, inv, data = small
    server = serve(store, refresh_seconds=2)
    page.goto(f"{server.url}/business/{fleetdata.CRIT}?window=1&metric=qps")   # (it opens on its flag: mem_util)
    page.wait_for_selector("#rt-graph .main-svg", timeout=20_000)
    points = "() => { const g = document.querySelector('#rt-graph .js-plotly-plot');" \
             " return g && g.data && g.data.length ? g.data[0].x.length : 0; }"
    page.wait_for_function(f"() => ({points})() > 0", timeout=20_000)   # the built figure, not the empty one
    before = page.evaluate(points)
    page.evaluate("document.querySelector('#rt-graph .js-plotly-plot').data[0].marker_probe = 1")
    keys = [s.key for s in inv.series if s.metric == "qps" and s.cluster.startswith(fleetdata.CRIT) and s.instance]
    t = data.now + 60
    store.write_samples(np.array([data.ids[k] for k in keys]), np.full(len(keys), t), np.full(len(keys), 5e4))
    page.wait_for_function(f"() => ({points})() > {before}", timeout=20_000)
    # the same trace object got the point (extendData), the figure was not replaced
    assert page.evaluate("document.querySelector('#rt-graph .js-plotly-plot').data[0].marker_probe") == 1
    last = page.evaluate("() => { const d = document.querySelector('#rt-graph .js-plotly-plot').data[0];"
                         " return d.y[d.y.length - 1]; }")
    assert last == pytest.approx(5e4 * len(keys))


def test_kiosk_playlist_rotates_pages(page, small, serve):
    server = serve(small[0], wall_playlist="/?kiosk=1,/fleet?kiosk=1", wall_rotate_seconds=5)
    page.goto(f"{server.url}/?kiosk=1")
    page.wait_for_selector("#wall-groups .tile", timeout=20_000)
    page.wait_for_url("**/fleet?kiosk=1", timeout=20_000)
    page.wait_for_selector("#fleet-daily", timeout=20_000)
    assert page.locator("#navbar").count() == 0


def test_no_rotation_outside_kiosk(page, small, serve):
    server = serve(small[0], wall_playlist="/?kiosk=1,/fleet?kiosk=1", wall_rotate_seconds=5)
    page.goto(f"{server.url}/")
    page.wait_for_selector("#wall-groups .tile", timeout=20_000)
    page.wait_for_timeout(6500)
    assert page.url.endswith("/")


def test_sound_has_a_visible_mute(page, small, serve):
    server = serve(small[0], wall_sound=True)
    page.goto(f"{server.url}/?kiosk=1")
    mute = page.locator("#mute")
    mute.wait_for(timeout=20_000)
    assert mute.is_visible() and "Sound on" in mute.inner_text()
    mute.click()
    page.wait_for_function("() => (document.querySelector('#mute')?.textContent || '').includes('Muted')")
    page.reload()
    page.wait_for_function("() => (document.querySelector('#mute')?.textContent || '').includes('Muted')")  # remembered


def test_no_mute_button_without_sound(page, small, serve):
    server = serve(small[0])
    page.goto(f"{server.url}/")
    page.wait_for_selector("#wall-groups .tile", timeout=20_000)
    assert not page.locator("#mute").is_visible()
