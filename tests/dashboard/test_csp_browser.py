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
