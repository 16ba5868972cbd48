"""The dashboard served by a real werkzeug server in a thread, for fixtures and for tests that
serve a store of their own (imported by name: ``conftest`` is ambiguous across test folders)."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import fleetdata

from core.settings import load_settings

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
