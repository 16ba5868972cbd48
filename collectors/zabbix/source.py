"""ZabbixSource: one collection pass = inventory discovery, incremental history, active problems.

The client, the store and the clock are constructor arguments (tests hand in the real local Zabbix
and a temporary store).
"""
from __future__ import annotations

import logging
import time

import numpy as np
from typing import Callable

from collectors.zabbix import backfill as bf
from collectors.zabbix import derive, problems
from collectors.zabbix.client import ZabbixClient
from collectors.zabbix.history import Carry, PassReport, incremental_pass
from collectors.zabbix.inventory import Discovery, discover
from collectors.zabbix.keymap import KeyMap

log = logging.getLogger("peakwatch.zabbix")
SOURCE_NAME = "zabbix"


class ZabbixSource:
    def __init__(self, client: ZabbixClient, store, keymap: KeyMap, *, batch_items: int = 500,
                 batch_window: int = 21600, overlap: int = 300, first_window: int = 3600, host_group: str = "",
                 raw_days: int = 14, late_window: int = 7200, pass_seconds: float = 300.0, parallel: int = 2,
                 clock: Callable[[], float] = time.time):
        self.client, self.store, self.keymap = client, store, keymap
        self.batch_items, self.batch_window, self.overlap = batch_items, batch_window, overlap
        self.first_window, self.host_group, self.raw_days, self.clock = first_window, host_group, raw_days, clock
        self.late_window, self.pass_seconds, self.parallel = late_window, pass_seconds, parallel
        self.carry = Carry()     # items' newest points between passes (limits stored only when changed)
        self.discovery: Discovery | None = None
        self.ids: dict[str, int] = {}

    @classmethod
    def from_settings(cls, settings, store, client: ZabbixClient | None = None, **kw) -> "ZabbixSource":
        return cls(client or ZabbixClient.from_settings(settings), store, KeyMap.from_settings(settings),
                   batch_items=settings.zabbix_batch_items, batch_window=settings.zabbix_batch_window,
                   overlap=settings.zabbix_overlap, first_window=settings.zabbix_first_window,
                   host_group=settings.zabbix_host_group, raw_days=settings.raw_retention_days,
                   late_window=settings.zabbix_late_window, pass_seconds=settings.zabbix_pass_seconds,
                   parallel=settings.zabbix_parallel_calls, **kw)

    def discover(self) -> Discovery:
        """Read hosts and items, update the store's inventory (removed hosts are marked removed)."""
        disc = discover(self.client, self.keymap, self.host_group)
        self.ids = self.store.upsert_inventory(disc.inventory, source=SOURCE_NAME, full=True)
        for host, reason in disc.unmapped_hosts:
            log.warning("Zabbix host %s is not collected: %s", host, reason,
                        extra={"fields": {"host": host, "reason": reason}})
        self.discovery = disc
        return disc

    def collect(self, now: int | None = None) -> PassReport:
        """One pass: inventory, incremental history, problems."""
        now = int(self.clock()) if now is None else int(now)
        report = PassReport()
        self.client.start_pass(self.pass_seconds)
        try:
            disc = self.discover()
            incremental_pass(self.client, self.store, disc, self.ids, batch_items=self.batch_items,
                             batch_window=self.batch_window, overlap=self.overlap, first_window=self.first_window,
                             late_window=self.late_window, now=now, report=report, carry=self.carry,
                             parallel=self.parallel)
            problems.save(self.store, problems.fetch(self.client, disc.hosts))
        finally:
            self.client.end_pass()
        report.api_calls = self.client.calls
        return report

    def backfill(self, span: int, now: int | None = None, progress=None) -> PassReport:
        now = int(self.clock()) if now is None else int(now)
        disc = self.discover()
        report = bf.backfill(self.client, self.store, disc, self.ids, span, batch_items=self.batch_items,
                             batch_window=self.batch_window, raw_days=self.raw_days, now=now, progress=progress,
                             parallel=self.parallel)
        report.api_calls = self.client.calls
        return report

    def mem_limit_sources(self) -> dict[str, str]:
        """{instance: which memory limit its utilisation uses} from each item's newest value (looked
        for further back when none is recent: a limit may be stored once a day)."""
        from collectors.zabbix.history import Fetcher, seed
        disc = self.discovery or self.discover()
        now = int(self.clock())
        outs = [o for o in disc.outputs if o.how == "mem_util"]
        carry = Carry()
        seed(Fetcher(self.client, PassReport()), carry, {r.itemid: r.value_type for o in outs for r in o.items},
             now + 1, gap=0)
        data = {i: (np.array([ts], np.int64), np.array([v])) for i, (ts, v) in carry.last.items()}
        return {o.instance: derive.mem_source(o, data) for o in outs}
