"""Fixtures of the Zabbix collector tests: the running stack (skipped, or failed under CI, when
absent) and a fresh SQLite store per test. Synthetic-source tests define their own ``store``."""
from __future__ import annotations

import pytest
from zabbixkit import stack_or_skip

from store import Store


@pytest.fixture(scope="module")
def stack():
    return stack_or_skip()


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'z.sqlite'}")
    yield s
    s.close()
