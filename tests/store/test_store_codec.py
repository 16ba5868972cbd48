"""Raw chunk and rollup day codecs are lossless (hypothesis) and compact on regular data."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from store import codec

finite = st.floats(allow_nan=False, allow_infinity=False)
decimal_values = st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=4,
                             allow_nan=False, allow_infinity=False).map(float)
huge = st.sampled_from([1e13, -1e13, 9.007199254740993e15, 1.7e308, -1.7e308, 5e-324, 2.0**63, 12345678901.2345])
values = st.one_of(decimal_values, finite, huge, st.integers(-2**53, 2**53).map(float))


@st.composite
def chunk(draw):
    """One hour of samples: irregular or regular offsets, any float values."""
    if draw(st.booleans()):
        offsets = sorted(draw(st.sets(st.integers(0, 3599), min_size=1, max_size=120)))
    else:
        first, step = draw(st.integers(0, 3599)), draw(st.integers(1, 600))
        offsets = list(range(first, 3600, step))[:draw(st.integers(1, 60))]
    kind = draw(st.sampled_from(["mixed", "decimals", "ints"]))
    elem = {"mixed": values, "decimals": decimal_values, "ints": st.integers(-2**40, 2**40).map(float)}[kind]
    vals = draw(st.lists(elem, min_size=len(offsets), max_size=len(offsets)))
    return np.array(offsets, np.int64), np.array(vals, np.float64)


@settings(max_examples=300, deadline=None)
@given(st.lists(chunk(), min_size=1, max_size=6))
def test_raw_chunks_round_trip_losslessly(chunks):
    offsets = np.concatenate([c[0] for c in chunks])
    vals = np.concatenate([c[1] for c in chunks])
    bounds = np.concatenate([[0], np.cumsum([len(c[0]) for c in chunks])])
    blobs = codec.encode_raw_chunks(offsets, vals, bounds)
    lengths, got_off, got_val = codec.decode_raw_chunks(blobs)
    assert lengths.tolist() == [len(c[0]) for c in chunks]
    assert got_off.tolist() == offsets.tolist()
    assert got_val.tolist() == vals.tolist()  # exact float equality, element by element
    for blob, (o, v) in zip(blobs, chunks):  # one at a time decodes the same
        one_off, one_val = codec.decode_raw_chunk(blob)
        assert one_off.tolist() == o.tolist() and one_val.tolist() == v.tolist()


def test_regular_two_decimal_ratios_cost_about_a_byte_per_sample():
    rng = np.random.default_rng(0)
    vals = np.round(0.9 + rng.normal(0, 0.01, 60).cumsum() / 10, 2)
    blob = codec.encode_raw_chunks(np.arange(60) * 60, vals, np.array([0, 60]))[0]
    assert len(blob) <= 60 + 10
    assert codec.decode_raw_chunk(blob)[1].tolist() == vals.tolist()


@st.composite
def rollup_day(draw):
    slots = sorted(draw(st.sets(st.integers(0, 23), min_size=1, max_size=24)))
    n = len(slots)
    lo = draw(st.lists(decimal_values, min_size=n, max_size=n))
    span = draw(st.lists(st.floats(0, 1e9), min_size=n, max_size=n))
    vmin = np.array(lo)
    vmax = vmin + np.array(span)
    vavg = vmin + (vmax - vmin) * draw(st.floats(0, 1))
    count = np.array(draw(st.lists(st.integers(1, 3600), min_size=n, max_size=n)))
    return np.array(slots), vmin, vavg, vmax, count


@settings(max_examples=200, deadline=None)
@given(st.lists(rollup_day(), min_size=1, max_size=5))
def test_rollup_days_round_trip_with_avg_to_four_decimals_within_a_billionth(days):
    for slots, vmin, vavg, vmax, count in days:
        got = codec.decode_rollup_day(codec.encode_rollup_day(slots, vmin, vavg, vmax, count))
        assert got[0].tolist() == slots.tolist()
        assert got[1].tolist() == vmin.tolist() and got[3].tolist() == vmax.tolist()
        assert got[2].tolist() == codec._rounded_avg(vavg).tolist()
        np.testing.assert_allclose(got[2], vavg, rtol=codec.AVG_RTOL, atol=0)
        assert got[4].tolist() == count.tolist()
    # the vectorised encoder and decoder agree with the one-row versions
    bounds = np.concatenate([[0], np.cumsum([len(d[0]) for d in days])])
    cols = [np.concatenate([d[k] for d in days]) for k in range(5)]
    blobs = codec.encode_rollup_days(bounds, *cols)
    assert [codec.decode_rollup_day(b)[2].tolist() for b in blobs] == [codec._rounded_avg(d[2]).tolist() for d in days]
    lengths, slots, vmin, vavg, vmax, count = codec.decode_rollup_days(blobs)
    assert lengths.tolist() == np.diff(bounds).tolist()
    assert slots.tolist() == cols[0].tolist() and vmin.tolist() == cols[1].tolist()
    assert vavg.tolist() == codec._rounded_avg(cols[2]).tolist() and vmax.tolist() == cols[3].tolist()
    assert count.tolist() == cols[4].tolist()
    assert codec.decode_rollup_days(blobs, fields=("avg",))[3].tolist() == vavg.tolist()


def test_a_low_rate_average_is_not_rounded_away():
    """One event an hour is 0.000277.../s: four decimals would say 0.0003 (8% off)."""
    rate = 1 / 3600
    got = codec.decode_rollup_day(codec.encode_rollup_day(np.array([0, 1]), np.array([0.0, 0.0]),
                                                          np.array([rate, 2 * rate]), np.array([1.0, 1.0]),
                                                          np.array([60, 60])))
    assert got[2].tolist() == [rate, 2 * rate]


def test_rollup_rows_written_before_the_version_byte_still_read():
    """Rows from the first store release were zlib(mask, n, counts, body)."""
    import struct
    import zlib

    slots, vmin, vavg, vmax, count = np.array([0, 5]), np.array([1.0, 2.0]), np.array([1.5, 2.5]), \
        np.array([2.0, 3.0]), np.array([60, 59])
    body = codec.encode_raw_chunks(np.arange(6), np.concatenate([vmin, vavg, vmax]), np.array([0, 6]))[0]
    payload = struct.pack("<IB", 0b100001, 2) + count.astype("<u2").tobytes() + body
    legacy, v1 = zlib.compress(payload, 1), b"\x01" + payload   # first release, then version 1
    got = codec.decode_rollup_days([legacy, codec.encode_rollup_day(slots, vmin, vavg, vmax, count), v1])
    assert got[0].tolist() == [2, 2, 2] and got[1].tolist() == [0, 5] * 3
    assert got[2].tolist() == [1.0, 2.0] * 3 and got[3].tolist() == [1.5, 2.5] * 3
    assert got[4].tolist() == [2.0, 3.0] * 3 and got[5].tolist() == [60, 59] * 3
    only_avg = codec.decode_rollup_days([v1, legacy], fields=("avg",))
    assert only_avg[3].tolist() == [1.5, 2.5] * 2 and np.isnan(only_avg[2]).all()
