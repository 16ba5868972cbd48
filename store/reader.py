"""Reads returning pandas: raw and rollup tiers, tier choice, downsampling, latest values."""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.engine import Connection

from store import codec
from store.writer import DAY, HOUR, LATEST_BLOCK, _sql, decode_latest_block

IN_BATCH = 500
RAW_COLUMNS = ["series_id", "ts", "value"]
ROLLUP_COLUMNS = ["series_id", "ts", "min", "avg", "max", "count"]
RANGE_COLUMNS = ["series_id", "ts", "value", "min", "max"]


def _rows(conn: Connection, table: str, keycol: str, sids: list[int], lo: int, hi: int) -> list:
    out: list = []
    for i in range(0, len(sids), IN_BATCH):
        part = sids[i:i + IN_BATCH]
        sql = (f"SELECT series_id, {keycol}, data FROM {table} WHERE series_id IN ({','.join('?' * len(part))}) "
               f"AND {keycol} >= ? AND {keycol} < ? ORDER BY series_id, {keycol}")
        cur = conn.connection.cursor()  # the DBAPI cursor: SQLAlchemy rows cost more than decoding
        try:
            cur.execute(_sql(conn, sql), (*part, lo, hi))
            out.extend(cur.fetchall())
        finally:
            cur.close()
    return out


def read_raw(conn: Connection, sids, start: int, end: int) -> pd.DataFrame:
    sids = sorted({int(s) for s in sids})
    if not sids or end <= start:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c != "value" else "float64") for c in RAW_COLUMNS})
    rows = _rows(conn, "raw_chunks", "hour", sids, start - start % HOUR, end)
    lengths, offs, vals = codec.decode_raw_chunks([bytes(r[2]) for r in rows])
    sid = np.repeat(np.array([r[0] for r in rows], np.int64), lengths)
    ts = np.repeat(np.array([r[1] for r in rows], np.int64), lengths) + offs
    keep = (ts >= start) & (ts < end)
    return pd.DataFrame({"series_id": sid[keep], "ts": ts[keep], "value": vals[keep]})


def rollup_arrays(conn: Connection, sids, start: int, end: int, fields=codec.FIELDS) -> dict[str, np.ndarray]:
    """Hourly rollups as arrays (series_id, ts, min, avg, max, count); min/avg/max not in
    ``fields`` are NaN (not decoded). No DataFrame: long aggregates reduce these directly."""
    sids = sorted({int(s) for s in sids})
    if not sids or end <= start:
        e = np.zeros(0)
        return {"series_id": e.astype(np.int64), "ts": e.astype(np.int64), "min": e, "avg": e, "max": e,
                "count": e.astype(np.int64)}
    rows = _rows(conn, "rollup_days", "day", sids, start - start % DAY, end)
    lengths, slots, vmin, vavg, vmax, cnt = codec.decode_rollup_days([bytes(r[2]) for r in rows], fields)
    sid = np.repeat(np.fromiter((r[0] for r in rows), np.int64, len(rows)), lengths)
    ts = np.repeat(np.fromiter((r[1] for r in rows), np.int64, len(rows)), lengths) + slots * HOUR
    keep = (ts >= start - start % HOUR) & (ts < end)
    if keep.all():
        return {"series_id": sid, "ts": ts, "min": vmin, "avg": vavg, "max": vmax, "count": cnt}
    return {"series_id": sid[keep], "ts": ts[keep], "min": vmin[keep], "avg": vavg[keep], "max": vmax[keep],
            "count": cnt[keep]}


def read_rollups(conn: Connection, sids, start: int, end: int, fields=codec.FIELDS) -> pd.DataFrame:
    """Hourly rollups; min/avg/max not in ``fields`` are left NaN (not decoded)."""
    return pd.DataFrame(rollup_arrays(conn, sids, start, end, fields), columns=ROLLUP_COLUMNS)


def bucket_step(start: int, end: int, base: int, max_points: int) -> tuple[int, int]:
    """(origin, step): buckets of ``step`` seconds (a multiple of ``base``) from ``origin`` (``start``
    rounded down to ``base``) that keep a line over [start, end) at or under ``max_points`` points."""
    origin = start - start % base
    n = -(-max(end - origin, base) // base)
    return origin, base * max(1, -(-n // max(1, max_points)))


def downsample(sid: np.ndarray, ts: np.ndarray, value: np.ndarray, vmin: np.ndarray, vmax: np.ndarray,
               grid: tuple[int, int]) -> pd.DataFrame:
    """Average per (series, bucket of the ``(origin, step)`` grid); min/max envelope kept."""
    if not len(sid):
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("series_id", "ts") else "float64")
                             for c in RANGE_COLUMNS})
    origin, step = grid
    bucket = ts - (ts - origin) % step
    in_order = (sid[1:] > sid[:-1]) | ((sid[1:] == sid[:-1]) & (bucket[1:] >= bucket[:-1]))
    if not in_order.all():  # reads come sorted by (series, ts); sort only when they are not
        order = np.lexsort((bucket, sid))
        sid, bucket, value, vmin, vmax = sid[order], bucket[order], value[order], vmin[order], vmax[order]
    change = np.ones(len(sid), bool)
    change[1:] = (sid[1:] != sid[:-1]) | (bucket[1:] != bucket[:-1])
    starts = np.flatnonzero(change)
    counts = np.diff(np.append(starts, len(sid)))
    return pd.DataFrame({
        "series_id": sid[starts], "ts": bucket[starts],
        "value": np.add.reduceat(value, starts) / counts,
        "min": np.minimum.reduceat(vmin, starts), "max": np.maximum.reduceat(vmax, starts),
    })


def read_latest(conn: Connection, sids=None) -> pd.DataFrame:
    rows = conn.exec_driver_sql("SELECT block, data FROM latest_blocks ORDER BY block").fetchall()
    parts_sid, parts_ts, parts_val = [], [], []
    for blk, blob in rows:
        ts, val = decode_latest_block(bytes(blob))
        have = np.flatnonzero(ts >= 0)
        parts_sid.append(have + blk * LATEST_BLOCK)
        parts_ts.append(ts[have])
        parts_val.append(val[have])
    if not parts_sid:
        return pd.DataFrame({"series_id": pd.Series(dtype="int64"), "ts": pd.Series(dtype="int64"),
                             "value": pd.Series(dtype="float64")})
    df = pd.DataFrame({"series_id": np.concatenate(parts_sid), "ts": np.concatenate(parts_ts),
                       "value": np.concatenate(parts_val)})
    if sids is not None:
        df = df[df["series_id"].isin(np.asarray(list(sids), np.int64))].reset_index(drop=True)
    return df
