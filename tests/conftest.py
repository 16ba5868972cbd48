"""Fixtures shared by every test package.

Database fixtures: ``pg_url`` is a freshly created PostgreSQL database (dropped afterwards), so
parallel runs never collide; ``db_url`` runs a test once on SQLite and once on PostgreSQL.
PostgreSQL comes from ``PEAKWATCH_TEST_PG_URL``; when it does not answer, its tests skip on a
laptop and fail under ``CI=true``.
"""
from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("PEAKWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _admin_connect():
    import psycopg

    u = make_url(PG_URL)
    return psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                           dbname=u.database, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def _pg_server() -> None:
    """Skip (laptop) or fail (CI=true) once when PostgreSQL does not answer."""
    try:
        _admin_connect().close()
    except Exception as exc:  # noqa: BLE001 - any failure to connect means "no server"
        msg = f"PostgreSQL at {make_url(PG_URL).render_as_string(hide_password=True)} does not answer: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: start it with scripts/postgres-up.sh)")
        pytest.skip(msg)


@pytest.fixture
def pg_url(_pg_server) -> str:
    """URL of a new, empty PostgreSQL database that is dropped after the test."""
    name = f"pwtest_{uuid.uuid4().hex[:12]}"
    with _admin_connect() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin_connect() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """A fresh database URL, once for SQLite (a file in tmp_path) and once for PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("pg_url")


# the synthetic demo fleet, small: forecasting and reports tests share one per session
@pytest.fixture(scope="session")
def demo_store_url(tmp_path_factory) -> str:
    """A small synthetic fleet (scale 50: 5 businesses, 10 clusters, one Twemproxy) with two years
    of hourly history, written through the synthetic source exactly as the demo does."""
    from collectors.synthetic.fleet import DEFAULT_ANCHOR
    from collectors.synthetic.source import SyntheticSource
    from store import Store

    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    with Store.open(url) as store:
        SyntheticSource(store, scale=50, seed=7, clock=lambda: DEFAULT_ANCHOR).bootstrap(
            history_days=730, raw_hours=1)
    return url


@pytest.fixture
def demo_store(demo_store_url):
    from store import Store

    with Store.open(demo_store_url) as store:
        yield store


# one headless Chromium per test session, shared by every package's browser tests (a second
# Playwright sync session in the same process fails: "Sync API inside the asyncio loop")
CHROMIUM = os.environ.get("PEAKWATCH_TEST_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        msg = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + " (CI=true: scripts/browser-up.sh installs it)")
        pytest.skip(msg)
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield b
        b.close()
