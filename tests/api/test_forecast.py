"""The next promotion's forecast for a business over the API, on the synthetic demo fleet's two
years of history: a peak with its interval above today's normal; an unknown business is a 404."""
from __future__ import annotations

from core.settings import load_settings
from store import Store


def test_the_next_promotion_peak_of_a_business(demo_store_url):
    import app as appmod
    with Store.open(demo_store_url) as store:
        env = {"PEAKWATCH_STORE_URL": demo_store_url, "PEAKWATCH_CACHE_TYPE": "simple",
               "PEAKWATCH_WALL_WARM_SECONDS": "0"}
        web = appmod.make_web_app(store, load_settings(env=env), alerting=False)
        c = web.server.test_client()
        name = store.businesses()["name"].iloc[0]
        fc = c.get(f"/api/v1/businesses/{name}/forecast").get_json()
        assert fc["promotion"] and fc["starts_at"] > 0
        assert 0 < fc["peak_low"] <= fc["peak_qps"] <= fc["peak_high"], fc
        normal = c.get(f"/api/v1/businesses/{name}/status").get_json()["latest"]["qps"]
        assert fc["peak_qps"] > normal          # a promotion's peak stands above an ordinary moment
        assert c.get("/api/v1/businesses/nope/forecast").status_code == 404
