"""Engine creation, SQLite pragmas, schema migration and the one map from database errors to
the store's error tree."""
from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import Connection, Engine, make_url

from core.errors import StoreCorrupt, StoreError, StoreFull, StoreLocked, StoreUnavailable

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_MAGIC = b"SQLite format 3\x00"
#: PostgreSQL advisory-lock classes (first key of the two-key form): writers lock the latest-value
#: blocks (4,096 series each) they touch; migrations lock the schema
PG_LOCK_WRITE = 0x5057
PG_LOCK_SCHEMA = 0x5058
#: SQLSTATE class 53 "insufficient resources": 53100 disk full, 53200 out of memory
PG_DISK_FULL = "53100"


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def check_sqlite_file(path: Path) -> None:
    """Refuse a file that is not SQLite before anything touches it (nothing is written)."""
    if path.exists() and path.stat().st_size > 0:
        with path.open("rb") as fh:
            head = fh.read(16)
        if head != SQLITE_MAGIC:
            raise StoreCorrupt(f"{path} is not a SQLite database (corrupt or another kind of file); "
                               f"point store_url at another file or move this one away.")


def _check_sqlite_path(path: Path) -> None:
    """A store file's folder is created when its own parent exists (``data/`` in a checkout); a
    folder as the store, or a path under missing folders (a typo), is refused in one line."""
    if path.is_dir():
        raise StoreUnavailable(f"store_url names the folder {path}, not a database file; name a file in it, "
                               f"e.g. sqlite:///{path / 'peakwatch.sqlite'}.")
    folder = path.parent
    if folder.is_dir():
        return
    if folder.exists():
        raise StoreUnavailable(f"{folder} is a file, not a folder; fix the store path in store_url.")
    if not folder.parent.is_dir():
        raise StoreUnavailable(f"the folder {folder} of the store does not exist (nor {folder.parent}); create it "
                               f"or fix the store path in store_url.")
    try:
        folder.mkdir()
    except OSError as exc:
        raise StoreUnavailable(f"cannot create the folder {folder} for the store ({exc.strerror}); create it "
                               f"or point store_url somewhere writable.") from exc


def _wal(cur, wait_s: float) -> None:
    """Switch a SQLite file to write-ahead logging, waiting up to ``wait_s`` for other connections:
    SQLite answers "locked" at once, without its busy handler, when another process holds a write
    lock on a file still in rollback mode (several processes opening a fresh store together)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def make_engine(url: str, busy_timeout_s: float = 10.0) -> Engine:
    try:
        parsed = make_url(url)
    except exc.ArgumentError as e:
        raise StoreUnavailable(f"store_url {url!r} is not a database URL ({e}); use "
                               f"sqlite:///path/file.sqlite or postgresql+psycopg://user@host/db.") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = sqlite_path(url)
        if path is not None:
            _check_sqlite_path(path)
            check_sqlite_file(path)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001 - DBAPI objects
            cur = dbapi_conn.cursor()
            _wal(cur, busy_timeout_s)
            cur.execute("PRAGMA synchronous=NORMAL")
            # 64 MiB page cache (default 2 MiB): every collection pass updates one rollup row per
            # series, which at 30,000 instances is far more than 2 MiB of pages
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()
        return engine
    if backend == "postgresql":
        return create_engine(url, pool_pre_ping=True,
                             connect_args={"connect_timeout": 5} if parsed.get_driver_name() == "psycopg" else {})
    raise StoreUnavailable(f"store_url uses {backend!r}; Peakwatch supports sqlite:/// and "
                           f"postgresql+psycopg:// URLs.")


def describe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "(invalid URL)"


def _oneline(err: object) -> str:
    return " ".join(str(err).split())


@contextlib.contextmanager
def mapped_errors(url: str) -> Iterator[None]:
    """Turn SQLAlchemy/DBAPI errors into the store's errors, naming the fix."""
    shown = describe_url(url)
    try:
        yield
    except StoreError:
        raise
    except exc.OperationalError as e:
        text = str(e.orig or e).lower()
        if "disk is full" in text or getattr(e.orig, "sqlstate", None) == PG_DISK_FULL:
            raise _full(shown, e) from e
        if "locked" in text or "busy" in text:
            raise StoreLocked(f"the store {shown} is locked by another process; stop the other "
                              f"Peakwatch process (or the tool holding the file) and retry.") from e
        if "not a database" in text or "malformed" in text or "file is encrypted" in text:
            raise StoreCorrupt(f"{shown} is not a usable SQLite database ({_oneline(e.orig)}); point store_url "
                               f"at another file or restore this one from a backup.") from e
        if "unable to open" in text:
            raise StoreUnavailable(f"cannot open {shown} ({_oneline(e.orig)}); check the path exists and is "
                                   f"writable.") from e
        raise StoreUnavailable(f"the database {shown} does not answer ({_oneline(e.orig)}); check "
                               f"that it is running and that store_url is right.") from e
    except exc.DatabaseError as e:
        text = str(e.orig or e).lower()
        if "disk is full" in text or getattr(e.orig, "sqlstate", None) == PG_DISK_FULL:
            raise _full(shown, e) from e
        if "not a database" in text or "malformed" in text:
            raise StoreCorrupt(f"{shown} is not a usable SQLite database; point store_url at another "
                               f"file or restore this one from a backup.") from e
        raise StoreError(f"database error on {shown}: {_oneline(e.orig)}") from e


