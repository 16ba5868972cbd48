"""The promotion calendar: yearly promotion kinds and the promotions the user entered.

The calendar the forecaster and the pages read (:func:`effective`) is

* every promotion the user entered, imported, confirmed from a suggestion or a source wrote
  (table ``promotions``, ``origin`` says which), except those marked ``skipped``;
* plus, for each enabled yearly kind and each year from the data's first year to next year, the
  occurrence ``"<kind> <year>"`` starting at local midnight of its day, unless a promotion of that
  kind is already entered (or skipped) in that year: an entered date wins over the rule.

Yearly kinds are the built-in ones below unless the user changed or disabled them (table
``promotion_kinds``), plus the kinds the user added (a company's anniversary sale). So a new
Zabbix store has 11.11, 12.12 and 6.18 with no step at all, and the user owns every date.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from core.errors import StoreInputError

DAY = 86_400
COLUMNS = ["name", "kind", "start", "end", "preheat_days", "tz", "origin"]
KIND_COLUMNS = ["kind", "month", "day", "preheat_days", "length_days", "tz", "enabled", "origin"]
ORIGINS = ("user", "import", "suggestion", "synthetic", "yearly")


@dataclass(frozen=True)
class Kind:
    """A promotion that comes back every year on the same day, starting at local midnight."""
    kind: str
    month: int
    day: int
    preheat_days: int = 0
    length_days: int = 1
    tz: str = "Asia/Shanghai"
    enabled: bool = True

    def check(self) -> "Kind":
        """This kind, or a StoreInputError naming the bad field and the fix."""
        if not self.kind or len(self.kind) > 40:
            raise StoreInputError(f"promotion kind {self.kind!r}: give a name of 1 to 40 characters, e.g. 'anniversary'.")
        try:
            dt.date(2024, int(self.month), int(self.day))       # a leap year: 02-29 is allowed
        except (ValueError, TypeError) as exc:
            raise StoreInputError(f"promotion kind {self.kind!r}: {self.month}-{self.day} is not a day of the year; "
                                  f"give it as MM-DD, e.g. 04-19.") from exc
        if not 0 <= int(self.preheat_days) <= 60:
            raise StoreInputError(f"promotion kind {self.kind!r}: pre-heat of {self.preheat_days} days; use 0 to 60.")
        if not 1 <= int(self.length_days) <= 31:
            raise StoreInputError(f"promotion kind {self.kind!r}: length of {self.length_days} days; use 1 to 31.")
        check_tz(self.tz)
        return self

    def occurrence(self, year: int) -> dict | None:
        """This kind's promotion in ``year`` (None when its day does not exist that year: 02-29)."""
        try:
            start = int(dt.datetime(year, self.month, self.day, tzinfo=ZoneInfo(self.tz)).timestamp())
        except ValueError:
            return None
        return {"name": f"{self.kind} {year}", "kind": self.kind, "start": start,
                "end": start + self.length_days * DAY, "preheat_days": self.preheat_days, "tz": self.tz,
                "origin": "yearly"}


#: the big promotions of Chinese e-commerce, as the reference platform plans for them
BUILTIN: dict[str, Kind] = {k.kind: k for k in (
    Kind("11.11", 11, 11, preheat_days=10),     # Singles' Day (Double 11)
    Kind("12.12", 12, 12, preheat_days=3),      # Double 12
    Kind("6.18", 6, 18, preheat_days=7),        # the mid-year sale (618)
)}


def check_tz(tz: str) -> str:
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StoreInputError(f"time zone {tz!r} is unknown; use an IANA name such as Asia/Shanghai.") from exc
    return str(tz)


def kinds(rows: pd.DataFrame) -> pd.DataFrame:
    """Effective yearly kinds: the built-in ones, changed or disabled by ``rows`` (the
    ``promotion_kinds`` table), plus the user's own. Columns :data:`KIND_COLUMNS`."""
    stored = {r["kind"]: r for r in rows.to_dict("records")}
    out = []
    for name in sorted(set(BUILTIN) | set(stored), key=lambda k: (k not in BUILTIN, k)):
        if name in stored:
            r = stored[name]
            origin = "built-in, changed" if name in BUILTIN else "user"
            out.append([name, int(r["month"]), int(r["day"]), int(r["preheat_days"]), int(r["length_days"]),
                        r["tz"], bool(r["enabled"]), origin])
        else:
            k = BUILTIN[name]
            out.append([k.kind, k.month, k.day, k.preheat_days, k.length_days, k.tz, True, "built-in"])
    return pd.DataFrame(out, columns=KIND_COLUMNS)


def _year(start: int, tz: str) -> int:
    return dt.datetime.fromtimestamp(int(start), ZoneInfo(tz)).year


def effective(entered: pd.DataFrame, kind_rows: pd.DataFrame, first_year: int, last_year: int) -> pd.DataFrame:
    """The calendar: ``entered`` promotions (columns COLUMNS plus ``skipped``) that are not
    skipped, and the yearly kinds' occurrences in ``first_year..last_year`` that no entered
    promotion of the same kind and year replaces. Sorted by start."""
    taken = {(r["kind"], _year(r["start"], r["tz"])) for r in entered.to_dict("records")}
    rows = [r for r in entered.to_dict("records") if not r.get("skipped")]
    names = {r["name"] for r in rows}
    for k in kinds(kind_rows).to_dict("records"):
        if not k["enabled"]:
            continue
        kind = Kind(k["kind"], k["month"], k["day"], k["preheat_days"], k["length_days"], k["tz"])
        for year in range(first_year, last_year + 1):
            occ = kind.occurrence(year)
            if occ is not None and (kind.kind, year) not in taken and occ["name"] not in names:
                rows.append(occ)
    out = pd.DataFrame(rows, columns=COLUMNS) if rows else pd.DataFrame(columns=COLUMNS)
    return out[COLUMNS].sort_values(["start", "name"], kind="stable").reset_index(drop=True)
