"""Binary chunk codecs for the two tiers.

Raw tier: one row per (series, hour) holding every sample of that hour. Timestamps are offsets
from the hour start: a regular series is stored as (first, step) in 4 bytes, an irregular one as
16-bit deltas. Values are scaled integers when they have at most 4 decimals (Zabbix keeps 4),
delta + zigzag encoded at the narrowest of 1/2/4/8 bytes (the first value, which is not a delta,
gets its own width so a large level does not widen every delta), else float64. Lossless: a chunk
whose scaled integers would not give back every value exactly is stored as float64.

Rollup tier: one row per (series, UTC day) holding up to 24 hourly (min, avg, max, count)
slots, zlib-compressed. ``avg`` is rounded to 4 decimals, like Zabbix trends.

Raw encoding and decoding are vectorised over many chunks at once: callers pass concatenated
arrays sorted by chunk plus the chunk boundaries; per chunk only a header is packed in Python.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

MAX_DECIMALS = 4
_SCALE = 10.0 ** np.arange(MAX_DECIMALS + 1)
_WIDTHS = (np.dtype("<i1"), np.dtype("<i2"), np.dtype("<i4"), np.dtype("<i8"))
# n, width code (bits 0-2: 0..3 ints, 4 = float64; bits 3-4: width of the first value), decimals,
# ts mode (0 regular, 1 deltas), first offset, step
_RAW_HDR = struct.Struct("<HBBBHH")
FLOAT_CODE = 4


def decimals_per_value(values: np.ndarray) -> np.ndarray:
    """Smallest d in 0..4 with round(v * 10**d) / 10**d == v, else -1 (int8 array)."""
    out = np.full(values.shape, -1, dtype=np.int8)
    with np.errstate(invalid="ignore", over="ignore"):
        finite = np.isfinite(values) & (np.abs(values) < 1e13)
        is_int = finite & (np.round(values) == values)
    out[is_int] = 0
    rest = np.flatnonzero(finite & ~is_int)
    if rest.size:
        sub = values[rest]
        found = np.full(rest.shape, -1, dtype=np.int8)
        for d in range(MAX_DECIMALS, 0, -1):
            ok = np.round(sub * _SCALE[d]) / _SCALE[d] == sub
            found[ok] = d
        out[rest] = found
    return out


def _within_chunk_deltas(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    d = np.empty_like(x)
    if len(x):
        d[0] = x[0]
        np.subtract(x[1:], x[:-1], out=d[1:])
        d[starts] = x[starts]
    return d


def encode_raw_chunks(offsets: np.ndarray, values: np.ndarray, bounds: np.ndarray) -> list[bytes]:
    """Encode chunks.

    Args:
        offsets: seconds from each chunk's hour start (0..3599), strictly increasing per chunk.
        values: float64 values aligned with ``offsets``.
        bounds: start index of every chunk, then the total length.
    """
    starts = bounds[:-1].astype(np.int64)
    nchunks = len(starts)
    if nchunks == 0:
        return []
    lengths = np.diff(bounds).astype(np.int64)
    values = np.asarray(values, dtype=np.float64)
    dec_el = decimals_per_value(values)
    is_float = np.minimum.reduceat(dec_el, starts) < 0
    dec = np.maximum.reduceat(dec_el, starts).astype(np.int64)
    dec[is_float] = 0
    scale = np.repeat(_SCALE[dec], lengths)
    ints = np.zeros(len(values), dtype=np.int64)
    float_el = np.repeat(is_float, lengths)
    ints[~float_el] = np.round(values[~float_el] * scale[~float_el]).astype(np.int64)
    # the chunk's common scale must give back every value exactly (x/10**d is not always exact)
    inexact = ~float_el & (ints / scale != values)
    if inexact.any():
        bad = np.zeros(nchunks, bool)
        bad[np.repeat(np.arange(nchunks), lengths)[inexact]] = True
        is_float |= bad
        dec[bad] = 0
        float_el = np.repeat(is_float, lengths)
        ints[float_el] = 0
    deltas = _within_chunk_deltas(ints, starts)
    zz = (deltas << 1) ^ (deltas >> 63)
    zfirst = zz[starts].copy()
    zz[starts] = 0
    zmax = np.maximum.reduceat(zz, starts)
    code = _width_code(zmax)
    code[is_float] = FLOAT_CODE
    fcode = _width_code(zfirst)
    fcode[is_float] = 0
    offs = offsets.astype(np.int64)
    od = _within_chunk_deltas(offs, starts)
    # regular: every delta after the first equals the second element's delta
    second = np.where(lengths > 1, od[np.minimum(starts + 1, len(od) - 1)], 0)
    dev = np.abs(od - np.repeat(second, lengths))
    dev[starts] = 0
    regular = np.maximum.reduceat(dev, starts) == 0
    od_bytes = od.astype("<u2").tobytes()
    by_code = {c: zz.astype(_WIDTHS[c]).tobytes() for c in range(4) if (code == c).any()}
    first_by_code = {c: zfirst.astype(_WIDTHS[c]).tobytes() for c in range(4) if (fcode == c).any()}
    if is_float.any():
        by_code[FLOAT_CODE] = values.astype("<f8").tobytes()
    pack = _RAW_HDR.pack
    out = []
    append = out.append
    s_l, n_l, c_l, d_l, r_l = starts.tolist(), lengths.tolist(), code.tolist(), dec.tolist(), regular.tolist()
    f_l = fcode.tolist()
    first_l, step_l = offs[starts].tolist(), second.tolist()
    for i in range(nchunks):
        a, n, c = s_l[i], n_l[i], c_l[i]
        if c == FLOAT_CODE:
            body = by_code[c][a * 8:(a + n) * 8]
            hc = c
        else:
            w, fc = 1 << c, f_l[i]
            fw = 1 << fc
            body = first_by_code[fc][i * fw:(i + 1) * fw] + by_code[c][(a + 1) * w:(a + n) * w]
            hc = c | fc << 3
        if r_l[i]:
            append(pack(n, hc, d_l[i], 0, first_l[i], step_l[i]) + body)
        else:
            append(pack(n, hc, d_l[i], 1, first_l[i], 0) + od_bytes[a * 2:(a + n) * 2] + body)
    return out


def _width_code(zz: np.ndarray) -> np.ndarray:
    """0..3 for the narrowest of 1/2/4/8 bytes that holds each (non-negative) zigzag value."""
    return np.select([zz < 2**7, zz < 2**15, zz < 2**31], [0, 1, 2], 3)


def decode_raw_chunks(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode many chunks -> (lengths, offsets, values) concatenated in blob order."""
    m = len(blobs)
    if m == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    unpack = _RAW_HDR.unpack_from
    hsize = _RAW_HDR.size
    lengths = np.empty(m, np.int64)
    codes = np.empty(m, np.int64)
    decs = np.empty(m, np.int64)
    firsts = np.empty(m, np.int64)
    steps = np.empty(m, np.int64)
    regular = np.empty(m, bool)
    fcodes = np.zeros(m, np.int64)
    parts: dict[int, list[bytes]] = {0: [], 1: [], 2: [], 3: [], FLOAT_CODE: []}
    first_parts: dict[int, list[bytes]] = {0: [], 1: [], 2: [], 3: []}
    ts_parts: list[bytes] = []
    for i, blob in enumerate(blobs):
        n, hc, d, mode, first, step = unpack(blob, 0)
        c = hc & 7
        lengths[i], codes[i], decs[i], firsts[i], steps[i] = n, c, d, first, step
        regular[i] = mode == 0
        pos = hsize
        if mode:
            pos += 2 * n
            ts_parts.append(blob[hsize:pos])
        if c == FLOAT_CODE:
            parts[c].append(blob[pos:])
        else:
            fc = hc >> 3
            fcodes[i] = fc
            fw = 1 << fc
            first_parts[fc].append(blob[pos:pos + fw])
            parts[c].append(blob[pos + fw:])
    total = int(lengths.sum())
    bounds = np.zeros(m + 1, np.int64)
    np.cumsum(lengths, out=bounds[1:])
    starts = bounds[:-1]
    el_chunk = np.repeat(np.arange(m), lengths)
    el_code = codes[el_chunk]
    raw = np.zeros(total, np.int64)
    fvals = np.zeros(total, np.float64)
    is_start = np.zeros(total, bool)
    is_start[starts] = True
    int_chunk = codes != FLOAT_CODE
    for c, plist in parts.items():
        if not plist:
            continue
        if c == FLOAT_CODE:
            fvals[el_code == c] = np.frombuffer(b"".join(plist), dtype="<f8")
        else:
            raw[(el_code == c) & ~is_start] = np.frombuffer(b"".join(plist), dtype=_WIDTHS[c])
    for fc, plist in first_parts.items():
        if plist:
            raw[starts[int_chunk & (fcodes == fc)]] = np.frombuffer(b"".join(plist), dtype=_WIDTHS[fc])
    deltas = (raw >> 1) ^ -(raw & 1)
    csum = np.cumsum(deltas)
    base = np.where(starts > 0, csum[np.maximum(starts - 1, 0)], 0)
    ints = csum - np.repeat(base, lengths)
    values = ints / _SCALE[np.repeat(decs, lengths)]
    is_f = el_code == FLOAT_CODE
    values[is_f] = fvals[is_f]
    idx = np.arange(total) - np.repeat(starts, lengths)
    offsets = np.repeat(firsts, lengths) + idx * np.repeat(steps, lengths)
    if not regular.all():
        irr = ~regular[el_chunk]
        od = np.frombuffer(b"".join(ts_parts), dtype="<u2").astype(np.int64)
        irr_starts_mask = np.zeros(total, bool)
        irr_starts_mask[starts[~regular]] = True
        # cumulative sum restarted at each irregular chunk's start
        sub_starts = np.flatnonzero(irr_starts_mask[irr])
        c2 = np.cumsum(od)
        base2 = np.where(sub_starts > 0, c2[np.maximum(sub_starts - 1, 0)], 0)
        offsets[irr] = c2 - np.repeat(base2, lengths[~regular])
    return lengths, offsets, values


