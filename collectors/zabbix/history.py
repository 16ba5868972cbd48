"""Incremental history: ``history.get`` per value type, batched by item count and time window,
asking only for ``itemid, clock, value``; a watermark per series (store.set_watermarks), a small
overlap window for late values, idempotent writes. Store writes run in a writer thread so they
overlap with the next fetch.

The latest values the wall shows come from this pass (the store keeps them), never from
``item.get`` with ``lastvalue`` (a query per item inside Zabbix).
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from collectors.zabbix import derive
from collectors.zabbix.inventory import Discovery, Output
from collectors.zabbix.keymap import is_slow
from collectors.zabbix.client import bad_row, rows_of
from core.errors import ZabbixTooLarge

log = logging.getLogger("peakwatch.zabbix")

SOURCE = "zabbix"              # watermark: newest sample written per series
CHECKED = "zabbix-checked"     # watermark: end of the history read per series
LOOKBACK = 900          # extra seconds read before a window so counters have a previous point
FUTURE_SLACK = 300      # a clock further ahead than this is a bad clock, skipped and counted
FUTURE_HORIZON = 86400  # how far ahead a pass looks for such clocks (to count them)
MAX_SPLIT_DEPTH = 8


@dataclass
class PassReport:
    """What one pass did; the CLI prints it and the run loop logs it."""
    values_read: int = 0
    values_written: int = 0
    rollups_written: int = 0
    api_calls: int = 0
    series: int = 0
    skipped: derive.Problems = field(default_factory=derive.Problems)
    seconds: float = 0.0
    instances_backdated: int = 0     # backfill: instances whose join date moved back to their first data

    def as_fields(self) -> dict:
        return {"values_read": self.values_read, "values_written": self.values_written,
                "rollups_written": self.rollups_written, "series": self.series, "api_calls": self.api_calls,
                "skipped": dict(self.skipped), "seconds": round(self.seconds, 3),
                "instances_backdated": self.instances_backdated}


def parse_values(rows: list[dict], problems: derive.Problems, since: int | None = None) -> dict[str, derive.Arrays]:
    """history.get rows (sorted by clock) -> {itemid: (ts, value)}; unparsable values at or after
    ``since`` (all when None) are counted (earlier ones were counted by the window that wrote them)."""
    if not rows:
        return {}
    try:
        ids = np.array([r["itemid"] for r in rows])
        ts = np.fromiter((int(r["clock"]) for r in rows), np.int64, len(rows))
        raw = [r["value"] for r in rows]
    except (KeyError, TypeError, ValueError) as exc:
        bad = next(r for r in rows if not isinstance(r, dict) or not {"itemid", "clock", "value"} <= set(r)
                   or not str(r["clock"]).lstrip("-").isdigit())
        raise bad_row("history.get", bad, ("itemid", "clock", "value")) from exc
    try:
        v = np.array(raw, dtype=np.float64)
    except ValueError:
        v = np.array([_num(x) for x in raw], dtype=np.float64)
    bad = ~np.isfinite(v)
    counted = bad if since is None else bad & (ts >= since)
    if counted.any():
        problems["not a finite number"] += int(counted.sum())
    return _group(ids, ts, v, ~bad)


def _num(x: str) -> float:
    try:
        return float(x)
    except ValueError:
        return float("nan")


def _group(ids: np.ndarray, ts: np.ndarray, v: np.ndarray, keep: np.ndarray) -> dict[str, derive.Arrays]:
    ids, ts, v = ids[keep], ts[keep], v[keep]
    order = np.lexsort((ts, ids))
    ids, ts, v = ids[order], ts[order], v[order]
    out = {}
    bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
    for a, b in zip(bounds[:-1], bounds[1:]):
        out[str(ids[a])] = (ts[a:b], v[a:b])
    return out


def _parts(ids: list[str], n: int, min_items: int = 4) -> list[list[str]]:
    """``ids`` in at most ``n`` contiguous parts of at least ``min_items`` (a few items are one call)."""
    n = max(1, min(n, len(ids) // min_items))
    size = -(-len(ids) // n)
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def windows(start: int, end: int, step: int) -> Iterator[tuple[int, int]]:
    """[a, b) windows aligned to multiples of ``step`` so a resumed run cuts the same windows."""
    a = start
    while a < end:
        b = min(end, (a // step + 1) * step)
        yield a, b
        a = b


def chunk_outputs(outputs: list[Output], max_items: int) -> list[list[Output]]:
    """Outputs grouped so that each group needs at most ``max_items`` items (an output never splits)."""
    groups, cur, seen = [], [], set()
    for out in outputs:
        need = {r.itemid for r in out.items} - seen
        if cur and len(seen) + len(need) > max_items:
            groups.append(cur)
            cur, seen = [], set()
            need = {r.itemid for r in out.items}
        cur.append(out)
        seen |= need
    if cur:
        groups.append(cur)
    return groups


class Fetcher:
    """history.get / trend.get with only the needed fields, split when the frontend runs out of
    memory; with ``parallel`` > 1 the value types' calls of a window are in flight at once (the
    frontend answers each in its own PHP worker) and are handed over as each one returns."""

    def __init__(self, client, report: PassReport, parallel: int = 1):
        self.client = client
        self.report = report
        self.parallel = max(1, int(parallel))
        self._lock = threading.Lock()

    def history(self, items: dict[str, int], t0: int, t1: int) -> list[dict]:
        """Rows of [t0, t1) for items {itemid: value_type}, one call per value type."""
        return [r for _ids, rows in self.history_by_type(items, t0, t1) for r in rows]

    def history_by_type(self, items: dict[str, int], t0: int, t1: int) -> Iterator[tuple[list[str], list[dict]]]:
        """(itemids, rows of [t0, t1)) per value type, one call each, as each call returns."""
        by_type: dict[int, list[str]] = {}
        for itemid, vt in items.items():
            by_type.setdefault(vt, []).append(itemid)

        def call(vt: int, ids: list[str]) -> list[dict]:
            return self._split("history.get", {"output": ["itemid", "clock", "value"], "history": vt,
                                               "sortfield": "clock", "sortorder": "ASC"}, ids, t0, t1, 0)
        calls = sorted(by_type.items())
        if self.parallel == 1:
            for vt, ids in calls:
                yield ids, call(vt, ids)
            return
        # each value type in ``parallel`` parts (items in plan order, so an output's items mostly
        # travel together): the writer works on the first answers while the others are in flight,
        # and the last answer, whose handling nothing overlaps, is smaller
        calls = [(vt, part) for vt, ids in calls for part in _parts(ids, self.parallel) if part]
        with ThreadPoolExecutor(max_workers=min(self.parallel, len(calls)), thread_name_prefix="zabbix-fetch") as pool:
            futures = {pool.submit(call, vt, ids): ids for vt, ids in calls}
            for done in as_completed(futures):
                yield futures[done], done.result()

    def trends(self, itemids: list[str], t0: int, t1: int) -> list[dict]:
        return self._split("trend.get", {"output": ["itemid", "clock", "num", "value_min", "value_avg",
                                                    "value_max"]}, itemids, t0, t1, 0)

    def _split(self, method: str, base: dict, ids: list[str], t0: int, t1: int, depth: int) -> list[dict]:
        params = dict(base, itemids=ids, time_from=t0, time_till=t1 - 1)
        try:
            with self._lock:
                self.report.api_calls += 1
            return rows_of(self.client.call(method, params), method, tuple(base["output"]), check_rows=False)
        except ZabbixTooLarge:
            if depth >= MAX_SPLIT_DEPTH or (len(ids) == 1 and t1 - t0 <= 60):
                raise
            log.warning("%s answer too large for the frontend; splitting (%d items, %d s)", method, len(ids),
                        t1 - t0)
            if len(ids) > 1:
                half = len(ids) // 2
                return (self._split(method, base, ids[:half], t0, t1, depth + 1)
                        + self._split(method, base, ids[half:], t0, t1, depth + 1))
            mid = (t0 + t1) // 2
            return self._split(method, base, ids, t0, mid, depth + 1) + self._split(method, base, ids, mid, t1,
                                                                                    depth + 1)


class Writer:
    """Runs store writes in one background thread, in order, so fetching continues meanwhile."""

    def __init__(self, depth: int = 2):
        self.q: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="zabbix-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            job = self.q.get()
            if job is None:
                return
            if self.error is None:
                try:
                    job()
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    self.error = exc

    def submit(self, job: Callable[[], None]) -> None:
        self._raise()
        self.q.put(job)

    def close(self) -> None:
        self.q.put(None)
        self.thread.join()
        self._raise()

    def _raise(self) -> None:
        if self.error is not None:
            raise self.error


class Carry:
    """The newest point of each item before the window being read.

    A window re-reads only ``LOOKBACK`` seconds before its start. An item sampled less often has
    no point there: an hourly counter would lose its first step in the window, and a memory limit
    that the official templates store only when it changes (Memcached's ``limit_maxbytes``:
    "discard unchanged with heartbeat 30m") would leave the window without a limit. The carried
    point stands in for it. A collector process keeps one Carry across its passes; the writer
    thread applies and updates it window after window, in order."""

    def __init__(self, seed: dict[str, derive.Arrays] | None = None):
        self.last: dict[str, tuple[int, float]] = {}
        if seed:
            self.update(seed, None)

    def apply(self, data: dict[str, derive.Arrays], start: int, itemids: Iterable[str]) -> None:
        """Give each of ``itemids`` whose data has no point before ``start`` its carried point."""
        for itemid in itemids:
            prev = self.last.get(itemid)
            if prev is None or prev[0] >= start:
                continue
            ts, v = data.get(itemid, derive.EMPTY)
            if not len(ts) or ts[0] >= start:
                data[itemid] = (np.r_[np.int64(prev[0]), ts], np.r_[prev[1], v])

    def update(self, data: dict[str, derive.Arrays], end: int | None) -> None:
        """Remember each item's newest point before ``end`` (all points when None)."""
        for itemid, (ts, v) in data.items():
            i = len(ts) if end is None else int(np.searchsorted(ts, end))
            if i and (itemid not in self.last or self.last[itemid][0] <= int(ts[i - 1])):
                self.last[itemid] = (int(ts[i - 1]), float(v[i - 1]))

    def missing(self, items: dict[str, int]) -> dict[str, int]:
        return {i: vt for i, vt in items.items() if i not in self.last}