def _full(shown: str, e: exc.DBAPIError) -> StoreFull:
    return StoreFull(f"the disk holding the store {shown} is full ({_oneline(e.orig)}); nothing of this write "
                     f"was stored: free space there (or run `python app.py store prune`) and retry.")


def begin_write(conn: Connection) -> None:
    """Make the transaction just begun on ``conn`` a writer's from its first statement.

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock now (waiting up to the busy timeout), so a
    read-modify-write (merging a raw chunk, a rollup day, a latest-value block) cannot interleave
    with another process's: Python's sqlite3 would otherwise run the reads outside any
    transaction and begin one only at the first INSERT. PostgreSQL needs no more here; writers
    lock what they touch with :func:`lock_blocks`."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def lock_blocks(conn: Connection, blocks) -> None:
    """PostgreSQL: hold transaction-level advisory locks on these latest-value blocks (a block is
    4,096 series: their raw chunks, rollup days and latest values), taken in one statement in
    ascending order so writers never deadlock. No-op on SQLite (the write lock is the file's)."""
    if conn.dialect.name != "postgresql":
        return
    keys = sorted({int(b) for b in blocks})
    if keys:
        conn.exec_driver_sql("SELECT count(pg_advisory_xact_lock(%s, b)) FROM "
                             "(SELECT unnest(%s::int[]) AS b ORDER BY 1) AS wanted", (PG_LOCK_WRITE, keys))


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


MIGRATE_WAIT_S = 180      # how long opening a store waits for another process's schema upgrade

def migrate(engine: Engine) -> bool:
    """Upgrade to the newest schema, once however many processes open a store at the same time:
    the upgrade runs under the schema lock (SQLite's write lock, a PostgreSQL advisory lock) and
    the revision is read again under it. True when something was applied."""
    head = head_revision()
    if current_revision(engine) == head:
        return False
    cfg = alembic_config()
    with engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        busy_ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar() if sqlite else None
        if sqlite:
            # wait for another process's upgrade as long as an upgrade may take on a busy machine,
            # not the busy timeout of ordinary writes (10 s): four processes opening a fresh store
            # on two loaded cores waited longer than that for the first one's upgrade
            conn.exec_driver_sql(f"PRAGMA busy_timeout={MIGRATE_WAIT_S * 1000}")
        try:
            begin_write(conn)
        finally:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA busy_timeout={int(busy_ms)}")
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s, 0)", (PG_LOCK_SCHEMA,))
        if MigrationContext.configure(conn).get_current_revision() == head:
            return False   # another process migrated while this one waited for the lock
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return True


def identity(url: str) -> str:
    """The database a URL names, the same however it is written: a SQLite file by its absolute
    path (two demos started in different folders never look alike), others without password."""
    path = sqlite_path(url)
    if path is not None:
        return f"sqlite:///{path.resolve()}"
    return describe_url(url)


def data_mark(engine: Engine, url: str) -> tuple:
    """A cheap value that changes whenever data is written. SQLite: size and modification time of
    the database file and its write-ahead log (two stats, no query). PostgreSQL: the newest
    transaction id among the latest-value rows (every sample write updates one) and their count."""
    path = sqlite_path(url)
    if path is not None:
        out: list[int] = []
        for p in (path, Path(f"{path}-wal")):
            try:
                st = p.stat()
                out += [st.st_size, st.st_mtime_ns]
            except FileNotFoundError:
                out += [0, 0]
        return tuple(out)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            row = conn.exec_driver_sql("SELECT count(*), coalesce(max(xmin::text::bigint), 0) FROM latest_blocks").one()
        else:
            row = conn.exec_driver_sql("SELECT count(*), 0 FROM latest_blocks").one()
    return (int(row[0]), int(row[1]))


def file_size(url: str) -> int | None:
    path = sqlite_path(url)
    if path is None or not path.exists():
        return None
    total = path.stat().st_size
    wal = Path(str(path) + "-wal")
    return total + (wal.stat().st_size if wal.exists() else 0)

