"""The one write path: raw chunks, the hourly rollups they imply, and latest values.

Every source (synthetic fleet, Zabbix collector) writes through here. Writes are idempotent:
a chunk that already exists is decoded, merged by timestamp (the new value wins) and re-encoded,
so writing the same samples twice leaves the same rows.
"""
from __future__ import annotations

import numpy as np
from sqlalchemy.engine import Connection

from core.errors import StoreInputError
from store import codec
from store.engine import lock_blocks

HOUR = 3600
DAY = 86400
LATEST_BLOCK = 4096


def _sql(conn: Connection, sql: str) -> str:
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def upsert_rows(conn: Connection, table: str, cols: tuple[str, ...], keys: tuple[str, ...], rows: list) -> None:
    if not rows:
        return
    bare = [c.strip('"') for c in cols]      # callers may pass reserved words quoted ('"end"')
    updates = ", ".join(f'"{c}" = excluded."{c}"' for c, q in zip(bare, cols) if q not in keys)
    sql = (f'INSERT INTO {table} ({", ".join(f"{c!s}" for c in cols)}) VALUES ({", ".join("?" * len(cols))}) '
           f'ON CONFLICT ({", ".join(keys)}) DO UPDATE SET {updates}')
    conn.exec_driver_sql(_sql(conn, sql), rows)


def _as_arrays(series_id, ts, value) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sid = np.asarray(series_id)
    t = np.asarray(ts)
    v = np.asarray(value, dtype=np.float64)
    if not (sid.shape == t.shape == v.shape) or sid.ndim != 1:
        raise StoreInputError(f"series_id, ts and value must be 1-D arrays of one length "
                              f"(got {sid.shape}, {t.shape}, {v.shape}).")
    if sid.size and not np.issubdtype(sid.dtype, np.integer):
        raise StoreInputError("series_id must be integers (ids from Store.upsert_inventory).")
    if t.size and not np.issubdtype(t.dtype, np.integer):
        if not np.all(np.isfinite(t)) or not np.all(t == np.floor(t)):
            raise StoreInputError("ts must be whole UTC epoch seconds; round them before writing.")
    t = t.astype(np.int64)
    if t.size and (t.min() < 0 or t.max() > 2**32):
        raise StoreInputError(f"ts out of range ({t.min()}..{t.max()}); timestamps are UTC epoch seconds.")
    if np.isinf(v).any():
        raise StoreInputError(f"{int(np.isinf(v).sum())} values are infinite; fix the source "
                              f"(NaN means 'no value' and is skipped).")
    keep = ~np.isnan(v)
    # + 0.0 turns -0.0 into 0.0: one stored form per value, so rewrites are byte-identical
    return sid.astype(np.int64)[keep], t[keep], v[keep] + 0.0


def sort_dedupe(sid: np.ndarray, ts: np.ndarray, *cols: np.ndarray):
    """Sort by (series, ts) and keep the last of duplicated (series, ts) pairs."""
    n = len(sid)
    if n > 1:
        ordered = np.all((sid[1:] > sid[:-1]) | ((sid[1:] == sid[:-1]) & (ts[1:] > ts[:-1])))
        if not ordered:
            order = np.lexsort((np.arange(n), ts, sid))
            sid, ts = sid[order], ts[order]
            cols = tuple(c[order] for c in cols)
            last = np.ones(n, bool)
            last[:-1] = (sid[1:] != sid[:-1]) | (ts[1:] != ts[:-1])
            sid, ts = sid[last], ts[last]
            cols = tuple(c[last] for c in cols)
    return (sid, ts, *cols)


def _bounds(*keys: np.ndarray) -> np.ndarray:
    n = len(keys[0])
    change = np.zeros(n, bool)
    if n:
        change[0] = True
        for k in keys:
            change[1:] |= k[1:] != k[:-1]
    return np.concatenate([np.flatnonzero(change), [n]]).astype(np.int64)