#: widening look-backs for an item's newest point before a window (see :func:`seed`)
SEED_STEPS = (3600, 6 * 3600, 86400, 7 * 86400)
#: a memory limit is stored at least this often (the official templates' heartbeats: 30 min to a
#: day): a read this long holds one, and the first one found stands for the time before it
LIMIT_HEARTBEAT = 86400


def seed(fetch: "Fetcher", carry: Carry, items: dict[str, int], start: int, gap: int = LOOKBACK) -> None:
    """Find the newest point before ``start - gap`` (the window re-reads ``gap``) of each of
    ``items`` that the carry lacks, looking back further for the items not found yet (an item
    sampled every minute is found in the first hour, a limit stored once a day in the third step):
    bounded work, done once per process."""
    todo = carry.missing(items)
    hi = start - gap
    for back in SEED_STEPS:
        if not todo:
            return
        lo = start - back
        if lo < hi:
            found = parse_values(fetch.history(todo, lo, hi), derive.Problems())
            carry.update({i: found[i] for i in found if i in todo}, hi)
            todo = {i: vt for i, vt in todo.items() if i not in found}
        hi = lo


def write_outputs(store, ids: dict[str, int], outs: Iterable[Output], data: dict[str, derive.Arrays],
                  keep_from: int, now: int, report: PassReport) -> dict[int, int]:
    """Derive and write the samples of ``[keep_from, now]``; returns {series id: newest ts written}
    for the outputs that got samples."""
    sids, tss, vals = [], [], []
    newest: dict[int, int] = {}
    for out in outs:
        sid = ids.get(out.key)
        if sid is None:
            continue
        ts, v = derive.compute(out, data, report.skipped, since=keep_from)
        keep = (ts >= keep_from) & np.isfinite(v)
        future = ts > now + FUTURE_SLACK
        if future.any():
            report.skipped["clock in the future"] += int(future.sum())
            keep &= ~future
        if keep.any():
            sids.append(np.full(int(keep.sum()), sid, np.int64))
            tss.append(ts[keep])
            vals.append(v[keep])
            newest[sid] = int(ts[keep].max())
    if sids:
        n = store.write_samples(np.concatenate(sids), np.concatenate(tss), np.concatenate(vals))
        report.values_written += int(n)
    return newest


