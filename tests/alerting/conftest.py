"""Alerting fixtures: a store with a small synthetic fleet, loopback gateways, a settable clock."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gatewaykit import Loopback  # noqa: E402


@pytest.fixture
def loopback():
    """Factory: loopback(kind="http", **faults) -> a running Loopback, closed after the test."""
    started = []

    def start(kind: str = "http", **kw) -> Loopback:
        lb = Loopback(kind, **kw)
        started.append(lb)
        return lb
    yield start
    for lb in started:
        lb.close()
