"""Dashboard fixtures: seeded test fleets in SQLite, the app served by a real server on a free
loopback port, and headless Debian Chromium driven by Playwright (no browser download).

Without Chromium the browser tests skip on a laptop and fail under ``CI=true``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fleetdata  # noqa: E402

from servekit import ARTIFACTS, Served, free_port  # noqa: E402,F401
from store import Store  # noqa: E402


@pytest.fixture(scope="session")
def fleet(tmp_path_factory):
    """The shared test fleet: 120 instances, 3 h raw, 30 days of hourly history, written up to now."""
    path = tmp_path_factory.mktemp("fleet") / "store.sqlite"
    store = Store.open(f"sqlite:///{path}")
    data = fleetdata.write_fleet(store, fleetdata.build_inventory(120), int(time.time()), history_days=30)
    fleetdata.evaluate(store, int(time.time()))
    yield store, data
    store.close()


@pytest.fixture(scope="session")
def served(fleet):
    # stale after 5 x 600 s: the fleet is written once at session start and the wall tests may run
    # many minutes later on a loaded CI machine; the stale business is an hour old, so still stale
    server = Served(fleet[0], zabbix_url="http://zabbix.example", collect_interval=600)
    yield server
    server.close()


@pytest.fixture
def serve():
    """Factory: serve(store, **settings) -> Served, closed after the test."""
    started: list[Served] = []

    def start(store, **settings) -> Served:
        server = Served(store, **settings)
        started.append(server)
        return server
    yield start
    for server in started:
        server.close()


@pytest.fixture
def page(browser, request):
    """A 1080p page; its screenshot goes to artifacts/screenshots/<test>.png after the test."""
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.errors = errors
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    finally:
        context.close()


def pytest_collection_modifyitems(items):
    """The forecast pages' tests (their own two-year store, about 100 s) run last: the session
    fleet above is written once at real time, and the wall's staleness tests need it fresh."""
    items.sort(key=lambda item: item.fspath.basename.startswith("test_forecast_"))