def _parse_and_write(store, ids: dict[str, int], rows: list[dict], item_ids: list[str],
                     data: dict[str, derive.Arrays], ready: list[Output], keep_from: int, now: int,
                     report: PassReport, mark: int, carry: Carry) -> None:
    """Writer-thread job: add one answer's values to the window's ``data``, then write the outputs
    whose items have all arrived (none yet: nothing to write). Watermarks: ``SOURCE`` follows the
    newest sample written (a value arriving late, e.g. from a Zabbix proxy's buffer, is still read
    next pass), ``CHECKED`` the end of the window read."""
    parsed = parse_values(rows, report.skipped, since=keep_from)
    carry.apply(parsed, keep_from, item_ids)
    data.update(parsed)
    if not ready:
        return
    newest = write_outputs(store, ids, ready, data, keep_from, now, report)
    if newest:
        store.set_watermarks(SOURCE, newest)
    store.set_watermarks(CHECKED, {ids[o.key]: mark for o in ready if o.key in ids})
    carry.update({i: data[i] for o in ready for i in (r.itemid for r in o.items) if i in data}, mark + 1)


def start_times(outputs: list[Output], ids: dict[str, int], data_marks: dict[int, int], checked: dict[int, int],
                now: int, *, overlap: int, first_window: int, late_window: int) -> dict[str, int]:
    """Where each output's pass starts reading: ``overlap`` before its newest sample, but not
    earlier than ``late_window`` before the end of what was already read (a series that stopped
    reporting is not re-read from its last value on every pass); a new series reads
    ``first_window`` back."""
    out = {}
    for o in outputs:
        sid = ids[o.key]
        data, seen = data_marks.get(sid), checked.get(sid)
        if data is None and seen is None:
            out[o.key] = now - first_window
            continue
        a = (data - overlap) if data is not None else seen
        if seen is not None:
            a = max(a, seen - late_window)
        out[o.key] = max(0, min(a, now - overlap))
    return out


