"""The wall marks acknowledged and silenced flags (they stay red, striped, with their mark), in
English and Chinese; the business page says who acknowledged."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

import fleetdata
from store import Store

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang, acked, silenced", [("en", "ACKNOWLEDGED", "SILENCED"), ("zh", "已确认", "已静默")])
def test_acknowledged_and_silenced_flags_are_shown_as_such(page, tmp_path, serve, lang, acked, silenced):
    store = Store.open(f"sqlite:///{tmp_path / 's.sqlite'}")
    inv = fleetdata.build_inventory(60)
    now = int(time.time())
    fleetdata.write_fleet(store, inv, now, raw_hours=0.5)
    fleetdata.evaluate(store, now)
    firing = store.open_alerts(include_pending=False)
    firing = firing[firing["severity"] == "crit"]
    assert len(firing) >= 1
    first = firing.iloc[0]
    assert store.acknowledge(int(first["id"]), "li.wei", now, "failing over")
    store.add_silence({"business": fleetdata.STALE}, now, now + 3600, "zhang.min", now, "decommissioning")
    server = serve(store, language=lang)
    page.goto(server.url + "/")
    page.wait_for_selector("#wall-flags a.flag", timeout=30_000)
    page.wait_for_selector("#wall-flags a.flag.acked", timeout=20_000)
    ack_flag = page.locator("#wall-flags a.flag.acked").first
    assert first["business"] in ack_flag.inner_text() and acked in ack_flag.inner_text().upper()
    page.wait_for_selector("#wall-flags a.flag.silenced", timeout=20_000)
    sil_flag = page.locator("#wall-flags a.flag.silenced").first
    assert fleetdata.STALE in sil_flag.inner_text() and silenced in sil_flag.inner_text().upper()
    shots = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"wall-alert-marks-{lang}.png"))
    page.goto(f"{server.url}/business/{first['business']}")
    page.wait_for_selector("#flags-table", timeout=30_000)
    assert "li.wei" in page.locator("#flags-table").inner_text()
    assert not page.errors
    store.close()
