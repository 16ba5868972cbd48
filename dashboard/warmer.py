"""Keeps the wall's snapshot warm: a background thread in the web process computes the snapshot as
soon as new data arrives (or a refresh interval begins), so no viewer's refresh pays for it. The
fleet page's data (5-minute intervals) is kept warm the same way for the day counts viewed in the
last 15 minutes (a wall rotation through ``/fleet?kiosk=1`` never waits for it). A second thread
computes the capacity plan of each promotion viewed on ``/capacity`` in the last week, once per data
version (minutes of CPU at 3,000 instances: a request never computes it, it reads the newest plan
stored; ``capacity-warm.lock`` lets one worker at a time compute it), then the backtest summary.

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

from dashboard import forecast_data as fd
from dashboard import page_cache as cached
from dashboard.context import Context

log = logging.getLogger("peakwatch.dashboard.warmer")

MARK_KEY = "wall:warm:mark"       # (data mark, refresh interval) the cached snapshot was computed for
LOCK_STALE_S = 120                # a lock file older than this was left by a killed worker
CAP_LOCK_STALE_S = 3600          # the capacity plan takes minutes: its lock goes stale much later
CAP_POLL_S = 2.0                  # how often the capacity thread looks for a plan to compute
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
        self._cap_thread: threading.Thread | None = None
        self._pid: int | None = None
        self._start_lock = threading.Lock()
        self._proc_lock = threading.Lock()
        self._cap_proc_lock = threading.Lock()
        directory = (getattr(ctx.cache, "config", None) or {}).get("CACHE_DIR")
        self.lock_path = Path(directory) / "wall-warm.lock" if directory else None
        self.cap_lock_path = Path(directory) / "capacity-warm.lock" if directory else None

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
            self._cap_thread = threading.Thread(target=self._run_capacity, name="peakwatch-capacity-warmer",
                                                daemon=True)
            self._cap_thread.start()
            _live.add(self)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (a snapshot being computed is finished first)."""
        self._stop.set()
        for t in (self._thread, self._cap_thread):
            if t is not None and t.is_alive() and t is not threading.current_thread():
                t.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._idle():
                try:
                    self.tick()
                except Exception:  # noqa: BLE001 - the warmer must never die; requests compute as before
                    log.exception("wall warmer tick failed")
            self._stop.wait(self.every_s)

    def _idle(self) -> bool:
        return time.monotonic() - self.last_request >= max(IDLE_AFTER_S, 4 * self.ctx.settings.refresh_seconds)

    def _run_capacity(self) -> None:
        while not self._stop.is_set():
            if not self._idle():
                try:
                    self.tick_capacity()
                except Exception:  # noqa: BLE001 - the warmer must never die; the page keeps the last plan
                    log.exception("capacity warmer tick failed")
            self._stop.wait(max(self.every_s, CAP_POLL_S))

    # ------------------------------------------------------------------ work
    def tick_capacity(self) -> bool:
        """Compute the capacity plan of every promotion viewed lately whose stored plan is older
        than the data, then the backtest summary when it is older too. True when it computed."""
        ctx = self.ctx
        with self.server.app_context():
            due = cached.capacity_due(ctx)
            backtest = cached.backtest_summary(ctx)
            backtest_due = bool(ctx.cache.get(cached.CAP_VIEWED)) and (
                backtest is None or backtest["version"] != fd.data_version(ctx))
            if not (due or backtest_due) or not self._claim(capacity=True):
                return False
            try:
                for name in due:
                    t0 = time.monotonic()
                    cached.compute_capacity(ctx, name)
                    log.info("capacity plan for %s computed in %.0f s", name, time.monotonic() - t0)
                if backtest_due and not self._stop.is_set():
                    t0 = time.monotonic()
                    cached.compute_backtest(ctx)
                    log.info("backtest summary computed in %.0f s", time.monotonic() - t0)
            finally:
                self._release(capacity=True)
        return True

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

    def _claim(self, capacity: bool = False) -> bool:
        """Take the wall's (or the capacity plan's) lock shared by the workers; False when taken."""
        path, proc_lock = (self.cap_lock_path, self._cap_proc_lock) if capacity else (self.lock_path, self._proc_lock)
        stale_s = CAP_LOCK_STALE_S if capacity else LOCK_STALE_S
        if path is None:
            return proc_lock.acquire(blocking=False)
        for _ in range(2):
            try:
                fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                try:
                    if time.time() - path.stat().st_mtime > stale_s:
                        path.unlink()   # its owner was killed mid-computation
                        continue
                except FileNotFoundError:
                    continue
                return False
            except FileNotFoundError:   # cache directory not created yet
                path.parent.mkdir(parents=True, exist_ok=True)
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return True
        return False

    def _release(self, capacity: bool = False) -> None:
        path, proc_lock = (self.cap_lock_path, self._cap_proc_lock) if capacity else (self.lock_path, self._proc_lock)
        if path is None:
            proc_lock.release()
        else:
            try:
                path.unlink()
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