def incremental_pass(client, store, disc: Discovery, ids: dict[str, int], *, batch_items: int, batch_window: int,
                     overlap: int, first_window: int, late_window: int = 7200, now: int | None = None,
                     report: PassReport | None = None, carry: Carry | None = None, parallel: int = 1) -> PassReport:
    """One incremental collection pass over every planned output.

    ``carry``: the collector's :class:`Carry`, kept across passes (a new one when None)."""
    t_start = time.monotonic()
    report = report or PassReport()
    now = int(time.time()) if now is None else int(now)
    fetch = Fetcher(client, report, parallel)
    writer = Writer()
    outputs = [o for o in disc.outputs if o.key in ids]
    report.series = len(outputs)
    start_of = start_times(outputs, ids, store.watermarks(SOURCE), store.watermarks(CHECKED), now,
                           overlap=overlap, first_window=first_window, late_window=late_window)
    outputs.sort(key=lambda o: start_of[o.key])
    carry = Carry() if carry is None else carry
    try:
        for group in chunk_outputs(outputs, batch_items):
            items = {r.itemid: r.value_type for o in group for r in o.items}
            t0 = min(start_of[o.key] for o in group)
            spans = list(windows(t0, now + 1, batch_window))
            spans[-1] = (spans[-1][0], now + FUTURE_HORIZON)     # the last call also sees bad future clocks
            # slow inputs (memory limits) need their newest point before a short read (once per
            # process); a read of a day or more holds one of their values anyway
            if now - t0 < LIMIT_HEARTBEAT:
                seed(fetch, carry, {r.itemid: r.value_type for o in group for r in o.items if is_slow(r.rule)}, t0)
            for a, b in spans:
                # each window re-reads LOOKBACK seconds so counters have their previous point (and
                # the carry holds it for items sampled less often). Each value type's answer is
                # parsed, derived and written by the writer thread while the next call is in flight:
                # an output is written once every item it needs has arrived.
                data: dict[str, derive.Arrays] = {}
                arrived: set[str] = set()
                pending = list(group)
                for item_ids, rows in fetch.history_by_type(items, a - LOOKBACK, b):
                    report.values_read += len(rows)
                    arrived.update(item_ids)
                    complete = [all(r.itemid in arrived for r in o.items) for o in pending]
                    ready = [o for o, done in zip(pending, complete) if done]
                    pending = [o for o, done in zip(pending, complete) if not done]
                    writer.submit(lambda rows=rows, i=item_ids, d=data, g=ready, a=a, m=min(b - 1, now):
                                  _parse_and_write(store, ids, rows, i, d, g, a, now, report, m, carry))
    finally:
        writer.close()
    report.seconds = time.monotonic() - t_start
    return report
