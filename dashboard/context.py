"""What callbacks and page layouts need (store, settings, shared cache), reached through the
Flask app serving the request: no module globals, so several apps can live in one process."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import flask
from flask_caching import Cache

EXTENSION = "peakwatch"


@dataclass
class Context:
    store: Any
    settings: Any
    cache: Cache
    clock: Callable[[], float] = field(default=time.time)

    @property
    def lang(self) -> str:
        return self.settings.language

    @property
    def tz(self) -> str:
        return self.settings.timezone

    def now(self) -> int:
        return int(self.clock())

    def cached(self, key: str, ttl: int, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per ``ttl`` seconds for every viewer and worker sharing the cache."""
        value = self.cache.get(key)
        if value is None:
            value = compute()
            self.cache.set(key, value, timeout=ttl)
        return value


def cache_config(settings, identity: str) -> dict:
    """Flask-Caching config: a filesystem cache per store (``Store.identity``; shared by gunicorn
    workers) or simple."""
    digest = hashlib.sha1(identity.encode()).hexdigest()[:12]
    if settings.cache_type == "simple":
        return {"CACHE_TYPE": "SimpleCache", "CACHE_KEY_PREFIX": digest}
    from dashboard.cache_files import default_dir
    directory = settings.cache_dir or str(default_dir(digest))
    return {"CACHE_TYPE": "dashboard.cache_files.PrivateFileSystemCache", "CACHE_DIR": directory,
            "CACHE_THRESHOLD": 2000}


def install(server: flask.Flask, store, settings, clock: Callable[[], float] = time.time) -> Context:
    cache = Cache(server, config=cache_config(settings, store.identity))
    ctx = Context(store, settings, cache, clock)
    server.extensions[EXTENSION] = ctx
    return ctx


def current() -> Context:
    return flask.current_app.extensions[EXTENSION]
