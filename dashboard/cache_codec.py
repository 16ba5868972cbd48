"""The shared cache's file format: data only, never code.

Flask-Caching's filesystem cache pickles, and loading a pickle runs whatever it names: a file
planted in the cache folder would run code in the web process. This codec writes JSON whose
objects are tagged data (numbers, text, bytes, numpy arrays of plain dtypes, pandas frames,
timestamps and a few registered dataclasses); loading builds only those, and anything else in a
file is refused (the cache then treats the entry as missing).

Every JSON object is a tag ``{"<tag>": payload}``: a dict is ``{"D": [[key, value], ...]}``.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from typing import Any, Callable

import numpy as np
import pandas as pd

MAGIC = b"PWC1\n"
#: numpy dtype kinds stored as raw bytes: bool, ints, unsigned, floats, complex, datetime, timedelta
RAW_KINDS = set("biufcmM")
_DATACLASSES: dict[str, type] = {}


class CacheFormatError(ValueError):
    """A cache file (or value) outside what this codec stores."""


def _known() -> dict[str, type]:
    """The dataclasses the pages keep in the shared cache (the only ones a cache file may build),
    plus any :func:`register`-ed."""
    if not _DATACLASSES:
        from dashboard.wall_data import Plan
        from forecasting.events import Event
        from forecasting.fleet import FleetForecast
        from forecasting.model import PeakForecast
        from forecasting.sizing import FleetProfile
        for cls in (Plan, Event, FleetForecast, PeakForecast, FleetProfile):
            register(cls)
    return _DATACLASSES


def register(cls: type) -> type:
    """Allow a dataclass in cached values (decorator); only registered classes are ever built."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls!r} is not a dataclass")
    _DATACLASSES[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return cls


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


# ------------------------------------------------------------------------- encode
def encode(value: Any) -> Any:
    """A JSON-ready form of ``value``; TypeError for a type the cache does not store."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float):
        return value
    if isinstance(value, np.generic):
        return {"N": [value.dtype.str, _b64(np.asarray(value).tobytes())]} \
            if value.dtype.kind in RAW_KINDS else encode(value.item())
    if isinstance(value, dict):
        return {"D": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, tuple):
        return {"T": [encode(v) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"S" if isinstance(value, set) else "FS": [encode(v) for v in value]}
    if isinstance(value, bytes):
        return {"B": _b64(value)}
    for kind, enc in _ENCODERS:
        if isinstance(value, kind):
            return enc(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = f"{type(value).__module__}.{type(value).__qualname__}"
        if _known().get(name) is not type(value):
            raise TypeError(f"dataclass {name} is not registered with dashboard.cache_codec.register")
        return {"DC": [name, {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}]}
    raise TypeError(f"the shared cache does not store {type(value).__module__}.{type(value).__qualname__}")


def _array(a: np.ndarray) -> dict:
    if a.dtype.kind in RAW_KINDS:
        return {"A": [a.dtype.str, list(a.shape), _b64(np.ascontiguousarray(a).tobytes())]}
    return {"AO": [list(a.shape), [encode(v) for v in a.ravel().tolist()]]}


def _values(values) -> dict:
    """A column's or index's values: numpy, categorical or another pandas extension array."""
    if isinstance(values, np.ndarray):
        return _array(values)
    if isinstance(values, pd.Categorical):
        return {"CAT": [_index(values.categories), _array(values.codes), bool(values.ordered)]}
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return {"DTZ": [str(values.dtype.tz), values.dtype.unit, _array(values.asi8)]}
    return {"EA": [str(values.dtype), [encode(None if pd.isna(v) else v) for v in values.tolist()]]}


def _index(index: pd.Index) -> dict:
    if isinstance(index, pd.RangeIndex):
        return {"RI": [index.start, index.stop, index.step, encode(index.name)]}
    if isinstance(index, pd.MultiIndex):
        raise TypeError("the shared cache does not store MultiIndex")
    return {"I": [_values(index.array if not isinstance(index.dtype, np.dtype) else index.to_numpy()),
                  encode(index.name)]}


def _frame(df: pd.DataFrame) -> dict:
    if not df.columns.is_unique:
        raise TypeError("the shared cache does not store frames with repeated column names")
    return {"F": [_index(df.columns), _index(df.index),
                  [_values(df[c].array if not isinstance(df[c].dtype, np.dtype) else df[c].to_numpy())
                   for c in df.columns]]}


def _series(s: pd.Series) -> dict:
    values = s.array if not isinstance(s.dtype, np.dtype) else s.to_numpy()
    return {"SE": [encode(s.name), _index(s.index), _values(values)]}


def _timestamp(t: pd.Timestamp) -> dict:
    return {"TS": [int(t.value), None if t.tz is None else str(t.tz), t.unit]}


_ENCODERS: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (pd.DataFrame, _frame),
    (pd.Series, _series),
    (pd.Index, _index),
    (pd.Categorical, _values),
    (np.ndarray, _array),
    (pd.Timestamp, _timestamp),
    (pd.Timedelta, lambda t: {"TD": int(t.value)}),
    (dt.datetime, lambda d: {"DT": d.isoformat()}),
    (dt.date, lambda d: {"DA": d.isoformat()}),
    (dt.timedelta, lambda d: {"DL": [d.days, d.seconds, d.microseconds]}),
    (complex, lambda c: {"CX": [c.real, c.imag]}),
)


# ------------------------------------------------------------------------- decode
def _raw_dtype(text: str) -> np.dtype:
    dtype = np.dtype(text)
    if dtype.kind not in RAW_KINDS or dtype.hasobject:
        raise CacheFormatError(f"dtype {text!r} is not stored as raw bytes")
    return dtype


def _d_array(p) -> np.ndarray:
    dtype, shape, raw = p
    return np.frombuffer(_unb64(raw), dtype=_raw_dtype(dtype)).reshape([int(n) for n in shape]).copy()


def _d_object_array(p) -> np.ndarray:
    shape, items = p
    out = np.empty(len(items), dtype=object)
    out[:] = [decode(v) for v in items]
    return out.reshape([int(n) for n in shape])


def _d_values(doc):
    tag, p = _tag(doc)
    if tag == "A":
        return _d_array(p)
    if tag == "AO":
        return _d_object_array(p)
    if tag == "CAT":
        return pd.Categorical.from_codes(_d_array(p[1]["A"]), _d_index(p[0]), ordered=bool(p[2]))
    if tag == "DTZ":
        tz, unit, ints = p
        return pd.array(_d_array(ints["A"]).view(f"M8[{unit}]"), dtype=f"datetime64[{unit}]") \
            .tz_localize("UTC").tz_convert(str(tz))
    if tag == "EA":
        return pd.array([decode(v) for v in p[1]], dtype=str(p[0]))
    raise CacheFormatError(f"unknown value tag {tag!r}")


def _d_index(doc) -> pd.Index:
    tag, p = _tag(doc)
    if tag == "RI":
        return pd.RangeIndex(int(p[0]), int(p[1]), int(p[2]), name=decode(p[3]))
    if tag == "I":
        return pd.Index(_d_values(p[0]), name=decode(p[1]))
    raise CacheFormatError(f"unknown index tag {tag!r}")


def _d_frame(p) -> pd.DataFrame:
    columns, index, values = _d_index(p[0]), _d_index(p[1]), p[2]
    if len(values) != len(columns):
        raise CacheFormatError("frame with a column count unlike its columns")
    data = {i: _d_values(v) for i, v in enumerate(values)}
    df = pd.DataFrame(data, index=index) if data else pd.DataFrame(index=index)
    df.columns = columns
    return df


def _d_series(p) -> pd.Series:
    return pd.Series(_d_values(p[2]), index=_d_index(p[1]), name=decode(p[0]))


def _d_timestamp(p) -> pd.Timestamp:
    value, tz, unit = p
    t = pd.Timestamp(int(value), unit="ns").as_unit(str(unit)) if unit != "ns" else pd.Timestamp(int(value))
    return t.tz_localize("UTC").tz_convert(str(tz)) if tz is not None else t


def _d_dataclass(p):
    name, fields = p
    cls = _known().get(name)
    if cls is None:
        raise CacheFormatError(f"dataclass {name!r} is not registered")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(fields) - set(known)
    if unknown:
        raise CacheFormatError(f"{name} has no field {sorted(unknown)[0]!r}")
    values = {k: decode(v) for k, v in fields.items()}
    # the registered class's own constructor (its __post_init__ derives what it caches)
    obj = cls(**{k: v for k, v in values.items() if known[k].init})
    for key, value in values.items():
        if not known[key].init:
            object.__setattr__(obj, key, value)
    return obj


def _d_scalar(p):
    dtype, raw = p
    return np.frombuffer(_unb64(raw), dtype=_raw_dtype(dtype))[0]


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "D": lambda p: {decode(k): decode(v) for k, v in p},
    "T": lambda p: tuple(decode(v) for v in p),
    "S": lambda p: {decode(v) for v in p},
    "FS": lambda p: frozenset(decode(v) for v in p),
    "B": _unb64,
    "N": _d_scalar,
    "A": _d_array,
    "AO": _d_object_array,
    "F": _d_frame,
    "SE": _d_series,
    "RI": lambda p: _d_index({"RI": p}),
    "I": lambda p: _d_index({"I": p}),
    "CAT": lambda p: _d_values({"CAT": p}),
    "DTZ": lambda p: _d_values({"DTZ": p}),
    "EA": lambda p: _d_values({"EA": p}),
    "TS": _d_timestamp,
    "TD": lambda p: pd.Timedelta(int(p), unit="ns"),
    "DT": dt.datetime.fromisoformat,
    "DA": dt.date.fromisoformat,
    "DL": lambda p: dt.timedelta(days=p[0], seconds=p[1], microseconds=p[2]),
    "CX": lambda p: complex(p[0], p[1]),
    "DC": _d_dataclass,
}


def _tag(doc) -> tuple[str, Any]:
    if not isinstance(doc, dict) or len(doc) != 1:
        raise CacheFormatError("expected one tagged object")
    return next(iter(doc.items()))


def decode(doc: Any) -> Any:
    """The value :func:`encode` described; CacheFormatError for anything else."""
    if doc is None or isinstance(doc, (bool, int, float, str)):
        return doc
    if isinstance(doc, list):
        return [decode(v) for v in doc]
    tag, payload = _tag(doc)
    fn = _DECODERS.get(tag)
    if fn is None:
        raise CacheFormatError(f"unknown tag {tag!r}")
    try:
        return fn(payload)
    except CacheFormatError:
        raise
    except (TypeError, ValueError, KeyError, IndexError) as exc:
        raise CacheFormatError(f"bad {tag!r} entry: {exc}") from exc


def dumps(value: Any) -> bytes:
    return MAGIC + json.dumps(encode(value), separators=(",", ":")).encode("utf-8")


def loads(raw: bytes) -> Any:
    if not raw.startswith(MAGIC):
        raise CacheFormatError("not a Peakwatch cache entry")
    try:
        doc = json.loads(raw[len(MAGIC):])
    except (ValueError, RecursionError) as exc:
        raise CacheFormatError(f"not JSON: {exc}") from exc
    return decode(doc)
