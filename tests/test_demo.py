"""`python app.py` as a user runs it: the demo serves the wall while the fleet generates, and a
killed demo resumes to the same store."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("PEAKWATCH_TEST_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PEAKWATCH_")}
    env.update(extra)
    return env


def _wait_http(url: str, proc: subprocess.Popen, deadline_s: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return time.monotonic() - t0
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {deadline_s} s")


COUNT_TILES = """
import sys
from playwright.sync_api import sync_playwright
url, chromium, shot = sys.argv[1:4]
with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(url)
    page.wait_for_function("document.querySelectorAll('#wall-groups .tile').length >= 300", timeout=60_000)
    print(page.locator("#wall-groups .tile").count())
    page.screenshot(path=shot)
    browser.close()
"""


@pytest.fixture
def chromium() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        msg = "Chromium is not installed (bash scripts/browser-up.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.mark.browser
@pytest.mark.slow
def test_plain_app_py_serves_the_wall_with_every_business_while_generating(tmp_path, chromium):
    """Default scale (3,000 instances): the page comes up while history is still generating."""
    port = _free_port()
    log = (tmp_path / "demo.log").open("w")
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=tmp_path,
                            env=_env(), stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        waited = _wait_http(f"http://127.0.0.1:{port}/", proc, 120)
        print(f"page served {waited:.1f} s after start")
        os.makedirs(ROOT / "artifacts" / "screenshots", exist_ok=True)
        shot = ROOT / "artifacts" / "screenshots" / "demo-first-minute.png"
        # its own process: Playwright's sync API refuses to run beside another test's event loop
        out = subprocess.run([sys.executable, "-c", COUNT_TILES, f"http://127.0.0.1:{port}/", chromium, str(shot)],
                             capture_output=True, text=True, timeout=180)
        assert out.returncode == 0, out.stderr[-2000:]
        assert int(out.stdout.split()[-1]) == 300
        assert proc.poll() is None, "the demo must keep running (live points, history)"
        assert (tmp_path / "data" / "peakwatch.sqlite").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _snapshot(url: str) -> dict:
    from store import Store
    with Store.open(url) as st:
        ids = st.series()["id"].tolist()
        raw = st.read_raw(ids, 0, 2**32).sort_values(["series_id", "ts"]).reset_index(drop=True)
        roll = st.read_rollups(ids, 0, 2**32).sort_values(["series_id", "ts"]).reset_index(drop=True)
        return {"series": len(ids), "raw": raw, "roll": roll, "promotions": len(st.promotions())}


@pytest.mark.slow
def test_demo_killed_mid_generation_resumes_to_the_same_store(tmp_path):
    """kill -9 while history generates; the rerun completes to exactly what an uninterrupted run writes."""
    args = ["--scale", "60", "--demo-history-days", "120", "--demo-raw-hours", "2"]
    clean = f"sqlite:///{tmp_path / 'clean.sqlite'}"
    killed = f"sqlite:///{tmp_path / 'killed.sqlite'}"
    subprocess.run([sys.executable, str(ROOT / "app.py"), "demo", "--once", "--store-url", clean, *args],
                   check=True, cwd=tmp_path, env=_env(), capture_output=True, timeout=600)
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "demo", "--once", "--store-url", killed, *args],
                            cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from store import Store
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            with Store.open(killed, migrate=False) as st:
                done = st.get_meta("synthetic.units_done")
        except Exception:  # noqa: BLE001 - the file may not exist yet
            done = None
        if done and int(done) >= 3:
            break
    else:
        proc.kill()
        pytest.fail("the demo did not write 3 units of history within 300 s")
    assert proc.poll() is None, "generation finished before the kill: nothing was killed mid-generation"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Store.open(killed, migrate=False) as st, Store.open(clean, migrate=False) as full:
        at_kill, total = int(st.get_meta("synthetic.units_done")), int(full.get_meta("synthetic.units_done"))
    assert 3 <= at_kill < total, f"killed after {at_kill} of {total} units: not mid-generation"
    subprocess.run([sys.executable, str(ROOT / "app.py"), "demo", "--once", "--store-url", killed, *args],
                   check=True, cwd=tmp_path, env=_env(), capture_output=True, timeout=600)
    a, b = _snapshot(clean), _snapshot(killed)
    assert a["series"] == b["series"] and a["promotions"] == b["promotions"]
    # the live tail depends on the wall clock; compare what both runs cover
    for tier in ("raw", "roll"):
        end = min(a[tier]["ts"].max(), b[tier]["ts"].max()) - 3600
        x = a[tier][a[tier]["ts"] < end].reset_index(drop=True)
        y = b[tier][b[tier]["ts"] < end].reset_index(drop=True)
        assert len(x) > 0 and len(x) == len(y)
        assert np.array_equal(x.to_numpy(), y.to_numpy())


@pytest.mark.slow
def test_demo_alerts_flow_fire_notify_on_the_console_and_resolve(tmp_path):
    """A new user's demo: the synthetic fleet's incidents fire and are printed by the console
    gateway (numbers masked), and blips resolve with a resolved notice."""
    cfg = tmp_path / "pw.toml"
    cfg.write_text('[alerting]\ninterval = "5s"\n')
    proc = subprocess.Popen([sys.executable, "app.py", "demo", "--no-serve", "--scale", "600",
                             "--demo-history-days", "14", "--demo-raw-hours", "1", "--collect-interval", "20",
                             "--stale-after-intervals", "6", "--config", str(cfg),
                             "--store-url", f"sqlite:///{tmp_path / 'demo.sqlite'}"],
                            cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    import threading
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not any(x.startswith("[peakwatch resolved") for x in lines):
            assert proc.poll() is None, "the demo exited"
            time.sleep(1)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(30)
        reader.join(10)                    # the reader reaches the end of the output first
        proc.stdout.close()
    fired = [x for x in lines if x.startswith("[peakwatch firing")]
    resolved = [x for x in lines if x.startswith("[peakwatch resolved")]
    assert fired and resolved, lines[:5]
    # the engine starts once the newest data is in: "no data" only for the fleet's one silent
    # instance (and its cluster), not for every series of a store still being generated
    from store import Store
    with Store.open(f"sqlite:///{tmp_path / 'demo.sqlite'}", migrate=False) as store:
        alerts = store.alerts()
    stale = alerts[alerts["rule"].isin(["stale", "cluster_stale"])]
    assert stale["instance"].nunique() <= 1 and stale["cluster"].nunique() <= 1, stale[["rule", "instance"]]
    assert any("[CRIT]" in x for x in fired) and all("****" in x for x in fired + resolved)
    assert all("/business/" in x for x in fired)


@pytest.mark.slow
def test_a_new_user_logs_in_as_the_printed_demo_operator_and_acknowledges_a_demo_incident(tmp_path):
    """`python app.py` prints the demo operator's credentials; with them a new user logs in,
    finds a firing incident on /alerts and acknowledges it (a form post with its CSRF token); the
    password is in no log line, and the API shows the alert acknowledged by that user."""
    import re
    import threading

    import requests
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port), "--scale", "60",
                             "--demo-history-days", "14", "--demo-raw-hours", "1",
                             "--store-url", f"sqlite:///{tmp_path / 'demo.sqlite'}"],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/login", proc, 120)
        login = next(x for x in lines if x.startswith("demo login:"))
        name, password = re.search(r"user (\S+)\s+password (\S+)", login).groups()
        with requests.Session() as http:
            token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(url + "/login", timeout=30).text).group(1)
            answer = http.post(url + "/login", data={"name": name, "password": password, "csrf_token": token},
                               allow_redirects=False, timeout=30)
            assert answer.status_code == 302
            deadline = time.monotonic() + 180
            firing = []
            while not firing and time.monotonic() < deadline:
                alerts = http.get(url + "/api/v1/alerts?state=firing", timeout=30).json()["alerts"]
                firing = [a for a in alerts if a["severity"] in ("crit", "warn")]
                time.sleep(2)
            assert firing, "the demo fleet's incidents fire within three minutes"
            aid = firing[0]["id"]
            # the page's form carries the session's token (Flask-WTF keeps one per session)
            token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(url + "/login", timeout=30).text).group(1)
            done = http.post(f"{url}/alerts/{aid}/acknowledge", data={"csrf_token": token, "comment": "on it"},
                             allow_redirects=False, timeout=30)
            assert done.status_code == 303 and done.headers["Location"] == f"/alerts?alert={aid}"
            alert = http.get(f"{url}/api/v1/alerts/{aid}", timeout=30).json()
            assert alert["state"] == "acknowledged" and alert["acked_by"] == name
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        reader.join(10)
        proc.stdout.close()
    assert sum(password in x for x in lines) == 1          # only the line that tells the user
