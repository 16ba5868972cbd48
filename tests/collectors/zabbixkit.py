"""Helpers for tests against the real Zabbix stack of scripts/zabbix-up.sh.

The stack lives in fixed system paths (/var/lib/peakwatch-stack); a laptop without it skips the
``zabbix`` tests, CI (``CI=true``) fails them.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from collectors.zabbix.client import ZabbixClient
from collectors.zabbix.keymap import KeyMap
from collectors.zabbix.source import ZabbixSource
from store import Store

STATE = Path(os.environ.get("PEAKWATCH_TEST_ZABBIX_STATE", "/var/lib/peakwatch-stack"))
URL = os.environ.get("PEAKWATCH_TEST_ZABBIX_URL", "http://127.0.0.1:8090")
RUN = Path("/run/peakwatch-stack")
ROOT = Path(__file__).resolve().parents[2]
TRAPPER_GROUP = "Peakwatch/Trapper"


def stack_or_skip() -> dict:
    """The fixture description written by scripts/zabbix_fixtures.py, after checking the API answers."""
    try:
        fixtures = json.loads((STATE / "fixtures.json").read_text())
        token = (STATE / "api-token").read_text().strip()
        client = ZabbixClient(URL, token, timeout=10, retries=0)
        version = client.version()
        client.call("host.get", {"limit": 1, "output": ["hostid"]})
    except Exception as exc:  # noqa: BLE001 - any failure means "no usable stack"
        msg = f"the Zabbix stack does not answer at {URL} ({type(exc).__name__}: {exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; CI=true: run `bash scripts/zabbix-up.sh` first")
        pytest.skip(msg + "; run `sudo bash scripts/zabbix-up.sh` to start it")
    fixtures.update(token=token, version=version)
    return fixtures


def client(stack: dict, **kw) -> ZabbixClient:
    kw.setdefault("timeout", 30)
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.5)
    return ZabbixClient(URL, stack["token"], **kw)


def source(stack: dict, store: Store, **kw) -> ZabbixSource:
    cl = kw.pop("client", None) or client(stack)
    kw.setdefault("host_group", TRAPPER_GROUP)
    return ZabbixSource(cl, store, KeyMap(), **kw)


def history(cl: ZabbixClient, itemid: str, value_type: int, t0: int, t1: int) -> tuple[np.ndarray, np.ndarray]:
    """What history.get says for one item in [t0, t1] (inclusive), as arrays sorted by clock."""
    rows = cl.call("history.get", {"itemids": [itemid], "history": value_type, "time_from": t0, "time_till": t1,
                                   "output": ["clock", "value"], "sortfield": "clock", "sortorder": "ASC"})
    return (np.array([int(r["clock"]) for r in rows], np.int64),
            np.array([float(r["value"]) for r in rows], np.float64))


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def sender():
    """scripts/zabbix_fixtures.py as a module (its sender protocol, config cache reload, test traffic)."""
    return _load("zabbix_fixtures", ROOT / "scripts" / "zabbix_fixtures.py")


def addon():
    """contrib/zabbix/redis_reads_writes.py as a module (the add-on template's generator)."""
    return _load("redis_reads_writes", ROOT / "contrib" / "zabbix" / "redis_reads_writes.py")


def zabbix_js_or_skip() -> str:
    """Path of ``zabbix_js`` (Zabbix's own JavaScript engine, shipped with zabbix-server-pgsql)."""
    path = shutil.which("zabbix_js")
    if path is None:
        msg = "zabbix_js is not installed (it comes with zabbix-server-pgsql)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; CI=true: run `bash scripts/zabbix-up.sh` first")
        pytest.skip(msg + "; run `sudo bash scripts/zabbix-up.sh` to install it")
    return path


def stored_raw(store, sid, t0, t1):
    """(ts, value) of one series in the store's raw tier over [t0, t1] (the store reads [start, end))."""
    df = store.read_raw([sid], t0, t1 + 1)
    return df["ts"].to_numpy(np.int64), df["value"].to_numpy(np.float64)
