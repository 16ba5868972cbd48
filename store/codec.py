"""Binary chunk codecs for the two tiers.

Raw tier: one row per (series, hour) holding every sample of that hour. Timestamps are offsets
from the hour start: a regular series is stored as (first, step) in 4 bytes, an irregular one as
16-bit deltas. Values are scaled integers when they have at most 4 decimals (Zabbix keeps 4),
delta + zigzag encoded at the narrowest of 1/2/4/8 bytes (the first value, which is not a delta,
gets its own width so a large level does not widen every delta), else float64. Lossless: a chunk
whose scaled integers would not give back every value exactly is stored as float64.

Rollup tier: one row per (series, UTC day) holding up to 24 hourly (min, avg, max, count)
slots. ``avg`` is rounded to 4 decimals (like Zabbix trends, so its chain stays narrow) only where
that keeps it within ``AVG_RTOL`` of the true mean: a low rate such as one timeout an hour
(0.000278/s) is kept as it is, not turned into 0.0003.

Raw encoding and decoding are vectorised over many chunks at once: callers pass concatenated
arrays sorted by chunk plus the chunk boundaries; per chunk only a header is packed in Python.
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

MAX_DECIMALS = 4
#: the largest relative change rounding a rollup average to MAX_DECIMALS may make
AVG_RTOL = 1e-9
_SCALE = 10.0 ** np.arange(MAX_DECIMALS + 1)
_WIDTHS = (np.dtype("<i1"), np.dtype("<i2"), np.dtype("<i4"), np.dtype("<i8"))
# n, width code (bits 0-2: 0..3 ints, 4 = float64; bits 3-4: width of the first value), decimals,
# ts mode (0 regular, 1 deltas), first offset, step
_RAW_HDR = struct.Struct("<HBBBHH")
_HDR_DTYPE = np.dtype([("n", "<u2"), ("hc", "u1"), ("dec", "u1"), ("mode", "u1"), ("first", "<u2"), ("step", "<u2")])
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
    bounds = np.asarray(bounds, np.int64)
    values = np.asarray(values, dtype=np.float64)
    offsets = np.asarray(offsets)
    out: list[bytes] = []
    for a in range(0, len(bounds) - 1, ENCODE_BATCH):  # cache-sized passes
        b = bounds[a:a + ENCODE_BATCH + 1]
        lo, hi = int(b[0]), int(b[-1])
        out.extend(_encode_raw_batch(offsets[lo:hi], values[lo:hi], b - lo))
    return out


ENCODE_BATCH = 4096


def _encode_raw_batch(offsets: np.ndarray, values: np.ndarray, bounds: np.ndarray) -> list[bytes]:
    starts = bounds[:-1]
    nchunks = len(starts)
    lengths = np.diff(bounds)
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
    width = np.where(is_float, 8, 1 << np.minimum(code, 3))
    fwidth = np.where(is_float, 8, 1 << fcode)
    irregular = ~regular
    size = _RAW_HDR.size + np.where(irregular, 2 * lengths, 0) + fwidth + (lengths - 1) * width
    chunk_off = np.zeros(nchunks, np.int64)
    np.cumsum(size[:-1], out=chunk_off[1:])
    out = np.zeros(int(chunk_off[-1] + size[-1]), np.uint8)
    hdr = np.zeros(nchunks, _HDR_DTYPE)
    hdr["n"], hdr["hc"], hdr["dec"], hdr["mode"] = lengths, code | (fcode << 3), dec, irregular
    hdr["first"], hdr["step"] = offs[starts], np.where(regular, second, 0)
    out[chunk_off[:, None] + np.arange(_RAW_HDR.size)] = hdr.view(np.uint8).reshape(nchunks, _RAW_HDR.size)
    el_chunk = np.repeat(np.arange(nchunks), lengths)
    idx = np.arange(len(values)) - starts[el_chunk]
    first_el = idx == 0
    body = chunk_off + _RAW_HDR.size + np.where(irregular, 2 * lengths, 0)
    pos = body[el_chunk] + np.where(first_el, 0, fwidth[el_chunk] + (idx - 1) * width[el_chunk])
    el_width = np.where(first_el, fwidth[el_chunk], width[el_chunk])
    el_float = is_float[el_chunk]
    zz[starts] = zfirst
    for w, dtype in ((1, "<i1"), (2, "<i2"), (4, "<i4"), (8, "<i8")):
        sel = np.flatnonzero((el_width == w) & ~el_float)
        if len(sel):
            _scatter(out, pos[sel], zz[sel].astype(dtype), w)
    if is_float.any():
        sel = np.flatnonzero(el_float)
        _scatter(out, pos[sel], values[sel].astype("<f8"), 8)
    if irregular.any():
        sel = np.flatnonzero(irregular[el_chunk])
        _scatter(out, (chunk_off + _RAW_HDR.size)[el_chunk[sel]] + 2 * idx[sel], od[sel].astype("<u2"), 2)
    buf = out.tobytes()
    return [buf[a:b] for a, b in zip(chunk_off.tolist(), (chunk_off + size).tolist())]


def _scatter(out: np.ndarray, pos: np.ndarray, vals: np.ndarray, width: int) -> None:
    """Write ``vals`` (``width`` bytes each) at byte positions ``pos`` of ``out`` (the inverse of
    :func:`_gather`)."""
    if width == 1:
        out[pos] = vals.view(np.uint8)
        return
    r = pos % width
    for k in range(width):
        sel = np.flatnonzero(r == k)
        if len(sel):
            view = out[k:k + (len(out) - k) // width * width].view(vals.dtype)
            view[(pos[sel] - k) // width] = vals[sel]


def _width_code(zz: np.ndarray) -> np.ndarray:
    """0..3 for the narrowest of 1/2/4/8 bytes that holds each (non-negative) zigzag value."""
    return np.select([zz < 2**7, zz < 2**15, zz < 2**31], [0, 1, 2], 3)


def _joined(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """All blobs in one uint8 array and each blob's start in it."""
    lens = np.fromiter(map(len, blobs), np.int64, len(blobs))
    off = np.zeros(len(blobs), np.int64)
    np.cumsum(lens[:-1], out=off[1:])
    return np.frombuffer(b"".join(blobs), np.uint8), off


