"""Promotions as people write them (CLI options, a CSV or TOML file, the page's form) -> the
store's :class:`~store.inventory_types.Promotion` and :class:`~store.calendar.Kind`.

Dates are local to the promotion's time zone: ``2026-04-19`` is its midnight there (promotions
start at Beijing midnight), ``2026-04-19 20:00`` an evening start. Every error names the row or
option, the bad value and the fix; a file with one bad row imports nothing.

CSV (header row; ``end`` or ``days``; the rest optional)::

    name,kind,start,days,preheat_days,tz
    anniversary 2026,anniversary,2026-04-19,1,2,Asia/Shanghai

TOML::

    [[promotion]]                 # one dated promotion
    name = "anniversary 2026"
    kind = "anniversary"
    start = "2026-04-19"
    days = 1
    preheat_days = 2

    [[yearly]]                    # a promotion that comes back every year
    kind = "anniversary"
    date = "04-19"
    preheat_days = 2
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

from core.errors import ConfigError, StoreInputError
from store.inventory_types import Kind, Promotion, check_tz

DEFAULT_TZ = "Asia/Shanghai"
DATE_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M")
PROMOTION_FIELDS = {"name", "kind", "start", "end", "days", "preheat_days", "tz"}
YEARLY_FIELDS = {"kind", "date", "days", "preheat_days", "tz"}


def local_time(text: str, tz: str, where: str) -> int:
    """``2026-04-19`` or ``2026-04-19 20:00`` in ``tz`` -> UTC epoch seconds."""
    for fmt in DATE_FORMATS:
        try:
            naive = dt.datetime.strptime(str(text).strip(), fmt)
        except ValueError:
            continue
        return int(naive.replace(tzinfo=ZoneInfo(tz)).timestamp())
    raise ConfigError(f"{where}: {text!r} is not a date; write it as 2026-04-19 (local midnight) or "
                      f"2026-04-19 20:00.")


def _int(value, name: str, where: str, lo: int, hi: int) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{where}: {name}={value!r} is not a whole number; use {lo} to {hi}.") from None
    if not lo <= n <= hi:
        raise ConfigError(f"{where}: {name}={n} is out of range; use {lo} to {hi}.")
    return n


def _tz(value, where: str) -> str:
    try:
        return check_tz(str(value or DEFAULT_TZ).strip())
    except StoreInputError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _known(fields: dict, allowed: set[str], where: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}; use {', '.join(sorted(allowed))}.")


def promotion(fields: dict, where: str) -> Promotion:
    """One dated promotion from named fields (name, kind, start, end or days, preheat_days, tz)."""
    _known(fields, PROMOTION_FIELDS, where)
    kind = str(fields.get("kind") or "").strip()
    if not kind:
        raise ConfigError(f"{where}: the kind is missing; give one such as 11.11 or anniversary (promotions of "
                          f"one kind are compared with each other).")
    if not fields.get("start"):
        raise ConfigError(f"{where}: the start date is missing; give it as 2026-04-19.")
    tz = _tz(fields.get("tz"), where)
    start = local_time(fields["start"], tz, where)
    if fields.get("end"):
        end = local_time(fields["end"], tz, where)
        if end <= start:
            raise ConfigError(f"{where}: end {fields['end']} is not after start {fields['start']}; the end is "
                              f"exclusive (a one-day sale on 04-19 ends 04-20).")
    else:
        end = start + _int(fields.get("days") or 1, "days", where, 1, 31) * 86400
    preheat = _int(fields.get("preheat_days") or 0, "preheat_days", where, 0, 60)
    year = dt.datetime.fromtimestamp(start, ZoneInfo(tz)).year
    name = str(fields.get("name") or "").strip() or f"{kind} {year}"
    if len(name) > 200 or len(kind) > 40:
        raise ConfigError(f"{where}: name or kind too long; keep names under 200 and kinds under 40 characters.")
    return Promotion(name, kind, start, end, preheat, tz)


def yearly(fields: dict, where: str) -> Kind:
    """One yearly kind from named fields (kind, date as MM-DD, days, preheat_days, tz)."""
    _known(fields, YEARLY_FIELDS, where)
    kind = str(fields.get("kind") or "").strip()
    date = str(fields.get("date") or "").strip()
    parts = date.split("-")
    if not kind or len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ConfigError(f"{where}: a yearly promotion needs a kind and a date as MM-DD (e.g. kind = "
                          f"\"anniversary\", date = \"04-19\"); got kind={kind!r}, date={date!r}.")
    k = Kind(kind, int(parts[0]), int(parts[1]),
             preheat_days=_int(fields.get("preheat_days") or 0, "preheat_days", where, 0, 60),
             length_days=_int(fields.get("days") or 1, "days", where, 1, 31), tz=_tz(fields.get("tz"), where))
    try:
        return k.check()
    except StoreInputError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def read_file(path: str | Path) -> tuple[list[Promotion], list[Kind]]:
    """Promotions and yearly kinds from a .csv or .toml file (all rows checked before any is used)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {p}: {exc}; give a readable UTF-8 .csv or .toml file.") from exc
    if p.suffix.lower() == ".toml":
        return _from_toml(text, p)
    if p.suffix.lower() == ".csv":
        return _from_csv(text, p), []
    raise ConfigError(f"{p}: unknown file type {p.suffix!r}; import a .csv (name,kind,start,days,preheat_days,tz) "
                      f"or a .toml file ([[promotion]] and [[yearly]] tables).")


def _from_csv(text: str, p: Path) -> list[Promotion]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "start" not in reader.fieldnames or "kind" not in reader.fieldnames:
        raise ConfigError(f"{p}: the first line must name the columns, at least kind and start "
                          f"(name,kind,start,days,preheat_days,tz).")
    out = []
    for line, row in enumerate(reader, start=2):
        if None in row:
            raise ConfigError(f"{p} line {line}: more values than columns; quote names that hold commas.")
        fields = {k.strip(): v for k, v in row.items() if k and v not in (None, "")}
        out.append(promotion(fields, f"{p} line {line}"))
    return _unique(out, p)


def _from_toml(text: str, p: Path) -> tuple[list[Promotion], list[Kind]]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc}); see `python app.py promotions import --help`.") from exc
    unknown = set(doc) - {"promotion", "yearly"}
    if unknown:
        raise ConfigError(f"{p}: unknown table(s) {', '.join(sorted(unknown))}; use [[promotion]] and [[yearly]].")
    promos = [promotion(t, f"{p} [[promotion]] #{i}") for i, t in enumerate(_tables(doc, "promotion", p), 1)]
    kinds = [yearly(t, f"{p} [[yearly]] #{i}") for i, t in enumerate(_tables(doc, "yearly", p), 1)]
    return _unique(promos, p), kinds


def _tables(doc: dict, name: str, p: Path) -> list[dict]:
    items = doc.get(name, [])
    if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
        raise ConfigError(f"{p}: {name} must be an array of tables: write [[{name}]] before each one.")
    return items


def _unique(promos: list[Promotion], p: Path) -> list[Promotion]:
    seen = set()
    for promo in promos:
        if promo.name in seen:
            raise ConfigError(f"{p}: the name {promo.name!r} appears twice; names identify promotions.")
        seen.add(promo.name)
    return promos
