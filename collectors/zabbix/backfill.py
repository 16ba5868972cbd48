"""Backfill: ``trend.get`` (hourly min/avg/max/num) for the span beyond the raw tier, written as
rollups, then ``history.get`` for the raw window. Progress is a watermark per series and phase
(``zabbix-backfill-trends``, ``zabbix-backfill-raw``) set after each window is written, so a killed
backfill resumes where it stopped and ends with the same store as an uninterrupted run. At the end,
instances join the fleet as early as their data goes back (``Store.backdate_instances``): without it
every instance would have joined on the day of the first collection.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from collectors.zabbix import derive
from collectors.zabbix.client import bad_row
from collectors.zabbix.history import (CHECKED, LOOKBACK, SOURCE, Carry, Fetcher, PassReport, Writer,
                                       chunk_outputs, parse_values, seed, windows, write_outputs)
from collectors.zabbix.inventory import Discovery
from collectors.zabbix.keymap import is_counter, is_slow

log = logging.getLogger("peakwatch.zabbix")

TRENDS_SOURCE = "zabbix-backfill-trends"
RAW_SOURCE = "zabbix-backfill-raw"
HOUR = 3600
TREND_WINDOW = 30 * 86400
TREND_FIELDS = ("itemid", "clock", "num", "value_min", "value_avg", "value_max")


def parse_trends(rows: list[dict]) -> dict[str, dict[str, np.ndarray]]:
    """trend.get rows -> {itemid: {"ts", "min", "avg", "max", "count"}} sorted by hour."""
    out: dict[str, dict[str, np.ndarray]] = {}
    by: dict[str, list[dict]] = {}
    try:
        for r in rows:
            by.setdefault(r["itemid"], []).append(r)
        for itemid, rs in by.items():
            rs.sort(key=lambda r: int(r["clock"]))
            out[itemid] = {"ts": np.array([int(r["clock"]) for r in rs], np.int64),
                           "min": np.array([float(r["value_min"]) for r in rs]),
                           "avg": np.array([float(r["value_avg"]) for r in rs]),
                           "max": np.array([float(r["value_max"]) for r in rs]),
                           "count": np.array([int(r["num"]) for r in rs], np.int64)}
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_row("trend.get", next((r for r in rows if not isinstance(r, dict) or not set(TREND_FIELDS) <= set(r)),
                                        rows[0]), TREND_FIELDS) from exc
    return out


def _write_rollups(store, ids, group, trends, keep_from, report, mark) -> None:
    cols = {k: [] for k in ("sid", "ts", "min", "avg", "max", "count")}
    marks = {}
    for out in group:
        sid = ids.get(out.key)
        if sid is None:
            continue
        r = derive.compute_rollups(out, trends, report.skipped, since=keep_from)
        keep = (r["ts"] >= keep_from) & np.isfinite(r["avg"])
        cols["sid"].append(np.full(int(keep.sum()), sid, np.int64))
        for k in ("ts", "min", "avg", "max", "count"):
            cols[k].append(r[k][keep])
        marks[sid] = mark
    if cols["sid"] and sum(len(a) for a in cols["sid"]):
        report.rollups_written += int(store.write_rollups(*(np.concatenate(cols[k]) for k in
                                                             ("sid", "ts", "min", "avg", "max", "count"))))
    store.set_watermarks(TRENDS_SOURCE, marks)


def _write_raw(store, ids, g, data, a, b, now, report, carry: Carry, newest: dict[int, int]) -> None:
    carry.apply(data, a, {r.itemid for o in g for r in o.items})
    for sid, ts in write_outputs(store, ids, g, data, a, now, report).items():
        newest[sid] = max(ts, newest.get(sid, 0))
    store.set_watermarks(RAW_SOURCE, {ids[o.key]: b for o in g if o.key in ids})
    carry.update(data, b)


def backfill(client, store, disc: Discovery, ids: dict[str, int], span: int, *, batch_items: int,
             batch_window: int, raw_days: int, now: int | None = None, progress=None, parallel: int = 1) -> PassReport:
    """Fill ``span`` seconds back from ``now``: rollups from trends, then raw samples from history.

    ``progress(done, total)`` is called after each window (the CLI draws a bar with it).
    """
    t_start = time.monotonic()
    now = int(time.time()) if now is None else int(now)
    start = (now - span) // HOUR * HOUR
    raw_from = max(start, (now - raw_days * 86400) // HOUR * HOUR)
    report = PassReport()
    fetch = Fetcher(client, report, parallel)
    outputs = [o for o in disc.outputs if o.key in ids]
    report.series = len(outputs)
    groups = chunk_outputs(outputs, batch_items)
    tmarks, rmarks = store.watermarks(TRENDS_SOURCE), store.watermarks(RAW_SOURCE)
    plan = []
    for gi, g in enumerate(groups):
        sids = [ids[o.key] for o in g]
        for a, b in windows(start, raw_from, TREND_WINDOW):
            if not all(tmarks.get(s, 0) >= b for s in sids):
                plan.append(("trends", gi, a, b))
        for a, b in windows(raw_from, now + 1, batch_window):
            if not all(rmarks.get(s, 0) >= b for s in sids):
                plan.append(("raw", gi, a, b))
    writer = Writer()
    carries: dict[int, Carry] = {}
    newest: dict[int, int] = {}
    try:
        for done, (phase, gi, a, b) in enumerate(plan, 1):
            g = groups[gi]
            items = {r.itemid: r.value_type for o in g for r in o.items}
            if phase == "trends":
                rows = fetch.trends(list(items), a - HOUR, b)
                report.values_read += len(rows)
                trends = parse_trends(rows)
                writer.submit(lambda g=g, t=trends, a=a, b=b: _write_rollups(store, ids, g, t, a, report, b))
            else:
                if gi not in carries:
                    # the group's first raw window in this run (after trends, or resuming): the
                    # newest earlier point of counters and limits sampled less often than LOOKBACK
                    carries[gi] = Carry()
                    seed(fetch, carries[gi], {r.itemid: r.value_type for o in g for r in o.items
                                              if is_counter(r.rule) or is_slow(r.rule)}, a)
                rows = fetch.history(items, a - LOOKBACK, b)
                report.values_read += len(rows)
                writer.submit(lambda g=g, rows=rows, a=a, b=b, c=carries[gi]: _write_raw(
                    store, ids, g, parse_values(rows, report.skipped, since=a), a, b, now, report, c, newest))
            if progress:
                progress(done, len(plan))
    finally:
        writer.close()
    # the incremental pass continues from the newest sample of each series and the end of this read
    current = store.watermarks(SOURCE)
    store.set_watermarks(SOURCE, {sid: max(current.get(sid, 0), ts) for sid, ts in newest.items()})
    store.set_watermarks(CHECKED, {ids[o.key]: now for o in outputs})
    # instances joined the fleet when their data begins, not when Peakwatch first saw them
    report.instances_backdated = store.backdate_instances()
    report.seconds = time.monotonic() - t_start
    return report
