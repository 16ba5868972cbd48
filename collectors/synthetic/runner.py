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

log = logging.getLogger("peakwatch.demo")
PRUNE_EVERY_S = 3600


class DemoRunner:
    def __init__(self, store, settings, clock: Callable[[], float] = time.time,
                 stop: threading.Event | None = None):
        from collectors.synthetic.source import SyntheticSource
        self.store = store
        self.settings = settings
        self.clock = clock
        self.stop = stop or threading.Event()
        self.error: BaseException | None = None
        self.source = SyntheticSource(store, scale=settings.scale, seed=settings.seed, clock=clock)

    def bootstrap(self, progress: bool = True) -> None:
        bar = None

        def report(done: float, total: float, what: str = "") -> None:
            nonlocal bar
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
        if bar is not None:
            bar.close()

    def run_forever(self) -> None:
        """Generate what is missing, then a live pass every ``collect_interval`` seconds. A store
        that is busy, unreachable or full for a while is logged and retried (waiting longer each
        time, at most 5 minutes); anything else stops the generator and is kept in ``error``."""
        from core.errors import StoreFull, StoreLocked, StoreUnavailable
        booted, failures, last_prune = False, 0, 0.0
        while not self.stop.is_set():
            try:
                if not booted:
                    self.bootstrap(progress=True)
                    booted = True
                now = self.clock()
                self.source.tick(int(now))
                if now - last_prune > PRUNE_EVERY_S:
                    self.store.prune(int(now))
                    last_prune = now
                failures = 0
            except (StoreLocked, StoreUnavailable, StoreFull) as exc:
                failures += 1
                log.error("demo pass failed (%d in a row), retrying: %s", failures, exc)
            except BaseException as exc:  # reported to the main thread; the web app keeps serving
                self.error = exc
                log.exception("the demo generator stopped: %s", exc)
                return
            interval = self.settings.collect_interval
            self.stop.wait(min(interval * 2 ** max(failures - 1, 0), max(interval, 300)))
