"""Checks for what a browser sends: callback inputs and page query parameters.

Everything a callback receives comes from the client and may be anything JSON holds (a number
where a name belongs, a list of 4,000 entries, markup). The pages' callbacks pass their inputs
through these checks first; a bad value raises :class:`BadInput`, which :func:`guarded_callback`
turns into "nothing changes" (or the callback's own message), never an HTTP 500.
"""
from __future__ import annotations

import functools
import logging
import math
from typing import Any, Callable, Iterable

from dash import no_update
from dash.exceptions import PreventUpdate

log = logging.getLogger("peakwatch.dashboard.inputs")

MAX_TEXT = 200          # names (businesses, clusters, promotions) are far shorter
MAX_LIST = 64           # lines of one chart, overlay choices...


class BadInput(ValueError):
    """A value the page would never send; the message says which and what is accepted."""


def text(value: Any, name: str, max_len: int = MAX_TEXT, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise BadInput(f"{name} must be text of at most {max_len} characters.")
    return value


def choice(value: Any, choices: Iterable, name: str):
    """``value`` if it is one of ``choices`` (compared as sent: no conversion)."""
    options = list(choices)
    if not isinstance(value, (str, int)) or isinstance(value, bool) or value not in options:
        shown = ", ".join(map(str, options[:8])) + (" ..." if len(options) > 8 else "")
        raise BadInput(f"{name} must be one of {shown}.")
    return value


def whole(value: Any, name: str, lo: int, hi: int) -> int:
    """A whole number in [lo, hi] sent as a number or as its digits."""
    if isinstance(value, bool):
        raise BadInput(f"{name} must be a whole number from {lo} to {hi}.")
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        value = int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value) < 20:
        value = int(value)
    if not isinstance(value, int) or not lo <= value <= hi:
        raise BadInput(f"{name} must be a whole number from {lo} to {hi}.")
    return value


def texts(value: Any, name: str, allowed: Iterable[str] | None = None, max_items: int = MAX_LIST) -> list[str]:
    """A list of at most ``max_items`` texts (each one of ``allowed`` when given); None is empty."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > max_items:
        raise BadInput(f"{name} must be a list of at most {max_items} entries.")
    keep = set(allowed) if allowed is not None else None
    for v in value:
        text(v, name)
        if keep is not None and v not in keep:
            raise BadInput(f"{name}: {v[:40]!r} is not one of {', '.join(sorted(keep))}.")
    return list(value)


def mapping(value: Any, name: str, optional: bool = True) -> dict:
    if value is None and optional:
        return {}
    if not isinstance(value, dict):
        raise BadInput(f"{name} must be an object.")
    return value


def repeated(params: dict) -> str | None:
    """The message for query parameters given more than once (Dash hands them over as lists)."""
    twice = sorted(k for k, v in params.items() if isinstance(v, list))
    if not twice:
        return None
    names = ", ".join(f"'{k}'" for k in twice)
    return (f"The link gives {names} more than once; keep one value each "
            f"(for example ?{twice[0]}={params[twice[0]][0]}).")


def guarded_callback(outputs: int, on_bad: Callable[[BadInput], Any] | None = None):
    """Wrap a callback: bad input gives ``on_bad(error)`` (default: nothing changes), any other
    failure is logged and changes nothing; never an HTTP 500 for what a client sent."""
    def wrap(fn):
        @functools.wraps(fn)
        def run(*args):
            try:
                return fn(*args)
            except PreventUpdate:
                raise
            except BadInput as exc:
                log.info("callback %s: bad input: %s", fn.__name__, exc)
                if on_bad is not None:
                    return on_bad(exc)
                return no_update if outputs == 1 else (no_update,) * outputs
            except Exception:  # noqa: BLE001 - logged with the traceback; the page keeps what it shows
                log.exception("callback %s failed", fn.__name__)
                raise PreventUpdate from None
        return run
    return wrap
