"""The demo loop: generate the synthetic fleet when the store lacks it, then keep it live.

``python app.py`` runs this in a background thread while the web app serves: the newest hours
come first, so the wall has current data within seconds while years of history keep generating
(with a progress bar on stderr). A killed demo resumes where it stopped.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from tqdm import tqdm

from core.errors import PeakwatchError

log = logging.getLogger("peakwatch.demo")
PRUNE_EVERY_S = 3600
MAX_PAUSE_S = 600


class DemoRunner:
    def __init__(self, store, settings, clock: Callable[[], float] = time.time,
                 stop: threading.Event | None = None):
        from collectors.synthetic.source import SyntheticSource
        self.store = store
        self.settings = settings
        self.clock = clock
        self.stop = stop or threading.Event()
        self.error: BaseException | None = None
        #: set once every series has its newest data (the first raw hours are written newest
        #: first): what watches the data (the alert engine) starts then, not on an empty store
        self.live = threading.Event()
        self.source = SyntheticSource(store, scale=settings.scale, seed=settings.seed, clock=clock)

    def bootstrap(self, progress: bool = True) -> None:
        bar = None

        def report(done: float, total: float, what: str = "") -> None:
            nonlocal bar
            if what and not what.startswith("raw minutes"):
                self.live.set()                    # the raw hours are written: the newest data is in
            if not progress:
                return
            if bar is None:
                bar = tqdm(total=total, desc="generating synthetic fleet", unit="step", dynamic_ncols=True)
            bar.total = total
            bar.n = done
            if what:
                bar.set_postfix_str(what, refresh=False)
            bar.refresh()

        self.source.bootstrap(history_days=self.settings.demo_history_days,
                              raw_hours=self.settings.demo_raw_hours, progress=report)
        self.live.set()
        if bar is not None:
            bar.close()

    def run_forever(self) -> None:
        """Generate, then append live points every collect_interval until ``stop`` is set. A failed
        step (the store locked by another writer, a full disk) is logged and tried again after a
        growing pause: the demo never stops for good, and meanwhile the wall shows its data ageing."""
        interval = float(self.settings.collect_interval)
        bootstrapped, last_prune, failures = False, 0.0, 0
        while not self.stop.is_set():
            try:
                if not bootstrapped:
                    self.bootstrap(progress=True)
                    bootstrapped = True
                now = self.clock()
                self.source.tick(int(now))
                if now - last_prune > PRUNE_EVERY_S:
                    self.store.prune(int(now))
                    last_prune = now
                failures, self.error = 0, None
                wait = interval
            except Exception as exc:  # noqa: BLE001 - logged and retried; the web app keeps serving
                failures += 1
                self.error = exc
                wait = min(MAX_PAUSE_S, max(1.0, interval / 4) * 2 ** min(failures - 1, 10))
                log.error("the demo generator failed (%d in a row), trying again in %.0f s: %s", failures, wait,
                          exc, exc_info=not isinstance(exc, PeakwatchError),
                          extra={"fields": {"error": type(exc).__name__, "failures": failures}})
            self.stop.wait(wait)
