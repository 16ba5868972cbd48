"""The filesystem cache shared by gunicorn workers: a private folder and a data-only format.

Flask-Caching's ``FileSystemCache`` pickles its entries; a pickle runs code when loaded, so anyone
able to put a file in the folder could run code in the web process. This backend keeps the same
files (and the same sharing between workers) with two changes: the folder must be the user's own
and closed to others (0700, owner checked: a folder another user created first is refused), and
the entries are :mod:`dashboard.cache_codec` documents, which load as data or not at all.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import IO, Any

from flask_caching.backends.filesystemcache import FileSystemCache

from core.errors import ConfigError
from dashboard import cache_codec

log = logging.getLogger("peakwatch.dashboard.cache")



def default_dir(digest: str) -> Path:
    """``$XDG_CACHE_HOME/peakwatch/cache-<digest>`` (``~/.cache`` by default): under the user's
    home, not the shared temp folder where another user could create it first."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "peakwatch" / f"cache-{digest}"


def private_dir(path: str | os.PathLike) -> Path:
    """Create ``path`` (mode 0700) or check an existing one: a real folder owned by this user,
    closed to others (an own folder that is open is closed with chmod). ConfigError otherwise."""
    p = Path(path)
    try:
        p.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        p.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"cannot create the cache folder {p} ({exc.strerror}); set cache_dir to a folder "
                          f"you can write, or cache_type = \"simple\".") from exc
    st = os.lstat(p)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode):
        raise ConfigError(f"the cache folder {p} is not a folder (a link or a file); remove it or set "
                          f"cache_dir to another folder.")
    if st.st_uid != os.geteuid():
        raise ConfigError(f"the cache folder {p} belongs to another user (uid {st.st_uid}); Peakwatch only "
                          f"uses a cache folder of its own: remove it or set cache_dir to another folder.")
    if st.st_mode & 0o077:
        os.chmod(p, 0o700)
    return p


class DataSerializer:
    """cachelib's serializer interface (``dump(value, file)``, ``load(file)``) over cache_codec."""

    def dump(self, value: Any, f: IO[bytes]) -> None:
        try:
            raw = cache_codec.dumps(value)
        except TypeError as exc:
            # a value of a type the format does not hold: not cached (computed again next time)
            log.error("not cached: %s", exc)
            return
        f.write(raw)

    def load(self, f: IO[bytes]) -> Any:
        try:
            return cache_codec.loads(f.read())
        except cache_codec.CacheFormatError as exc:
            log.warning("cache entry %s ignored: %s", getattr(f, "name", "?"), exc)
            return None


class PrivateFileSystemCache(FileSystemCache):
    """``FileSystemCache`` in a private folder, storing data-only entries (``CACHE_TYPE`` =
    ``dashboard.cache_files.PrivateFileSystemCache``)."""

    serializer = DataSerializer()

    def __init__(self, cache_dir: str, *args, **kwargs) -> None:
        super().__init__(str(private_dir(cache_dir)), *args, **kwargs)
