"""Keeps the wall's snapshot warm: a background thread in the web process computes the snapshot as
soon as new data arrives (or a refresh interval begins), so no viewer's refresh pays for it. The
fleet page's data (5-minute intervals) is kept warm the same way for the day counts viewed in the
last 15 minutes (a wall rotation through ``/fleet?kiosk=1`` never waits for it).

Every worker of a gunicorn server runs one warmer (started on the worker's first request, so it
also works with ``--preload`` and the dev server); a lock shared by the workers (a file created with
``O_EXCL`` in the filesystem cache's directory, or a process lock for the ``simple`` cache) lets
only one of them compute, and the result goes to the shared Flask-Caching cache. The thread never
holds anything a request waits for: requests read whatever snapshot is in the cache. It idles when
nobody has viewed the dashboard for a while, and stops on ``stop()`` (and at interpreter exit).
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
import weakref
from pathlib import Path

from dashboard import page_cache as cached
from dashboard.context import Context

log = logging.getLogger("peakwatch.dashboard.warmer")

MARK_KEY = "wall:warm:mark"       # (data mark, refresh interval) the cached snapshot was computed for
LOCK_STALE_S = 120                # a lock file older than this was left by a killed worker
IDLE_AFTER_S = 120                # no request for this long (walls refresh every few seconds):
                                  # stop computing until the next viewer

_live: "weakref.WeakSet[Warmer]" = weakref.WeakSet()


def data_mark(store) -> tuple:
    """Changes whenever the store receives data (``Store.data_mark``: a stat on SQLite)."""
    return store.data_mark()


class Warmer:
    def __init__(self, server, ctx: Context, every_s: float):
        self.server = server
        self.ctx = ctx
        self.every_s = every_s
        self.last_request = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._start_lock = threading.Lock()
        self._proc_lock = threading.Lock()
        directory = (getattr(ctx.cache, "config", None) or {}).get("CACHE_DIR")
        self.lock_path = Path(directory) / "wall-warm.lock" if directory else None

    # ------------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()

    def ensure_started(self) -> None:
        """Start the thread in this process (a forked worker starts its own). Cheap when running."""
        self.last_request = time.monotonic()
        if self.running or self._stop.is_set():
            return
        with self._start_lock:
            if self.running or self._stop.is_set():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="peakwatch-wall-warmer", daemon=True)
            self._thread.start()
            _live.add(self)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (a snapshot being computed is finished first)."""
        self._stop.set()
        t = self._thread
        if t is not None and t.is_alive() and t is not threading.current_thread():
            t.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            idle_after = max(IDLE_AFTER_S, 4 * self.ctx.settings.refresh_seconds)
            if time.monotonic() - self.last_request < idle_after:
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - the warmer must never die; requests compute as before
                    log.exception("wall warmer tick failed")
            self._stop.wait(self.every_s)

    # ------------------------------------------------------------------ work
    def tick(self) -> bool:
        """Compute the snapshot if the data or the refresh interval moved on since the cached one
        and no other worker is at it. True when this call computed it."""
        ctx = self.ctx
        refresh = ctx.settings.refresh_seconds
        with self.server.app_context():
            ctx.cache.set(cached.HEARTBEAT_KEY, os.getpid(), timeout=int(max(3 * self.every_s, 10)))
            now = ctx.now()
            want = (data_mark(ctx.store), now // refresh)
            have = ctx.cache.get(MARK_KEY)
            wall_due = have is None or tuple(have[0]) != want[0] or have[1] != want[1]
            fleet_due = cached.fleet_due(ctx, now)    # fleet pages viewed lately, new 5-minute interval
            if not (wall_due or fleet_due) or not self._claim():
                return False
            try:
                if wall_due:
                    snap = cached.compute_wall_snapshot(ctx, now)
                    cached.wall_views(ctx, snap)
                    ctx.cache.set(MARK_KEY, want, timeout=refresh * 4)
                for days in fleet_due:
                    cached.fleet_page(ctx, days, now, viewed=False)
            finally:
                self._release()
        return True

    def _claim(self) -> bool:
        if self.lock_path is None:
            return self._proc_lock.acquire(blocking=False)
        for _ in range(2):
            try:
                fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    if time.time() - self.lock_path.stat().st_mtime > LOCK_STALE_S:
                        self.lock_path.unlink()   # its owner was killed mid-computation
                        continue
                except FileNotFoundError:
                    continue
                return False
            except FileNotFoundError:   # cache directory not created yet
                self.lock_path.parent.mkdir(parents=True, exist_ok=True)
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return True
        return False

    def _release(self) -> None:
        if self.lock_path is None:
            self._proc_lock.release()
        else:
            try:
                self.lock_path.unlink()
            except FileNotFoundError:
                pass


def install(server, ctx: Context) -> Warmer | None:
    """Attach a warmer to the Flask server (``wall_warm_seconds``; 0 disables it): started by the
    first request of each process, reachable as ``server.extensions["peakwatch_warmer"]``."""
    every = float(getattr(ctx.settings, "wall_warm_seconds", 0) or 0)
    if every <= 0:
        return None
    warmer = Warmer(server, ctx, every)
    server.extensions["peakwatch_warmer"] = warmer
    server.before_request(warmer.ensure_started)
    return warmer


@atexit.register
def _stop_all() -> None:
    for w in list(_live):
        w.stop(timeout=5)