def decode_raw_chunk(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """One chunk -> (offsets, values)."""
    _, offsets, values = decode_raw_chunks([blob])
    return offsets, values


# ------------------------------------------------------------- rollup days
def encode_rollup_day(slots: np.ndarray, vmin: np.ndarray, vavg: np.ndarray, vmax: np.ndarray,
                      count: np.ndarray) -> bytes:
    """One day row: ``slots`` are hours 0..23 (sorted, unique), the rest aligned with them."""
    n = len(slots)
    mask = 0
    for s in np.asarray(slots, dtype=np.int64).tolist():
        mask |= 1 << s
    vals = np.concatenate([vmin, np.round(vavg, MAX_DECIMALS), vmax]).astype(np.float64)
    body = encode_raw_chunks(np.arange(3 * n) % 3600, vals, np.array([0, 3 * n]))[0] if n else b""
    payload = struct.pack("<IB", mask, n) + np.minimum(count, 65535).astype("<u2").tobytes() + body
    return zlib.compress(payload, 1)


def decode_rollup_day(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-> (slots, min, avg, max, count)."""
    buf = zlib.decompress(blob)
    mask, n = struct.unpack_from("<IB", buf, 0)
    slots = np.flatnonzero((mask >> np.arange(24)) & 1)
    count = np.frombuffer(buf[5:5 + 2 * n], dtype="<u2").astype(np.int64)
    if n == 0:
        e = np.zeros(0)
        return slots, e, e, e, count
    _, vals = decode_raw_chunk(buf[5 + 2 * n:])
    return slots, vals[:n], vals[n:2 * n], vals[2 * n:], count


def decode_rollup_days(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray, np.ndarray]:
    """Many day rows -> (lengths, slots, min, avg, max, count) concatenated in blob order."""
    m = len(blobs)
    lengths = np.zeros(m, np.int64)
    slot_parts, count_parts, bodies = [], [], []
    ar = np.arange(24)
    for i, blob in enumerate(blobs):
        buf = zlib.decompress(blob)
        mask, n = struct.unpack_from("<IB", buf, 0)
        lengths[i] = n
        slot_parts.append(ar[((mask >> ar) & 1).astype(bool)])
        count_parts.append(buf[5:5 + 2 * n])
        bodies.append(buf[5 + 2 * n:])
    if not lengths.sum():
        e = np.zeros(0)
        return lengths, e.astype(np.int64), e, e, e, e.astype(np.int64)
    keep = [b for b, n in zip(bodies, lengths) if n]
    _, _, vals = decode_raw_chunks(keep)
    slots = np.concatenate(slot_parts)
    count = np.frombuffer(b"".join(count_parts), dtype="<u2").astype(np.int64)
    # vals is [min..., avg..., max...] per blob: reorder
    n3 = np.repeat(lengths[lengths > 0], 1)
    starts = np.concatenate([[0], np.cumsum(3 * n3)[:-1]])
    pos_in = np.arange(int(lengths.sum())) - np.repeat(np.concatenate([[0], np.cumsum(n3)[:-1]]), n3)
    base = np.repeat(starts, n3) + pos_in
    nn = np.repeat(n3, n3)
    return lengths, slots, vals[base], vals[base + nn], vals[base + 2 * nn], count


def encode_rollup_days(bounds: np.ndarray, slots: np.ndarray, vmin: np.ndarray, vavg: np.ndarray,
                       vmax: np.ndarray, count: np.ndarray) -> list[bytes]:
    """Vectorised :func:`encode_rollup_day` for many rows; ``bounds`` delimit rows in the arrays."""
    starts = bounds[:-1].astype(np.int64)
    lengths = np.diff(bounds).astype(np.int64)
    m = len(starts)
    if m == 0:
        return []
    row = np.repeat(np.arange(m), lengths)
    masks = np.zeros(m, np.int64)
    np.bitwise_or.at(masks, row, np.left_shift(1, slots.astype(np.int64)))
    # per row values laid out as [min..., avg..., max...]
    n_el = len(slots)
    order = np.empty(3 * n_el, np.int64)
    vals = np.empty(3 * n_el, np.float64)
    pos = np.arange(n_el) - np.repeat(starts, lengths)
    base3 = np.repeat(3 * starts, lengths)
    for k, arr in enumerate((vmin, np.round(vavg, MAX_DECIMALS), vmax)):
        idx = base3 + k * np.repeat(lengths, lengths) + pos
        vals[idx] = arr
        order[idx] = 0
    bodies = encode_raw_chunks(np.zeros(3 * n_el, np.int64) + (np.arange(3 * n_el) - np.repeat(3 * starts, 3 * lengths)) % 3600,
                               vals, np.concatenate([3 * starts, [3 * n_el]]))
    cnt = np.minimum(count, 65535).astype("<u2").tobytes()
    out = []
    compress = zlib.compress
    s_l, n_l, m_l = starts.tolist(), lengths.tolist(), masks.tolist()
    for i in range(m):
        a, n = s_l[i], n_l[i]
        out.append(compress(struct.pack("<IB", m_l[i], n) + cnt[2 * a:2 * (a + n)] + bodies[i], 1))
    return out
