"""The content security policy lets every page run (Dash's own inline scripts hashed) and blocks
nothing a viewer would miss: no CSP violation in the browser console on any page."""
from __future__ import annotations

from urllib.parse import quote

import pytest


@pytest.mark.browser
def test_no_page_breaks_the_content_security_policy(served, page, fleet):
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    for path in ("/", "/fleet", f"/business/{quote(fleet[1].businesses[0])}", "/promotions", "/capacity"):
        response = page.goto(served.url + path)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        page.wait_for_selector("#navbar", timeout=30_000)
        page.wait_for_timeout(1500)
    assert not [c for c in console if "Content Security Policy" in c or "TypeError" in c], console
    assert page.errors == []


@pytest.mark.browser
def test_charts_draw_with_the_basic_plotly_bundle_not_the_full_one(served, page, fleet):
    """The pages load plotly.js's 1.2 MB basic bundle (scatter, bar) instead of the 4.8 MB full
    one, and every chart still draws: the business page's lines and bars, the fleet page's."""
    from dashboard import plotly_bundle
    scripts: list[tuple[str, int]] = []
    page.on("response", lambda r: scripts.append((r.url, len(r.body()))) if "plotly" in r.url else None)
    page.goto(served.url + f"/business/{quote(fleet[1].businesses[0])}")
    page.wait_for_selector("#hist-graph .xtick", timeout=60_000)
    page.wait_for_selector("#rt-graph .xtick", timeout=60_000)
    assert page.locator("#rt-graph .scatterlayer .trace").count() > 1       # the business line and its instances
    page.goto(served.url + "/fleet")
    page.wait_for_selector("#fleet-writes .xtick", timeout=60_000)
    loaded = [(u, n) for u, n in scripts if u.split("?")[0].endswith(".js")]
    assert loaded and all(u.split("?")[0].endswith(plotly_bundle.PATH) for u, _ in loaded), loaded
    assert max(n for _, n in loaded) < 1_500_000
    assert page.errors == []
