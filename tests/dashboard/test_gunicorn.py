"""Production serving: ``gunicorn -w 3 app:server`` (README, docs/architecture.md) started once."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def gunicorn(fleet, tmp_path):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PEAKWATCH_")},
           "PEAKWATCH_STORE_URL": fleet[0].url, "PEAKWATCH_CACHE_DIR": str(tmp_path / "cache"),
           "PEAKWATCH_LOG_LEVEL": "WARNING"}
    log = open(tmp_path / "gunicorn.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "3", "-b", f"127.0.0.1:{port}", "app:server"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"gunicorn did not serve {url}: {(tmp_path / 'gunicorn.log').read_text()[-2000:]}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    assert proc.wait(20) == 0                  # workers (and their wall warmers) stop cleanly
    log.close()
    text = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in text and "warmer tick failed" not in text, text[-2000:]


@pytest.mark.browser
def test_gunicorn_three_workers_serve_the_wall(gunicorn, page, fleet):
    for _ in range(6):   # several requests, answered by several workers
        assert b"Peakwatch" in urllib.request.urlopen(gunicorn + "/", timeout=10).read()
    page.goto(gunicorn + "/")
    page.wait_for_selector("#wall-groups .tile", timeout=30_000)
    assert page.locator("#wall-groups .tile").count() == len(fleet[1].businesses)
