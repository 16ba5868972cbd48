"""Dashboard fixtures: seeded test fleets in SQLite, the app served by a real server on a free
loopback port, and headless Debian Chromium driven by Playwright (no browser download).

Without Chromium the browser tests skip on a laptop and fail under ``CI=true``.
"""
from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fleetdata  # noqa: E402

from core.settings import load_settings  # noqa: E402
from store import Store  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """A dashboard app on a real werkzeug server in a thread."""

    def __init__(self, store, **settings):
        from werkzeug.serving import make_server

        from dashboard.app import create_app
        env = {"PEAKWATCH_STORE_URL": store.url, "PEAKWATCH_CACHE_TYPE": "simple"}
        self.settings = load_settings(cli=settings, env=env)
        # as app.py wires it: the alert engine evaluates (here every 2 s) and the pages show its result
        from alerting import config as acfg
        from alerting.scheduler import Scheduler
        fleetdata.evaluate(store, int(time.time()), **settings)
        self.alerting = Scheduler(store, self.settings, acfg.parse({"interval": 2})).start()
        self.app = create_app(store, self.settings)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = make_server("127.0.0.1", self.port, self.app.server, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.alerting.stop()
        warmer = self.app.server.extensions.get("peakwatch_warmer")
        if warmer is not None:
            warmer.stop(timeout=5)
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


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
