"""The filesystem cache cannot be used to run code in the web process: its folder is private and
owner-checked, and a pickle planted in it is never loaded."""
from __future__ import annotations

import os
import pickle
import stat
import struct
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class Planted:
    """What an attacker would leave in the cache: loading it creates ``path``."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return (open, (str(self.path), "w"))


def test_a_pickle_planted_in_the_cache_runs_no_code(fleet, serve, tmp_path):
    cache = tmp_path / "cache"
    server = serve(fleet[0], cache_type="filesystem", cache_dir=str(cache), wall_warm_seconds=0.5)
    assert urllib.request.urlopen(server.url + "/", timeout=30).status == 200
    deadline = time.monotonic() + 60
    while len([p for p in cache.iterdir() if p.is_file()]) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)      # the warmer fills the cache in the background
    marker = tmp_path / "code-ran"
    planted = struct.pack("I", 0) + pickle.dumps(Planted(marker))
    entries = [p for p in cache.iterdir() if p.is_file() and not p.name.endswith(".lock")]
    assert entries, "the cache holds no entry to overwrite"
    for p in entries:
        p.write_bytes(planted)
    time.sleep(2)            # several warmer ticks read the cache
    assert urllib.request.urlopen(server.url + "/", timeout=30).status == 200
    assert not marker.exists(), "a planted pickle ran code in the web process"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


def _serve_exit(env: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PEAKWATCH_")}, **env}
    return subprocess.run([sys.executable, str(REPO / "app.py"), "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)


def test_a_cache_folder_owned_by_another_user_is_refused(fleet, tmp_path):
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("giving a folder to another user needs root (CI=true)")
        pytest.skip("giving a folder to another user needs root")
    foreign = tmp_path / "theirs"
    foreign.mkdir(mode=0o777)
    os.chown(foreign, 65534, 65534)
    done = _serve_exit({"PEAKWATCH_STORE_URL": fleet[0].url, "PEAKWATCH_CACHE_DIR": str(foreign)}, tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    line = done.stderr.strip().splitlines()[-1]
    assert "belongs to another user" in line and str(foreign) in line


def test_the_default_cache_folder_is_private_and_not_in_the_shared_temp_dir(tmp_path):
    from core.settings import load_settings
    from dashboard.context import cache_config
    env = {"PEAKWATCH_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite'}"}
    config = cache_config(load_settings(env=env), f"sqlite:///{tmp_path / 's.sqlite'}")
    import tempfile
    assert not config["CACHE_DIR"].startswith(tempfile.gettempdir())
    from dashboard.cache_files import private_dir
    made = private_dir(tmp_path / "x" / "cache")
    assert stat.S_IMODE(made.stat().st_mode) == 0o700
    open_dir = tmp_path / "open"
    open_dir.mkdir(mode=0o777)
    os.chmod(open_dir, 0o777)
    assert stat.S_IMODE(private_dir(open_dir).stat().st_mode) == 0o700
