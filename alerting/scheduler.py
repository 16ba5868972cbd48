"""Evaluation and sending inside the running app: two daemon threads per process. Every process
(web workers, the demo) may run them: the database lease lets one evaluate each cycle, and outbox
claims let several send without sending one message twice."""
from __future__ import annotations

import logging
import threading
import time

from alerting import config as acfg
from alerting import reload
from alerting.engine import Engine
from alerting.gateways import build_all
from alerting.sender import Sender

log = logging.getLogger("peakwatch.alerting")
SEND_EVERY_S = 2.0


class Scheduler:
    def __init__(self, store, settings, cfg: acfg.Config | None = None, gateways: dict | None = None,
                 clock=time.time):
        self.store, self.clock = store, clock
        self.loaded = reload.Loaded(store, settings, cfg)
        self.settings, self.cfg = settings, self.loaded.cfg
        self.engine = Engine(store, settings, self.cfg, clock)
        self._gateways = gateways                   # given (tests): kept across reloads
        self.sender = Sender(store, gateways if gateways is not None else build_all(self.cfg.gateways), clock)
        self.stop_event = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> "Scheduler":
        if not self.cfg.enabled:
            log.info("alerting is disabled ([alerting] enabled = false)")
            return self
        check = min(5.0, self.cfg.interval_s / 4)
        for name, step, every in (("alert-evaluator", self.evaluate_once, check),
                                  ("alert-sender", lambda: self.sender.run_once(), SEND_EVERY_S)):
            t = threading.Thread(target=self._loop, args=(name, step, every), name=name, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def evaluate_once(self):
        """One evaluator check: the configuration reloaded first when an admin asked for it."""
        self.reload_if_asked()
        return self.engine.run_once()

    def reload_if_asked(self) -> bool:
        """Swap in the config file's alerting tables when a reload was asked for since this
        configuration was loaded; a broken file keeps the running rules (logged). True on a swap."""
        if not self.loaded.refresh():
            return False
        settings, cfg = self.settings, self.cfg = self.loaded.settings, self.loaded.cfg
        self.engine = Engine(self.store, settings, cfg, self.clock, holder=self.engine.holder)
        if self._gateways is None:
            self.sender = Sender(self.store, build_all(cfg.gateways), self.clock, holder=self.sender.holder)
        log.info("alerting rules reloaded: %d rules, %d routes, %d gateways", len(cfg.rules), len(cfg.routes),
                 len(cfg.gateways))
        return True

    def _loop(self, name: str, step, every: float) -> None:
        while not self.stop_event.is_set():
            try:
                step()
            except Exception:  # noqa: BLE001 - the loop must outlive one bad cycle; the log says why
                log.exception("%s: one pass failed; retrying in %.0f s", name, every)
            self.stop_event.wait(every)

    def stop(self, timeout: float = 5.0) -> None:
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout)