def _uint(u8: np.ndarray, pos: np.ndarray, width: int) -> np.ndarray:
    """Little-endian unsigned integers of ``width`` bytes at byte positions ``pos``."""
    out = u8[pos].astype(np.int64)
    for k in range(1, width):
        out |= u8[pos + k].astype(np.int64) << (8 * k)
    return out


def _gather(u8: np.ndarray, pos: np.ndarray, width: int, dtype: str) -> np.ndarray:
    """Values of ``width`` bytes at byte positions ``pos``, read as ``dtype``: one typed view of
    the buffer per alignment, so each value is a single 1-D fancy index."""
    if width == 1:
        return u8[pos].view(dtype)
    out = np.empty(len(pos), dtype)
    r = pos % width
    for k in range(width):
        sel = np.flatnonzero(r == k)
        if len(sel):
            view = u8[k:k + (len(u8) - k) // width * width].view(dtype)
            out[sel] = view[(pos[sel] - k) // width]
    return out


def decode_raw_chunks(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode many chunks -> (lengths, offsets, values) concatenated in blob order."""
    if not blobs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64)
    u8, off = _joined(blobs)
    return decode_raw_buffer(u8, off)


DECODE_BATCH = 1024  # chunks per pass: keeps the temporaries in the CPU cache


def decode_raw_buffer(u8: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode the chunks starting at byte positions ``off`` of ``u8``; no per-chunk Python."""
    if len(off) <= DECODE_BATCH:
        return _decode_raw_batch(u8, off)
    parts = [_decode_raw_batch(u8, off[a:a + DECODE_BATCH]) for a in range(0, len(off), DECODE_BATCH)]
    return tuple(np.concatenate(p) for p in zip(*parts))


def _decode_raw_batch(u8: np.ndarray, off: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = _uint(u8, off, 2)
    hc = u8[off + 2].astype(np.int64)
    decs, irregular = u8[off + 3].astype(np.int64), u8[off + 4] == 1
    firsts, steps = _uint(u8, off + 5, 2), _uint(u8, off + 7, 2)
    is_float = (hc & 7) == FLOAT_CODE
    width = np.where(is_float, 8, 1 << (hc & 7))
    fwidth = np.where(is_float, 8, 1 << (hc >> 3))
    body = off + _RAW_HDR.size + np.where(irregular, 2 * n, 0)
    total = int(n.sum())
    starts = np.zeros(len(n), np.int64)
    np.cumsum(n[:-1], out=starts[1:])
    el_chunk = np.repeat(np.arange(len(n)), n)
    idx = np.arange(total) - starts[el_chunk]
    first_el = idx == 0
    el_width = np.where(first_el, fwidth[el_chunk], width[el_chunk])
    pos = body[el_chunk] + np.where(first_el, 0, fwidth[el_chunk] + (idx - 1) * width[el_chunk])
    el_float = is_float[el_chunk]
    raw = np.zeros(total, np.int64)
    values = np.empty(total, np.float64)
    for w, dtype in ((1, "<i1"), (2, "<i2"), (4, "<i4"), (8, "<i8")):
        sel = np.flatnonzero((el_width == w) & ~el_float)
        if len(sel):
            raw[sel] = _gather(u8, pos[sel], w, dtype)
    deltas = (raw >> 1) ^ -(raw & 1)
    csum = np.cumsum(deltas)  # wraps on overflow, and the differences below stay exact
    base = np.where(starts > 0, csum[np.maximum(starts - 1, 0)], 0)
    np.divide(csum - base[el_chunk], _SCALE[decs][el_chunk], out=values)
    if is_float.any():
        sel = np.flatnonzero(el_float)
        values[sel] = _gather(u8, pos[sel], 8, "<f8")
    offsets = firsts[el_chunk] + idx * steps[el_chunk]
    if irregular.any():
        sel = np.flatnonzero(irregular[el_chunk])
        od = _uint(u8, (off + _RAW_HDR.size)[el_chunk[sel]] + 2 * idx[sel], 2)
        c2 = np.cumsum(od)
        sub_first = first_el[sel]
        chunk_base = np.maximum.accumulate(np.where(sub_first, np.arange(len(sel)), 0))
        base2 = np.where(chunk_base > 0, c2[np.maximum(chunk_base - 1, 0)], 0)
        offsets[sel] = c2 - base2
    return n, offsets, values


def decode_raw_chunk(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """One chunk -> (offsets, values)."""
    _, offsets, values = decode_raw_chunks([blob])
    return offsets, values


# ------------------------------------------------------------- rollup days
# A day row (version 2): version byte, u32 mask of the hours present, u8 n, n u16 counts, then
# three raw chunks of n values each: mins, avgs, maxes. Separate chains let integer mins and
# maxes stay narrow next to 4-decimal avgs, and let a reader that only needs avgs (aggregates)
# skip the rest. Not zlib-compressed: a year read decodes 365 rows per series and per-row
# decompression dominated. Older rows are still read: version 1 (one chain of mins, avgs and
# maxes) and the first release's zlib streams (first byte 0x78).
_DAY_V1, _DAY_V2 = 1, 2
_DAY_HDR = struct.Struct("<BIB")
_HOURS = np.arange(24)
FIELDS = ("min", "avg", "max")


def encode_rollup_day(slots: np.ndarray, vmin: np.ndarray, vavg: np.ndarray, vmax: np.ndarray,
                      count: np.ndarray) -> bytes:
    """One day row: ``slots`` are hours 0..23 (sorted, unique), the rest aligned with them."""
    slots = np.asarray(slots, dtype=np.int64)
    return encode_rollup_days(np.array([0, len(slots)]), slots, np.asarray(vmin), np.asarray(vavg),
                              np.asarray(vmax), np.asarray(count))[0]


def decode_rollup_day(blob: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-> (slots, min, avg, max, count)."""
    return decode_rollup_days([blob])[1:]


def _chunk_size(u8: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Byte size of the raw chunks starting at ``off`` (from their headers)."""
    n = _uint(u8, off, 2)
    hc = u8[off + 2].astype(np.int64)
    is_float = (hc & 7) == FLOAT_CODE
    width = np.where(is_float, 8, 1 << np.minimum(hc & 7, 3))
    fwidth = np.where(is_float, 8, 1 << (hc >> 3))
    return _RAW_HDR.size + np.where(u8[off + 4] == 1, 2 * n, 0) + fwidth + (n - 1) * width


def _upgrade_day(blob: bytes) -> bytes:
    """A version 1 or zlib row re-encoded as version 2 (old stores; not on the hot path)."""
    buf = blob[1:] if blob[0] == _DAY_V1 else zlib.decompress(blob)
    mask, n = struct.unpack_from("<IB", buf, 0)
    slots = np.flatnonzero((mask >> _HOURS) & 1)
    count = np.frombuffer(buf[5:5 + 2 * n], "<u2").astype(np.int64)
    vals = decode_raw_chunk(buf[5 + 2 * n:])[1] if n else np.zeros(0)
    return encode_rollup_day(slots, vals[:n], vals[n:2 * n], vals[2 * n:], count)


def decode_rollup_days(blobs: list[bytes], fields=FIELDS) -> tuple[np.ndarray, ...]:
    """Many day rows -> (lengths, slots, min, avg, max, count) concatenated in blob order; fields
    not in ``fields`` are not decoded (returned as NaN)."""
    m = len(blobs)
    if m == 0:
        e = np.zeros(0)
        return np.zeros(0, np.int64), e.astype(np.int64), e, e, e, e.astype(np.int64)
    u8, off = _joined(blobs)
    if (u8[off] != _DAY_V2).any():
        blobs = [b if b[0] == _DAY_V2 else _upgrade_day(b) for b in blobs]
        u8, off = _joined(blobs)
    masks = _uint(u8, off + 1, 4)
    lengths = u8[off + 5].astype(np.int64)
    slots = np.nonzero((masks[:, None] >> _HOURS[None, :]) & 1)[1].astype(np.int64)
    row = np.repeat(np.arange(m), lengths)
    starts = np.zeros(m, np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    count = _uint(u8, off[row] + 6 + 2 * (np.arange(len(row)) - starts[row]), 2)
    has = lengths > 0
    chunk = (off + 6 + 2 * lengths)[has]
    out = []
    for name in FIELDS:
        out.append(decode_raw_buffer(u8, chunk)[2] if name in fields else np.full(len(row), np.nan))
        if name != FIELDS[-1]:
            chunk = chunk + _chunk_size(u8, chunk)
    return (lengths, slots, *out, count)


def _rounded_avg(vavg: np.ndarray) -> np.ndarray:
    """Averages rounded to MAX_DECIMALS where that stays within AVG_RTOL, else unchanged."""
    vavg = np.asarray(vavg, np.float64)
    r = np.round(vavg, MAX_DECIMALS)
    return np.where(np.abs(r - vavg) <= AVG_RTOL * np.abs(vavg), r, vavg)


def encode_rollup_days(bounds: np.ndarray, slots: np.ndarray, vmin: np.ndarray, vavg: np.ndarray,
                       vmax: np.ndarray, count: np.ndarray) -> list[bytes]:
    """Encode many day rows; ``bounds`` delimit rows in the (row-sorted, slot-sorted) arrays."""
    bounds = np.asarray(bounds, np.int64)
    starts = bounds[:-1]
    lengths = np.diff(bounds)
    m = len(starts)
    if m == 0:
        return []
    slots = np.asarray(slots, np.int64)
    row = np.repeat(np.arange(m), lengths)
    masks = np.zeros(m, np.int64)
    np.bitwise_or.at(masks, row, np.left_shift(1, slots))
    nonempty = lengths > 0
    chunk_bounds = np.concatenate([starts[nonempty], [bounds[-1]]])
    zeros = np.zeros(len(slots), np.int64)
    chains = [iter(encode_raw_chunks(zeros, np.asarray(v, np.float64), chunk_bounds))
              for v in (vmin, _rounded_avg(vavg), vmax)]
    cnt = np.minimum(count, 65535).astype("<u2").tobytes()
    pack = _DAY_HDR.pack
    out = []
    s_l, n_l, m_l = starts.tolist(), lengths.tolist(), masks.tolist()
    for i in range(m):
        a, n = s_l[i], n_l[i]
        head = pack(_DAY_V2, m_l[i], n) + cnt[2 * a:2 * (a + n)]
        out.append(head + b"".join(next(c) for c in chains) if n else head)
    return out
