"""The Store facade: the one object every package reads and writes through (docs/store-api.md)."""
from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterable, Iterator

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from core.errors import StoreInputError
from store import aggregate as agg
from store import calendar as cal
from store import engine as eng
from store import inventory, reader, schema, writer
from store.accounts import AccountsMixin
from store.alerts import AlertsMixin
from store.codec import FIELDS
from store.inventory_types import Inventory, Kind, Promotion, check_tz

FIRST_KEY = "data.first_ts"
PROMOTION_COLUMNS = ["id", "name", "kind", "start", "end", "preheat_days", "tz", "origin"]
RAW_RANGE_LIMIT = 2 * 86400  # ranges up to two days read the raw tier when it covers them
INVENTORY_TTL = 30.0


class Store(AlertsMixin, AccountsMixin):
    """SQLite (embedded default) or PostgreSQL time-series store for the fleet (alerting's tables:
    store.alerts.AlertsMixin; users, tokens and the audit log: store.accounts.AccountsMixin)."""

    def __init__(self, engine, url: str, raw_retention_days: int = 14):
        self.engine = engine
        self.url = url
        self.raw_retention_days = raw_retention_days
        self._series_cache: tuple[float, pd.DataFrame] | None = None
        self._by_metric: dict[str, pd.DataFrame] = {}
        self._picked: dict[tuple, tuple[pd.DataFrame, pd.DataFrame]] = {}
        self._known_ids: np.ndarray | None = None
        self._first: tuple[float, int | None] | None = None    # (read at, data_start)

    # ----------------------------------------------------------------- life cycle
    @classmethod
    def open(cls, url: str, *, raw_retention_days: int = 14, migrate: bool = True,
             busy_timeout_s: float = 10.0) -> "Store":
        """Open (and by default migrate) a store; errors name the problem and the fix."""
        engine = eng.make_engine(url, busy_timeout_s)
        try:
            with eng.mapped_errors(url):
                with engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
                if migrate:
                    eng.migrate(engine)
                elif eng.current_revision(engine) != eng.head_revision():
                    from core.errors import StoreError
                    raise StoreError(f"the store {eng.describe_url(url)} has an older schema; run "
                                     f"`python app.py store migrate`.")
        except BaseException:
            engine.dispose()  # no pooled connection outlives a failed open
            raise
        return cls(engine, url, raw_retention_days)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def identity(self) -> str:
        """Which database this is, written the same however store_url wrote it (SQLite: the
        absolute file path; no password): a key for caches shared between processes."""
        return eng.identity(self.url)

    def data_mark(self) -> tuple:
        """A cheap mark that changes whenever data is written (compare marks for equality only):
        two file stats on SQLite, one small query on PostgreSQL."""
        with eng.mapped_errors(self.url):
            return eng.data_mark(self.engine, self.url)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction, holding the write lock from its first statement (eng.begin_write)."""
        with eng.mapped_errors(self.url), self.engine.begin() as conn:
            eng.begin_write(conn)
            yield conn

    @contextmanager
    def _ro(self) -> Iterator[Connection]:
        with eng.mapped_errors(self.url), self.engine.connect() as conn:
            yield conn

    # ------------------------------------------------------------------ inventory
    def upsert_inventory(self, inv: Inventory, *, source: str = "synthetic", full: bool = False) -> dict[str, int]:
        with self._tx() as conn:
            ids = inventory.upsert_inventory(conn, inv, source, full)
        self._series_cache = None
        return ids

    def series_ids(self, keys: Iterable[str]) -> dict[str, int]:
        df = self.series()
        m = dict(zip(df["key"], df["id"]))
        return {k: int(m[k]) for k in keys if k in m}

    def _inventory(self, metric: str | None = None, fresh: bool = False) -> pd.DataFrame:
        """The cached series frame, or its cached subset for one metric (shared: do not modify)."""
        now = time.monotonic()
        if fresh or self._series_cache is None or now - self._series_cache[0] > INVENTORY_TTL:
            with self._ro() as conn:
                self._series_cache = (now, inventory.series_frame(conn))
            self._by_metric, self._picked = {}, {}
        df = self._series_cache[1]
        if metric is None:
            return df
        # per-metric subsets are cached: at 30,000 instances a string filter costs ~40 ms
        sub = self._by_metric.get(metric)
        if sub is None:
            sub = self._by_metric[metric] = df[df["metric"] == metric].reset_index(drop=True)
        return sub

    def series(self, metric: str | None = None, cluster: str | None = None, business: str | None = None,
               fresh: bool = False) -> pd.DataFrame:
        df = self._inventory(metric, fresh)
        if cluster is None and business is None:
            return df.copy(deep=False)  # callers may add columns; the cache stays as it is
        if cluster is not None:
            df = df[df["cluster"] == cluster]
        if business is not None:
            df = df[df["business"] == business]
        return df.reset_index(drop=True)

    def businesses(self) -> pd.DataFrame:
        with self._ro() as conn:
            return inventory.businesses_frame(conn)

    def clusters(self) -> pd.DataFrame:
        with self._ro() as conn:
            return inventory.clusters_frame(conn)

    def instances(self) -> pd.DataFrame:
        with self._ro() as conn:
            return inventory.instances_frame(conn)

    def instance_counts(self, day_ends) -> pd.DataFrame:
        """[ts, product_line, service, instances]: the fleet's size at each time in ``day_ends``."""
        with self._ro() as conn:
            return inventory.instance_counts(conn, day_ends)

    def backdate_instances(self) -> int:
        """Instances whose data starts before their ``added_at`` are moved back to their first day."""
        with self._tx() as conn:
            return inventory.backdate_instances(conn)

    # --------------------------------------------------------------------- writes
    def write_samples(self, series_id, ts, value) -> int:
        """Raw samples -> raw chunks, the hourly rollups they imply, latest values. Idempotent."""
        with self._tx() as conn:
            n, _ = writer.write_samples(conn, series_id, ts, value, known=self._unknown_ids,
                                        pruned=writer.pruned_before(conn))
        if n:
            self._note_first(int(np.min(ts)))
        return n

    def _unknown_ids(self, ids: np.ndarray) -> np.ndarray:
        """The ids in ``ids`` (sorted, unique) that name no series. Series are never deleted, so
        the known ids are kept (not on the inventory's TTL: re-reading the whole series frame
        every 30 s cost a third of a 30,000-instance ingest) and re-read only for an unknown id."""
        known = self._known_ids
        unknown = ids if known is None else ids[~np.isin(ids, known, assume_unique=True)]
        if len(unknown):
            with self._ro() as conn:
                known = np.fromiter((r[0] for r in conn.exec_driver_sql("SELECT id FROM series")), np.int64)
            self._known_ids = np.sort(known)
            unknown = unknown[~np.isin(unknown, self._known_ids, assume_unique=True)]
        return unknown

    def write_rollups(self, series_id, hour_ts, vmin, vavg, vmax, count) -> int:
        """Hourly rollups for history beyond the raw tier (Zabbix trends, demo history)."""
        arrays = [np.asarray(x) for x in (series_id, hour_ts, vmin, vavg, vmax, count)]
        if len({a.shape for a in arrays}) != 1:
            raise StoreInputError("write_rollups needs arrays of one length.")
        sid, hour, vmin, vavg, vmax, count = arrays
        sid, hour, vmin, vavg, vmax, count = writer.sort_dedupe(sid.astype(np.int64), hour.astype(np.int64),
                                                                vmin, vavg, vmax, count)
        unknown = self._unknown_ids(np.unique(sid))
        if len(unknown):
            raise StoreInputError(f"unknown series id {', '.join(map(str, unknown[:5]))}; use the ids "
                                  f"Store.upsert_inventory returned.")
        with self._tx() as conn:
            n = writer.write_rollup_hours(conn, sid, hour, vmin, vavg, vmax, count)
        if len(hour):
            self._note_first(int(hour.min()))
        return n

    def data_start(self) -> int | None:
        """UTC epoch of the oldest data in the store (hour precision; None when empty). Kept in
        meta by every write (migration 0003 set it for older stores), re-read at most once a
        minute (a backfill in another process moves it back)."""
        now = time.monotonic()
        if self._first is None or now - self._first[0] >= INVENTORY_TTL * 2:
            value = self.get_meta(FIRST_KEY)
            self._first = (now, None if value is None else int(value))
        return self._first[1]

    def _note_first(self, ts: int) -> None:
        """Move data_start back when a write reaches further back than it."""
        known = self.data_start()
        if known is not None and ts >= known:
            return
        with self._tx() as conn:
            current = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == FIRST_KEY)).scalar()
            if current is None or ts < int(current):
                writer.upsert_rows(conn, "meta", ("key", "value"), ("key",), [(FIRST_KEY, str(ts // 3600 * 3600))])
        self._first = (time.monotonic(), min(ts // 3600 * 3600, known if known is not None else ts))

    def prune(self, now: int | None = None) -> int:
        """Drop raw chunks older than the retention; rollups are kept."""
        now = int(time.time()) if now is None else int(now)
        cutoff = now - self.raw_retention_days * 86400
        cutoff -= cutoff % 3600
        with self._tx() as conn:
            res = conn.execute(schema.raw_chunks.delete().where(schema.raw_chunks.c.hour < cutoff))
            # late samples for these hours merge into their rollups from now on (writer._merge_late)
            before = writer.pruned_before(conn)
            writer.upsert_rows(conn, "meta", ("key", "value"), ("key",),
                               [(writer.PRUNED_KEY, str(max(cutoff, before or cutoff)))])
            return int(res.rowcount or 0)

    def set_watermarks(self, source: str, marks: dict[int, int]) -> None:
        with self._tx() as conn:
            writer.upsert_rows(conn, "watermarks", ("source", "series_id", "ts"), ("source", "series_id"),
                               [(source, int(k), int(v)) for k, v in marks.items()])

    def watermarks(self, source: str) -> dict[int, int]:
        with self._ro() as conn:
            rows = conn.execute(select(schema.watermarks.c.series_id, schema.watermarks.c.ts)
                                .where(schema.watermarks.c.source == source)).fetchall()
        return {int(a): int(b) for a, b in rows}

    # ------------------------------------------------------------ promotion calendar
    def upsert_promotions(self, promotions: Iterable[Promotion], origin: str = "user") -> int:
        """Enter promotions (by name: an existing one is replaced); ``origin`` says who entered
        them (user, import, suggestion, synthetic). Bad input changes nothing."""
        if origin not in cal.ORIGINS:
            raise StoreInputError(f"promotion origin {origin!r}; use one of {', '.join(cal.ORIGINS)}.")
        rows = []
        for p in promotions:
            if not str(p.name).strip() or not str(p.kind).strip():
                raise StoreInputError(f"promotion {p.name!r} of kind {p.kind!r}: give both a name and a kind.")
            if p.end <= p.start:
                raise StoreInputError(f"promotion {p.name!r} ends before it starts; fix its start/end.")
            check_tz(p.tz)
            rows.append((p.name, p.kind, int(p.start), int(p.end), int(p.preheat_days), p.tz, origin, 0))
        with self._tx() as conn:
            writer.upsert_rows(conn, "promotions", ("name", "kind", "start", '"end"', "preheat_days", "tz", "origin",
                                                    "skipped"), ("name",), rows)
        return len(rows)

    def promotions(self) -> pd.DataFrame:
        """The promotions entered (not the yearly ones: see :meth:`calendar`), by start."""
        with self._ro() as conn:
            rows = conn.execute(select(*[schema.promotions.c[c] for c in PROMOTION_COLUMNS])
                                .where(schema.promotions.c.skipped == 0)
                                .order_by(schema.promotions.c.start)).fetchall()
        return pd.DataFrame(rows, columns=PROMOTION_COLUMNS)

    def delete_promotion(self, name: str) -> bool:
        """Remove an entered promotion (a skipped yearly occurrence comes back); False when none."""
        with self._tx() as conn:
            res = conn.execute(schema.promotions.delete().where(schema.promotions.c.name == name))
            return bool(res.rowcount)

    def skip_promotion(self, promo: Promotion) -> None:
        """Leave a yearly occurrence out of the calendar (it did not happen for this fleet)."""
        with self._tx() as conn:
            writer.upsert_rows(conn, "promotions", ("name", "kind", "start", '"end"', "preheat_days", "tz", "origin",
                                                    "skipped"), ("name",),
                               [(promo.name, promo.kind, int(promo.start), int(promo.end), int(promo.preheat_days),
                                 promo.tz, "user", 1)])

    def promotion_kinds(self) -> pd.DataFrame:
        """Yearly kinds in effect: built-in (maybe changed or disabled) and the user's own."""
        with self._ro() as conn:
            rows = conn.execute(select(schema.promotion_kinds)).fetchall()
        return cal.kinds(pd.DataFrame(rows, columns=[c.name for c in schema.promotion_kinds.columns]))

    def set_promotion_kind(self, kind: Kind) -> None:
        """Add a yearly kind or change one (a built-in one too); bad input changes nothing."""
        k = kind.check()
        with self._tx() as conn:
            writer.upsert_rows(conn, "promotion_kinds", ("kind", "month", "day", "preheat_days", "length_days", "tz",
                                                         "enabled"), ("kind",),
                               [(k.kind, int(k.month), int(k.day), int(k.preheat_days), int(k.length_days), k.tz,
                                 int(k.enabled))])

    def remove_promotion_kind(self, kind: str) -> bool:
        """Stop a yearly kind (a built-in one is disabled, a user's deleted); False when unknown."""
        if kind in cal.BUILTIN:
            b = cal.BUILTIN[kind]
            self.set_promotion_kind(Kind(b.kind, b.month, b.day, b.preheat_days, b.length_days, b.tz, False))
            return True
        with self._tx() as conn:
            return bool(conn.execute(schema.promotion_kinds.delete()
                                     .where(schema.promotion_kinds.c.kind == kind)).rowcount)

    def calendar(self, first_year: int | None = None, last_year: int | None = None,
                 now: int | None = None) -> pd.DataFrame:
        """The promotion calendar (see store/calendar.py): entered promotions plus the yearly
        kinds' occurrences from ``first_year`` to ``last_year`` (default next year). By default
        the yearly ones begin with the store's data (those that ended before it are left out;
        two years before ``now`` for an empty store). Columns: name, kind, start, end,
        preheat_days, tz, origin."""
        now = int(time.time() if now is None else now)
        year = time.gmtime(now).tm_year
        since = self.data_start() if first_year is None else None
        if first_year is None:
            first_year = time.gmtime(since).tm_year if since is not None else year - 2
        with self._ro() as conn:
            entered = conn.execute(select(*[schema.promotions.c[c] for c in (*cal.COLUMNS, "skipped")])).fetchall()
            kinds = conn.execute(select(schema.promotion_kinds)).fetchall()
        out = cal.effective(pd.DataFrame(entered, columns=[*cal.COLUMNS, "skipped"]),
                            pd.DataFrame(kinds, columns=[c.name for c in schema.promotion_kinds.columns]),
                            first_year, year + 1 if last_year is None else last_year)
        if since is not None:
            out = out[(out["origin"] != "yearly") | (out["end"] > since)].reset_index(drop=True)
        return out

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as conn:
            writer.upsert_rows(conn, "meta", ("key", "value"), ("key",), [(key, str(value))])

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self._ro() as conn:
            row = conn.execute(select(schema.meta.c.value).where(schema.meta.c.key == key)).first()
        return row[0] if row else default

    # ---------------------------------------------------------------------- reads
    def read_raw(self, series_ids, start: int, end: int) -> pd.DataFrame:
        with self._ro() as conn:
            return reader.read_raw(conn, series_ids, int(start), int(end))

    def read_rollups(self, series_ids, start: int, end: int) -> pd.DataFrame:
        with self._ro() as conn:
            return reader.read_rollups(conn, series_ids, int(start), int(end))

    def raw_oldest(self) -> int | None:
        with self._ro() as conn:
            return conn.execute(select(func.min(schema.raw_chunks.c.hour))).scalar()

    def _use_raw(self, start: int, end: int) -> bool:
        if end - start > RAW_RANGE_LIMIT:
            return False
        oldest = self.raw_oldest()
        return oldest is not None and oldest <= start

    def read_range(self, series_ids, start: int, end: int, max_points: int = 2000) -> pd.DataFrame:
        """[series_id, ts, value, min, max]: raw when it covers the range, rollups otherwise;
        at most ``max_points`` points per series."""
        return self._read_range(series_ids, start, end, max_points, envelope=True)

    def _read_range(self, series_ids, start: int, end: int, max_points: int, envelope: bool) -> pd.DataFrame:
        """:meth:`read_range`; without ``envelope`` the rollup min/max are not decoded (NaN)."""
        start, end = int(start), int(end)
        if self._use_raw(start, end):
            df = self.read_raw(series_ids, start, end)
            if not df.empty:
                v = df["value"].to_numpy()
                grid = reader.bucket_step(start, end, 60, max_points)
                return reader.downsample(df["series_id"].to_numpy(), df["ts"].to_numpy(), v, v, v, grid)
        with self._ro() as conn:
            df = reader.read_rollups(conn, series_ids, start, end, FIELDS if envelope else ("avg",))
        grid = reader.bucket_step(start, end, 3600, max_points)
        return reader.downsample(df["series_id"].to_numpy(), df["ts"].to_numpy(), df["avg"].to_numpy(),
                                 df["min"].to_numpy(), df["max"].to_numpy(), grid)

    def latest(self, series_ids=None, metric: str | None = None) -> pd.DataFrame:
        if metric is not None:
            ids = self._inventory(metric)["id"].to_numpy()
            series_ids = ids if series_ids is None else np.intersect1d(np.asarray(list(series_ids), np.int64), ids)
        with self._ro() as conn:
            return reader.read_latest(conn, series_ids)

    def aggregate(self, level: str, metric: str, start: int, end: int, max_points: int = 2000,
                  groups=None) -> pd.DataFrame:
        """[group, ts, value] per cluster, business, product line or the fleet."""
        chosen = self._chosen(level, metric, groups)
        frame = self._read_range(chosen["id"].tolist(), start, end, max_points, envelope=False)
        frame = agg.drop_removed(frame, chosen)
        return agg.combine_levels(frame, chosen, metric, level)

    def _chosen(self, level: str, metric: str, groups=None) -> pd.DataFrame:
        """The series a group aggregate reads (agg.pick_series), cached with the inventory."""
        if level not in agg.LEVELS:
            raise StoreInputError(f"level {level!r} is not one of {', '.join(agg.LEVELS)}.")
        subset = self._inventory(metric)
        key = (metric, level, None if groups is None else tuple(sorted(groups)))
        cached = self._picked.get(key)
        if cached is None or cached[0] is not subset:  # recomputed when the inventory is re-read
            cached = self._picked[key] = (subset, agg.pick_series(subset, metric, level, groups))
        return cached[1]

    def daily(self, level: str, metric: str, start: int, end: int, groups=None) -> pd.DataFrame:
        """[group, ts, value, hours]: per day from ``start`` (an hour boundary, e.g. a local
        midnight) to ``end`` (whole days later), a summed metric's mean rate over the hours of the
        day that hold data, and how many they are. Reads hourly rollups as arrays: years of a
        fleet in seconds, where ``aggregate`` at hourly resolution would build every point."""
        start, end = int(start), int(end)
        if agg.agg_of(metric) != "sum":
            raise StoreInputError(f"daily() sums; {metric!r} combines by {agg.agg_of(metric)!r}: use aggregate().")
        if start % 3600 or end <= start or (end - start) % 86400:
            raise StoreInputError("daily() needs start on an hour and end a whole number of days after it.")
        chosen = self._chosen(level, metric, groups)
        with self._ro() as conn:
            a = reader.rollup_arrays(conn, chosen["id"].tolist(), start, end, ("avg",))
        return agg.daily_sums(a["series_id"], a["ts"], a["avg"], chosen, level, start, (end - start) // 86400)

    def hourly(self, level: str, metric: str, start: int, end: int, stat: str = "max",
               groups=None) -> pd.DataFrame:
        """[group, ts, value]: every hour in ``[start, end)`` of each group at ``level``, from the
        hourly rollups' ``stat`` (``max``, ``avg`` or ``min``), shards and clusters combined as in
        :meth:`aggregate` (removed instances cut at their removal), never downsampled. The
        forecaster and the promotion pages read this: a promotion's midnight spike lasts minutes,
        and only the hourly maxima keep it."""
        if stat not in FIELDS:
            raise StoreInputError(f"stat {stat!r} is not one of {', '.join(FIELDS)}.")
        chosen = self._chosen(level, metric, groups)
        with self._ro() as conn:
            a = reader.rollup_arrays(conn, chosen["id"].tolist(), int(start), int(end), (stat,))
        frame = pd.DataFrame({"series_id": a["series_id"], "ts": a["ts"], "value": a[stat]})
        frame = agg.drop_removed(frame[frame["value"].notna()], chosen)
        return agg.combine_levels(frame, chosen, metric, level)

    def info(self) -> dict:
        """Row counts, bytes and time ranges per tier."""
        out: dict = {"url": eng.describe_url(self.url)}
        with self._ro() as conn:
            for t in ("product_lines", "businesses", "clusters", "instances", "series", "promotions"):
                out[t] = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar()
            r = conn.exec_driver_sql("SELECT COUNT(*), COALESCE(SUM(n), 0), MIN(hour), MAX(hour), "
                                     "COALESCE(SUM(LENGTH(data)), 0) FROM raw_chunks").one()
            out["raw"] = {"chunks": r[0], "samples": int(r[1]), "first": r[2],
                          "last": None if r[3] is None else r[3] + 3599, "bytes": int(r[4])}
            r = conn.exec_driver_sql("SELECT COUNT(*), MIN(day), MAX(day), COALESCE(SUM(LENGTH(data)), 0) "
                                     "FROM rollup_days").one()
            out["rollups"] = {"day_rows": r[0], "first": r[1], "last": None if r[2] is None else r[2] + 86399,
                              "bytes": int(r[3])}
        out["file_bytes"] = eng.file_size(self.url)
        return out
