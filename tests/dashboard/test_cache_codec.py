"""The shared cache's data-only format: what the pages cache comes back equal, and a file that is
not one of its documents (a pickle above all) is refused without running anything."""
from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from dashboard import cache_codec
from dashboard.wall_data import Plan
from forecasting.events import Event


def frame() -> pd.DataFrame:
    df = pd.DataFrame({
        "id": np.arange(4, dtype=np.int64), "value": [1.5, np.nan, -0.0, 3e300],
        "name": pd.Series(["a", "业务", None, "=cmd"], dtype="str"),
        "obj": np.array(["x", 1, None, 2.5], dtype=object),
        "cat": pd.Categorical(["r", "m", "r", None]),
        "when": pd.to_datetime([0, 3600, 7200, 10800], unit="s", utc=True).tz_convert("Asia/Shanghai"),
        "naive": pd.to_datetime([0, 1, 2, 3], unit="D"), "flag": [True, False, True, True],
        "n": pd.array([1, None, 3, 4], dtype="Int64"),
    }, index=pd.Index([10, 20, 30, 40], name="k"))
    return df


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, float("inf"), "业务 <b>", b"\x00\xff", [1, (2, "x")], {"a": {1: [2]}, (1, 2): None},
    {1, 2}, frozenset({"a"}), np.float64(2.5), np.int32(7), np.arange(6.0).reshape(2, 3),
    np.array(["a", None], dtype=object), pd.Timestamp("2025-11-11", tz="Asia/Shanghai"), pd.Timedelta("3h"),
    pd.Series([1.0, 2.0], index=["x", "y"], name="s"),
    Event("11.11 2025", "11.11", pd.Timestamp("2025-11-10 16:00", tz="UTC"),
          pd.Timestamp("2025-11-11 16:00", tz="UTC"), pd.Timedelta(days=10)),
])
def test_values_the_pages_cache_come_back_equal(value):
    back = cache_codec.loads(cache_codec.dumps(value))
    assert type(back) is type(value)
    if isinstance(value, np.ndarray):
        np.testing.assert_array_equal(back, value)
        assert back.dtype == value.dtype
    elif isinstance(value, pd.Series):
        pd.testing.assert_series_equal(back, value)
    else:
        assert back == value or (back != back and value != value)


def test_a_frame_with_every_column_kind_comes_back_equal():
    df = frame()
    pd.testing.assert_frame_equal(cache_codec.loads(cache_codec.dumps(df)), df)
    plan = Plan(series=df, front=df.iloc[:0], businesses=pd.DataFrame(index=pd.RangeIndex(0)))
    back = cache_codec.loads(cache_codec.dumps({"plan": plan}))["plan"]
    pd.testing.assert_frame_equal(back.series, df)
    assert back.owners is None and back.front.empty


class Rce:
    def __reduce__(self):
        return (eval, ("__import__('os').getpid()",))


@pytest.mark.parametrize("raw", [
    pickle.dumps(Rce()), cache_codec.MAGIC + b'{"DC": ["os.system", {}]}', cache_codec.MAGIC + b'{"X": 1}',
    cache_codec.MAGIC + b'{"A": ["|O", [1], ""]}', cache_codec.MAGIC + b"[" * 100_000, b"",
])
def test_anything_else_is_refused(raw):
    with pytest.raises(cache_codec.CacheFormatError):
        cache_codec.loads(raw)


def test_a_type_it_does_not_hold_is_not_written():
    with pytest.raises(TypeError, match="does not store"):
        cache_codec.dumps(Rce())
