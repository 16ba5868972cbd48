"""Write the synthetic fleet into a store through the collectors' write path.

``bootstrap`` fills an empty store so that the wall has data at once and history follows:

1. the inventory and the promotion calendar;
2. live minutes from the anchor (the hour the fleet was first generated) up to now;
3. raw 1-minute samples for the last ``raw_hours`` hours, newest hour first;
4. hourly rollups, newest first: every series for the last ``instance_days`` days, then the
   cluster-level series back to ``history_days``.

Work is cut into units of about ``unit_cells`` values; after each unit the count of finished
units is stored (``store.set_meta``), so a killed demo resumes where it stopped (writes are
idempotent, so a unit done twice changes nothing). A store whose plan differs (other settings,
or a fleet version with other series) is planned again from the first unit. While history
generates, live minutes keep being appended every ``live_every`` seconds of the clock.

``tick(now)`` appends raw minutes from the live watermark up to ``now``; calling it twice for
the same ``now`` writes nothing new.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from collectors.synthetic import calendar, signals
from collectors.synthetic.fleet import FleetModel, build_model
from core.errors import CollectorError

HOUR, DAY, MINUTE = 3600, 86_400, 60
SOURCE = "synthetic"
META = "synthetic."
#: a demo stopped for longer than this gets hourly rollups for the gap, raw only for the end
MAX_RAW_CATCHUP = 6 * HOUR

Progress = Callable[[float, float, str], None]


@dataclass(frozen=True)
class Unit:
    kind: str            # raw | rollup
    start: int           # UTC epoch, inclusive
    end: int             # exclusive
    rows: slice          # series indices (model order)
    label: str


class SyntheticSource:
    """The seeded synthetic fleet as a data source writing into ``store``.

    Args:
        store: a ``store.Store`` (or anything with its write API).
        scale, seed: fleet size in instances and seed (see ``fleet.build_model``).
        clock: returns the current UTC epoch seconds (injected for tests).
        unit_cells: about how many values one bootstrap unit generates and writes.
        instance_days: days of hourly rollups for per-instance series (cluster-level series
            get ``history_days``).
    """

    def __init__(self, store, scale: int = 3000, seed: int = 7, clock: Callable[[], float] = time.time,
                 unit_cells: int = 2_000_000, instance_days: int = 30, live_every: float = 60.0):
        self.store = store
        self.scale = int(scale)
        self.seed = int(seed)
        self.clock = clock
        self.unit_cells = unit_cells
        self.instance_days = instance_days
        self.live_every = live_every
        self._model: FleetModel | None = None
        self._sid: np.ndarray | None = None

    # ------------------------------------------------------------------ fleet and ids
    @property
    def model(self) -> FleetModel:
        """The fleet model, anchored at the hour stored in the store (set on first use)."""
        if self._model is None:
            self._check_identity()
            anchor = self.store.get_meta(META + "anchor")
            if anchor is None:
                anchor = int(self.clock()) // HOUR * HOUR
                self.store.set_meta(META + "anchor", str(anchor))
            self._model = build_model(self.scale, self.seed, int(anchor))
        return self._model

    def _check_identity(self) -> None:
        held = self.store.get_meta(META + "fleet")
        mine = f"scale={self.scale} seed={self.seed}"
        if held is None:
            self.store.set_meta(META + "fleet", mine)
        elif held != mine:
            raise CollectorError(f"this store already holds the synthetic fleet {held}, not {mine}; "
                                 f"use that scale and seed, or point store_url at a new file.")

    def write_inventory(self) -> np.ndarray:
        """Upsert the inventory; returns the store id of every model series, in model order."""
        ids = self.store.upsert_inventory(self.model.inventory, source=SOURCE)
        self._sid = np.array([ids[s.key] for s in self.model.inventory.series], dtype=np.int64)
        return self._sid

    @property
    def series_ids(self) -> np.ndarray:
        """Store id of every model series, in model order (the inventory is upserted once)."""
        return self.write_inventory() if self._sid is None else self._sid

    # ---------------------------------------------------------------------- bootstrap
    def plan(self, history_days: int, raw_hours: int) -> list[Unit]:
        """The bootstrap units in the order they run (deterministic for a given store).

        Raw hours newest first; then hourly rollups of every series for the newest day (the
        wall's 24-hour views); then the cluster-level series back to ``history_days`` (what the
        promotion comparison and the forecaster read); then per-instance series for the rest of
        ``instance_days``. Rollup windows end on UTC days: the store keeps rollups in day rows.
        """
        m = self.model
        n_all = len(m.s_metric)
        # model order: instance series first, then the cluster-level ones (see fleet.py)
        first_cluster = int(m.cluster_series[0]) if m.cluster_series.size else n_all
        raw_end = m.anchor
        raw_start = raw_end - raw_hours * HOUR
        units = []
        for h in range(raw_hours):
            end = raw_end - h * HOUR
            units += self._units("raw", end - HOUR, end, 0, n_all, f"raw minutes {h + 1}/{raw_hours} h")
        hist_from = raw_end - history_days * DAY
        days = self._windows(raw_start, max(raw_start - self.instance_days * DAY, hist_from), 1)
        if days:
            units += self._units("rollup", *days[0], 0, n_all, "hourly, all series, newest day")
        for start, end in self._windows(days[0][0] if days else raw_start, hist_from, 7):
            units += self._units("rollup", start, end, first_cluster, n_all,
                                 f"hourly, clusters, {-(-(raw_end - start) // DAY)} d back")
        for start, end in days[1:]:
            units += self._units("rollup", start, end, 0, first_cluster,
                                 f"hourly, instances, {-(-(raw_end - start) // DAY)} d back")
        return units

    @staticmethod
    def _windows(end: int, stop: int, days: int) -> list[tuple[int, int]]:
        """(start, end) windows going back from ``end`` to ``stop``, cut at UTC midnights."""
        out = []
        while end > stop:
            start = max(((end - 1) // DAY - (days - 1)) * DAY, stop)
            out.append((start, end))
            end = start
        return out

    def _units(self, kind, start, end, lo, hi, label) -> list[Unit]:
        n_ts = (end - start) // (60 if kind == "raw" else HOUR)
        per = max(1, self.unit_cells // max(1, n_ts))
        return [Unit(kind, start, end, slice(a, min(a + per, hi)), label) for a in range(lo, hi, per)]

    def bootstrap(self, history_days: int = 730, raw_hours: int = 6, progress: Progress | None = None) -> int:
        """Fill the store (resuming a killed bootstrap); returns the number of units run now."""
        if history_days < 1 or raw_hours < 1:
            raise CollectorError("history_days and raw_hours must be at least 1.")
        report = progress or (lambda done, total, what="": None)
        self.write_inventory()
        self.store.upsert_promotions(calendar.default_promotions(
            self.model.anchor, years=max(2.0, history_days / 365.25)), origin="synthetic")
        self.tick(int(self.clock()))
        units = self.plan(history_days, raw_hours)
        # the series count too: a store bootstrapped by a fleet with other series (before the
        # reads/writes series existed) starts over, or the new series would miss their history
        signature = f"{history_days},{raw_hours},{self.instance_days},{self.unit_cells},{len(self.model.s_metric)}"
        done = int(self.store.get_meta(META + "units_done", "0")) \
            if self.store.get_meta(META + "plan") == signature else 0
        self.store.set_meta(META + "plan", signature)
        report(done, len(units), "resuming" if done else "inventory written")
        last_live = self.clock()
        ran = 0
        for i in range(done, len(units)):
            self._run(units[i])
            self.store.set_meta(META + "units_done", str(i + 1))
            ran += 1
            report(i + 1, len(units), units[i].label)
            if self.clock() - last_live >= self.live_every:
                self.tick(int(self.clock()))
                last_live = self.clock()
        return ran

    def _run(self, unit: Unit) -> int:
        rows = np.arange(unit.rows.start, unit.rows.stop)
        if unit.kind == "raw":
            return self._write_raw(rows, unit.start, unit.end)
        return self._write_rollups(rows, np.arange(unit.start, unit.end, HOUR, dtype=np.int64))

    def _write_raw(self, rows: np.ndarray, start: int, end: int) -> int:
        ts = signals.minutes(start, end)
        if not ts.size or not rows.size:
            return 0
        v = signals.values(self.model, rows, ts)
        sid = np.repeat(self.series_ids[rows], len(ts))
        return self.store.write_samples(sid, np.tile(ts, len(rows)), v.ravel())

    def _write_rollups(self, rows: np.ndarray, hours: np.ndarray) -> int:
        if not hours.size or not rows.size:
            return 0
        vmin, vavg, vmax, count = signals.hourly(self.model, rows, hours)
        keep = (count > 0).ravel()
        sid = np.repeat(self.series_ids[rows], len(hours))[keep]
        hour = np.tile(hours, len(rows))[keep]
        return self.store.write_rollups(sid, hour, vmin.ravel()[keep], vavg.ravel()[keep],
                                        vmax.ravel()[keep], count.ravel()[keep].astype(np.int64))

    # --------------------------------------------------------------------------- live
    def tick(self, now: int) -> int:
        """Append raw minutes from the live watermark through the minute of ``now``.

        Returns the number of samples written (0 when already up to date).
        """
        m = self.model
        start = int(self.store.get_meta(META + "live_until", str(m.anchor)))
        end = int(now) // MINUTE * MINUTE + MINUTE
        if end <= start:
            return 0
        n = 0
        if end - start > MAX_RAW_CATCHUP:
            first_hour = -(-start // HOUR) * HOUR
            last_hour = (end - MAX_RAW_CATCHUP) // HOUR * HOUR
            n += self._chunked_raw(start, first_hour)
            for h0 in range(first_hour, last_hour, DAY):
                hours = np.arange(h0, min(h0 + DAY, last_hour), HOUR, dtype=np.int64)
                for lo, hi in self._row_chunks(len(hours)):
                    n += self._write_rollups(np.arange(lo, hi), hours)
            start = last_hour
        n += self._chunked_raw(start, end)
        self.store.set_meta(META + "live_until", str(end))
        return n

    def _row_chunks(self, n_ts: int):
        n_all = len(self.model.s_metric)
        per = max(1, self.unit_cells // max(1, n_ts))
        return [(a, min(a + per, n_all)) for a in range(0, n_all, per)]

    def _chunked_raw(self, start: int, end: int) -> int:
        if end <= start:
            return 0
        n = 0
        for lo, hi in self._row_chunks(max(1, (end - start) // MINUTE)):
            n += self._write_raw(np.arange(lo, hi), start, end)
        return n