def _fetch_existing(conn: Connection, table: str, keycol: str, sids: np.ndarray, keys: np.ndarray,
                    extra: str = "") -> dict[tuple[int, int], bytes]:
    """Existing rows for (series, key) pairs, read by the key's range then filtered."""
    if not len(sids):
        return {}
    lo, hi = int(keys.min()), int(keys.max())
    slo, shi = int(sids.min()), int(sids.max())
    sql = (f"SELECT series_id, {keycol}, data{extra} FROM {table} WHERE {keycol} >= ? AND {keycol} <= ? "
           f"AND series_id >= ? AND series_id <= ?")
    rows = conn.exec_driver_sql(_sql(conn, sql), (lo, hi, slo, shi)).fetchall()
    if not rows:
        return {}
    wanted = set(zip(sids.tolist(), keys.tolist()))
    return {(r[0], r[1]): bytes(r[2]) for r in rows if (r[0], r[1]) in wanted}


PRUNED_KEY = "raw.pruned_before"   # meta: raw chunks of hours before this were pruned


def pruned_before(conn: Connection) -> int | None:
    row = conn.exec_driver_sql(_sql(conn, "SELECT value FROM meta WHERE key = ?"), (PRUNED_KEY,)).first()
    return int(row[0]) if row else None


def write_samples(conn: Connection, series_id, ts, value, known=None, pruned: int | None = None) -> tuple[int, dict]:
    """Write raw samples; returns (samples written, rollup arrays of the touched hours).

    ``known(ids) -> unknown ids`` checks the series exist before anything is written. Samples of
    an hour before ``pruned`` (the raw tier was pruned there) whose raw chunk is gone are merged
    into that hour's rollup (:func:`_merge_late`) instead of replacing it.
    """
    sid, t, v = _as_arrays(series_id, ts, value)
    if not len(sid):
        return 0, {}
    sid, t, v = sort_dedupe(sid, t, v)
    lock_blocks(conn, np.unique(sid // LATEST_BLOCK).tolist())
    hour = t - t % HOUR
    b = _bounds(sid, hour)
    starts = b[:-1]
    c_sid, c_hour = sid[starts], hour[starts]
    if known is not None:
        unknown = known(np.unique(c_sid))
        if len(unknown):
            raise StoreInputError(f"unknown series id {', '.join(map(str, unknown[:5]))}"
                                  f"{' ...' if len(unknown) > 5 else ''}; use the ids Store.upsert_inventory "
                                  f"returned.")
    existing = _fetch_existing(conn, "raw_chunks", "hour", c_sid, c_hour)
    if pruned is not None and (c_hour < pruned).any():
        gone = c_hour < pruned
        if existing:
            gone &= ~np.array([k in existing for k in zip(c_sid.tolist(), c_hour.tolist())])
        if gone.any():
            in_gone = np.repeat(gone, np.diff(b))
            _merge_late(conn, c_sid[gone], c_hour[gone], sid[in_gone], t[in_gone], v[in_gone], b, gone)
            sid, t, v = sid[~in_gone], t[~in_gone], v[~in_gone]
            if not len(sid):
                return int(in_gone.sum()), {}
            hour = t - t % HOUR
            b = _bounds(sid, hour)
            starts = b[:-1]
            c_sid, c_hour = sid[starts], hour[starts]
    offsets = t - hour
    if existing:
        sid, offsets, v, b, c_sid, c_hour = _merge_existing(existing, sid, offsets, v, hour, b, c_sid, c_hour)
        starts = b[:-1]
    blobs = codec.encode_raw_chunks(offsets, v, b)
    lengths = np.diff(b)
    rows = list(zip(c_sid.tolist(), c_hour.tolist(), lengths.tolist(), blobs))
    upsert_rows(conn, "raw_chunks", ("series_id", "hour", "n", "data"), ("series_id", "hour"), rows)
    roll = {
        "series_id": c_sid, "hour": c_hour,
        "min": np.minimum.reduceat(v, starts), "max": np.maximum.reduceat(v, starts),
        "avg": np.add.reduceat(v, starts) / lengths, "count": lengths,
    }
    el_ts = np.repeat(c_hour, lengths) + offsets
    s_last = np.concatenate([sid[1:] != sid[:-1], [True]])
    update_latest(conn, sid[s_last], el_ts[s_last], v[s_last])
    write_rollup_hours(conn, roll["series_id"], roll["hour"], roll["min"], roll["avg"], roll["max"], roll["count"])
    return int(len(t)), roll


def _merge_existing(existing, sid, offsets, v, hour, b, c_sid, c_hour):
    keys = list(existing)
    lengths, o_old, v_old = codec.decode_raw_chunks([existing[k] for k in keys])
    k_sid = np.repeat(np.array([k[0] for k in keys], np.int64), lengths)
    k_hour = np.repeat(np.array([k[1] for k in keys], np.int64), lengths)
    # old first, new second: after a stable sort the new sample is the last of a duplicate pair
    all_sid = np.concatenate([k_sid, sid])
    all_hour = np.concatenate([k_hour, hour])
    all_off = np.concatenate([o_old, offsets])
    all_v = np.concatenate([v_old, v])
    order = np.lexsort((np.arange(len(all_sid)), all_off, all_hour, all_sid))
    all_sid, all_hour, all_off, all_v = all_sid[order], all_hour[order], all_off[order], all_v[order]
    last = np.ones(len(all_sid), bool)
    last[:-1] = (all_sid[1:] != all_sid[:-1]) | (all_hour[1:] != all_hour[:-1]) | (all_off[1:] != all_off[:-1])
    all_sid, all_hour, all_off, all_v = all_sid[last], all_hour[last], all_off[last], all_v[last]
    nb = _bounds(all_sid, all_hour)
    return all_sid, all_off, all_v, nb, all_sid[nb[:-1]], all_hour[nb[:-1]]


def _merge_late(conn: Connection, g_sid, g_hour, sid, t, v, b, gone) -> None:
    """Late samples for hours whose raw chunks were pruned: merged into the hour's rollup (count
    weighted mean, min, max), so the 59 samples the rollup already summarises are not lost.
    (Without the raw chunk a sample sent twice there counts twice.)"""
    lengths = np.diff(b)[gone]
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    n_min = np.minimum.reduceat(v, starts)
    n_max = np.maximum.reduceat(v, starts)
    n_sum = np.add.reduceat(v, starts)
    day = g_hour - g_hour % DAY
    pairs = np.unique(np.stack([g_sid, day]), axis=1)
    r_sid, r_day, slot, rmin, ravg, rmax, rcnt = _rollup_rows(conn, pairs[0], pairs[1])
    o_min, o_avg, o_max = (np.full(len(g_sid), np.nan) for _ in range(3))
    o_cnt = np.zeros(len(g_sid), np.int64)
    where = {(a, h): i for i, (a, h) in enumerate(zip(r_sid.tolist(), (r_day + slot * HOUR).tolist()))}
    for j, key in enumerate(zip(g_sid.tolist(), g_hour.tolist())):
        i = where.get(key)
        if i is not None:
            o_min[j], o_avg[j], o_max[j], o_cnt[j] = rmin[i], ravg[i], rmax[i], rcnt[i]
    count = o_cnt + lengths
    had = o_cnt > 0
    vmin = np.where(had, np.fmin(o_min, n_min), n_min)
    vmax = np.where(had, np.fmax(o_max, n_max), n_max)
    vavg = (np.where(had, o_avg * o_cnt, 0.0) + n_sum) / count
    write_rollup_hours(conn, g_sid, g_hour, vmin, vavg, vmax, count)
    s_last = np.concatenate([sid[1:] != sid[:-1], [True]])
    update_latest(conn, sid[s_last], t[s_last], v[s_last])


def _rollup_rows(conn: Connection, sids: np.ndarray, days: np.ndarray) -> tuple[np.ndarray, ...]:
    """The hours already stored in the day rows of (series, day) pairs:
    (series_id, day, slot, min, avg, max, count), one entry per stored hour."""
    existing = _fetch_existing(conn, "rollup_days", "day", sids, days)
    keys = list(existing)
    lengths, slot, vmin, vavg, vmax, cnt = codec.decode_rollup_days([existing[k] for k in keys])
    sid = np.repeat(np.array([k[0] for k in keys], np.int64), lengths)
    day = np.repeat(np.array([k[1] for k in keys], np.int64), lengths)
    return sid, day, slot, vmin, vavg, vmax, cnt


def write_rollup_hours(conn: Connection, sid, hour, vmin, vavg, vmax, count) -> int:
    """Upsert hourly rollups into their day rows (merging with the hours already there)."""
    sid = np.asarray(sid, np.int64)
    hour = np.asarray(hour, np.int64)
    if not len(sid):
        return 0
    if (hour % HOUR).any():
        raise StoreInputError("rollup timestamps must be hour starts (ts % 3600 == 0).")
    vmin, vavg, vmax = (np.asarray(x, np.float64) for x in (vmin, vavg, vmax))
    count = np.asarray(count, np.int64)
    bad = ~(np.isfinite(vmin) & np.isfinite(vavg) & np.isfinite(vmax))
    if bad.any():
        keep = ~bad
        sid, hour, vmin, vavg, vmax, count = sid[keep], hour[keep], vmin[keep], vavg[keep], vmax[keep], count[keep]
    lock_blocks(conn, np.unique(sid // LATEST_BLOCK).tolist())
    day = hour - hour % DAY
    slot = (hour - day) // HOUR
    pairs = np.unique(np.stack([sid, day]), axis=1) if len(sid) else np.zeros((2, 0), np.int64)
    o_sid, o_day, o_slot, o_min, o_avg, o_max, o_cnt = _rollup_rows(conn, pairs[0], pairs[1])
    if len(o_sid):
        sid = np.concatenate([o_sid, sid])
        day = np.concatenate([o_day, day])
        slot = np.concatenate([o_slot, slot])
        vmin, vavg, vmax = (np.concatenate(p) for p in ((o_min, vmin), (o_avg, vavg), (o_max, vmax)))
        count = np.concatenate([o_cnt, count])
    order = np.lexsort((np.arange(len(sid)), slot, day, sid))
    sid, day, slot, vmin, vavg, vmax, count = (x[order] for x in (sid, day, slot, vmin, vavg, vmax, count))
    last = np.ones(len(sid), bool)
    last[:-1] = (sid[1:] != sid[:-1]) | (day[1:] != day[:-1]) | (slot[1:] != slot[:-1])
    sid, day, slot, vmin, vavg, vmax, count = (x[last] for x in (sid, day, slot, vmin, vavg, vmax, count))
    b = _bounds(sid, day)
    blobs = codec.encode_rollup_days(b, slot, vmin, vavg, vmax, count)
    rows = list(zip(sid[b[:-1]].tolist(), day[b[:-1]].tolist(), blobs))
    upsert_rows(conn, "rollup_days", ("series_id", "day", "data"), ("series_id", "day"), rows)
    return len(rows)


def update_latest(conn: Connection, sid: np.ndarray, ts: np.ndarray, value: np.ndarray) -> None:
    """Keep the newest (ts, value) per series in dense blocks of 4096 series."""
    if not len(sid):
        return
    block = sid // LATEST_BLOCK
    wanted = np.unique(block).tolist()
    lo, hi = min(wanted), max(wanted)
    rows = conn.exec_driver_sql(_sql(conn, "SELECT block, data FROM latest_blocks WHERE block >= ? AND block <= ?"),
                                (lo, hi)).fetchall()
    have = {r[0]: bytes(r[1]) for r in rows}
    out = []
    for blk in wanted:
        ts_arr, val_arr = decode_latest_block(have.get(blk))
        sel = block == blk
        pos = sid[sel] - blk * LATEST_BLOCK
        newer = ts[sel] >= ts_arr[pos]
        ts_arr[pos[newer]] = ts[sel][newer]
        val_arr[pos[newer]] = value[sel][newer]
        out.append((blk, ts_arr.astype("<i8").tobytes() + val_arr.astype("<f8").tobytes()))
    upsert_rows(conn, "latest_blocks", ("block", "data"), ("block",), out)


def decode_latest_block(blob: bytes | None) -> tuple[np.ndarray, np.ndarray]:
    if blob is None:
        return np.full(LATEST_BLOCK, -1, np.int64), np.full(LATEST_BLOCK, np.nan)
    ts = np.frombuffer(blob[:8 * LATEST_BLOCK], "<i8").astype(np.int64)
    val = np.frombuffer(blob[8 * LATEST_BLOCK:], "<f8").astype(np.float64)
    return ts, val
