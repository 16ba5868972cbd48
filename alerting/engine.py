"""The alert engine: one evaluation per cycle across every process, stored.

A cycle (``interval`` seconds of wall time) is evaluated by whoever holds the ``alerting.evaluator``
lease in the database (a web worker's scheduler thread, the demo, or ``app.py alerts --once``);
``Store.commit_cycle`` writes the cycle only if the holder still holds the lease and nobody wrote
that cycle yet, so two evaluators never both evaluate (or page) one cycle. What it stores (open
alerts) is what the wall, the business page and the notifications read: one truth for red.
"""
from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass

import pandas as pd

from alerting import config as acfg
from alerting import evaluate as ev
from alerting import deviation, lifecycle, routing
from alerting.prepared import Prepared, inventory_key, prepare
from store.alert_types import CycleWrite

log = logging.getLogger("peakwatch.alerting")
LEASE = "alerting.evaluator"
INSTANCES_TTL = 120


def holder_id(role: str = "") -> str:
    """Unique per evaluator object: host, pid and a random part (two threads never share one)."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


@dataclass
class CycleReport:
    cycle: int
    now: int
    hits: int
    firing: int
    new: int
    resolved: int
    queued: int
    ms: float

    def line(self) -> str:
        return (f"cycle {self.cycle}: {self.firing} open alerts ({self.new} new, {self.resolved} resolved), "
                f"{self.queued} messages queued, {self.ms:.0f} ms")


class Engine:
    """Evaluates flags, advances alert lifecycles and routes notifications into the outbox."""

    def __init__(self, store, settings, cfg: acfg.Config | None = None, clock=time.time, holder: str | None = None):
        self.store = store
        self.settings = settings
        self.cfg = cfg or acfg.load(settings)
        self.clock = clock
        self.holder = holder or holder_id("evaluator")
        self._sources: tuple[float, pd.Series] | None = None
        self._prep: Prepared | None = None
        self._deviation: tuple[int, pd.DataFrame] | None = None
        self.deviation_ms = 0.0

    # ------------------------------------------------------------------ scheduling
    def cycle_of(self, now: int) -> int:
        """The cycle's start (epoch seconds): comparable across evaluators with other intervals."""
        return int(now) - int(now) % self.cfg.interval_s

    def due(self, now: int) -> bool:
        lease = self.store.lease(LEASE)
        return lease is None or int(lease["last_run"]) < self.cycle_of(now)

    def run_once(self, now: int | None = None) -> CycleReport | None:
        """Evaluate this cycle unless another evaluator holds the lease or already did it (None)."""
        now = int(self.clock() if now is None else now)
        cycle = self.cycle_of(now)
        if not self.due(now) or not self.store.acquire_lease(LEASE, self.holder, now, 2 * self.cfg.interval_s):
            return None
        if not self.due(now):
            return None
        started = time.perf_counter()
        write, after, hits = self.plan(now, cycle)
        if not self.store.commit_cycle(write, LEASE, self.holder, cycle):
            return None
        report = CycleReport(cycle, now, len(hits), sum(a["state"] in ("firing", "acknowledged") for a in after),
                             len([r for r in write.new if r["state"] != "pending"]),
                             sum(1 for c in write.changed if c.get("state") == "resolved"), len(write.outbox),
                             (time.perf_counter() - started) * 1000)
        log.info("alert %s", report.line())
        return report

    # ------------------------------------------------------------------ one cycle
    def hits(self, now: int) -> pd.DataFrame:
        """Every finding of this cycle (thresholds, staleness, watchdog, Zabbix problems), inhibited."""
        s = self.settings
        prep = self.prepared()
        ts, value = prep.readings(self.store.latest())
        stale_after = s.stale_after_intervals * s.collect_interval
        problems = self.store.problems()
        found = ev.combine(
            ev.threshold_hits(prep, ts, value, self.cfg.rules, self.cfg.tighten, now, stale_after),
            ev.stale_hits(prep, ts, now, stale_after),
            ev.watchdog_hits(prep, ts, now, self.cfg.watchdog_intervals * s.collect_interval),
            self._problem_hits(problems) if len(problems) else pd.DataFrame(columns=ev.HIT_COLUMNS),
            self.deviation_hits(now),
        )
        return ev.inhibit(found)

    def deviation_hits(self, now: int) -> pd.DataFrame:
        """Traffic against the same hour of past weeks, judged once per hour (rollups are hourly)."""
        dev = self.cfg.deviation
        if not dev["enabled"]:
            return pd.DataFrame(columns=ev.HIT_COLUMNS)
        hour = now - now % 3600
        if self._deviation is None or self._deviation[0] != hour:
            started = time.perf_counter()
            self._deviation = (hour, deviation.business_hits(self.store, dev, now))
            self.deviation_ms = (time.perf_counter() - started) * 1000
        return self._deviation[1]

    def _problem_hits(self, problems: pd.DataFrame) -> pd.DataFrame:
        owners = self.store.instances()
        owners = owners[owners["removed_at"].isna()]
        return ev.problem_hits(problems, owners, self.cfg.zabbix_map, self.cfg.zabbix_honour_ack,
                               self.store.businesses())

    def prepared(self) -> Prepared:
        """The inventory side, rebuilt only when the inventory changed."""
        series = self.store.series()
        if self._prep is None or self._prep.key != inventory_key(series):
            self._prep = prepare(series, self._instance_sources(fresh=True))
        return self._prep

    def plan(self, now: int, cycle: int) -> tuple[CycleWrite, list[dict], pd.DataFrame]:
        hits = self.hits(now)
        write = CycleWrite()
        for_s = {r.name: r.for_s for r in self.cfg.rules}
        after, resolved = lifecycle.advance(self.store.open_alerts(), hits, for_s, now, write)
        self.router(now, cycle).run(after, resolved, write)
        return write, after, hits

    def router(self, now: int, cycle: int) -> routing.Router:
        s = self.settings
        biz = self.store.businesses()
        oncall = {n: [c for c in str(o).splitlines() if c.strip()] for n, o in zip(biz["name"], biz["oncall"])}
        oncall[ev.SELF] = list(self.cfg.self_oncall)
        sil = lifecycle.records(self.store.silences(active_at=now))
        groups = {(g["group_key"], g["recipient"]): g for g in lifecycle.records(self.store.notify_groups())}
        base = self.cfg.link_base or f"http://{s.host}:{s.port}"
        return routing.Router(self.cfg, s.timezone, base, self.cfg.language or s.language, oncall, sil, groups,
                              self.store.sent_counts(now - 3600), self.store.sent_counts(now - 86400), now, cycle,
                              self.store.queued_digests())

    def _instance_sources(self, fresh: bool = False) -> pd.Series:
        """Instance name -> source (synthetic, zabbix): which writer's silence the watchdog watches."""
        if fresh or self._sources is None or time.monotonic() - self._sources[0] > INSTANCES_TTL:
            inst = self.store.instances()
            self._sources = (time.monotonic(), pd.Series(inst["source"].to_numpy(), index=inst["name"].to_numpy()))
        return self._sources[1]
