"""The Zabbix API client: pyzabbix with a timeout on every call, retries with backoff, re-login
when a session expires, a deadline for a whole collection pass, and the one place where upstream
errors become Peakwatch errors.

Zabbix versions: the server's version (``apiinfo.version``, asked without credentials) decides how
to authenticate, as each version accepts: 6.0 takes the token or session in the JSON body's
``auth`` field and ``user.login(user=...)``; 6.4 and later take ``Authorization: Bearer`` and
``user.login(username=...)``; 7.2 refuses the ``auth`` field.

    requests / pyzabbix failure                    ->  core.errors
    ---------------------------------------------      ------------------------------------------
    connection refused, DNS, timeout, 5xx, broken  ->  ZabbixUnavailable   (retried with backoff)
    PHP "Allowed memory size ... exhausted"        ->  ZabbixTooLarge      (caller splits the request)
    HTML / PHP error / empty body, 4xx, redirects  ->  ZabbixProtocolError
    bad URL (no scheme, invalid)                   ->  ZabbixProtocolError (names zabbix_url)
    bad token or password, session expired twice   ->  ZabbixAuthError
    any other API error object                     ->  ZabbixAPIError
    an answer without ``result``, or not the shape ->  ZabbixProtocolError (names the method and field)
    the pass deadline passed                       ->  ZabbixUnavailable   (no retry)
"""
from __future__ import annotations

import contextlib
import logging
import time
from typing import Any, Callable, Iterator

import requests
from packaging.version import InvalidVersion, Version
from pyzabbix import ZabbixAPI, ZabbixAPIException
from requests import exceptions as rex

from core.errors import (ZabbixAPIError, ZabbixAuthError, ZabbixError, ZabbixProtocolError, ZabbixTooLarge,
                         ZabbixUnavailable)

log = logging.getLogger("peakwatch.zabbix")
logging.getLogger("pyzabbix").setLevel(logging.WARNING)   # it logs the endpoint at INFO on every client

MAX_BACKOFF = 60.0
#: API error texts that mean "log in again" (6.0 wording) rather than "wrong credentials"
SESSION_EXPIRED = ("session terminated", "re-login", "not authorised", "not authorized")
BAD_CREDENTIALS = ("incorrect user name or password", "api token expired", "invalid api token",
                   "temporarily blocked", "login name or password is incorrect")
PHP_MEMORY = "allowed memory size"


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + "..."


def map_exception(exc: BaseException, url: str, method: str) -> ZabbixError:
    """The Peakwatch error for one requests/pyzabbix failure (see the table in the module doc)."""
    where = f"Zabbix API {url} ({method})"
    if isinstance(exc, ZabbixError):
        return exc
    if isinstance(exc, ZabbixAPIException):
        return _map_api_exception(exc, where)
    if isinstance(exc, (rex.MissingSchema, rex.InvalidSchema, rex.InvalidURL, rex.URLRequired)):
        return ZabbixProtocolError(f"zabbix_url {url!r} is not a usable URL ({_short(exc)}); set zabbix_url to "
                                   f"the frontend address, e.g. http://127.0.0.1:8090.")
    if isinstance(exc, rex.SSLError):
        return ZabbixUnavailable(f"{where}: TLS failed ({_short(exc)}); install the CA certificate on this "
                                 f"machine, or set zabbix_verify_tls=false for a test server only.")
    if isinstance(exc, rex.Timeout):
        return ZabbixUnavailable(f"{where} did not answer in time ({_short(exc)}); raise zabbix_timeout or "
                                 f"check the Zabbix frontend's load.")
    if isinstance(exc, rex.HTTPError):
        return _map_http_error(exc, where)
    if isinstance(exc, (rex.TooManyRedirects, rex.InvalidHeader, rex.InvalidJSONError, rex.ContentDecodingError,
                        rex.JSONDecodeError)):
        return ZabbixProtocolError(f"{where} did not answer JSON-RPC ({type(exc).__name__}: {_short(exc)}); "
                                   f"check that zabbix_url points at the Zabbix frontend.")
    if isinstance(exc, (rex.ConnectionError, rex.ChunkedEncodingError, rex.RetryError, rex.StreamConsumedError,
                        rex.RequestException)):
        return ZabbixUnavailable(f"{where} is unreachable ({type(exc).__name__}: {_short(exc)}); check that "
                                 f"Zabbix is running and zabbix_url is right.")
    if isinstance(exc, ValueError):
        return ZabbixProtocolError(f"{where} answered something unexpected: {_short(exc)}")
    raise exc  # not an upstream error: a bug, let it show


def _map_http_error(exc: rex.HTTPError, where: str) -> ZabbixError:
    resp = exc.response
    status = resp.status_code if resp is not None else 0
    body = resp.text if resp is not None else ""
    if PHP_MEMORY in body.lower():
        return ZabbixTooLarge(f"{where}: the frontend ran out of PHP memory (HTTP {status}); ask for fewer "
                              f"items or a shorter window, or raise PHP memory_limit.")
    if status >= 500 or status in (0, 408, 429):
        return ZabbixUnavailable(f"{where} answered HTTP {status}; Zabbix's frontend or php-fpm is down "
                                 f"or overloaded.")
    return ZabbixProtocolError(f"{where} answered HTTP {status}; check that zabbix_url is the Zabbix frontend "
                               f"(the API lives at /api_jsonrpc.php).")


def _map_api_exception(exc: ZabbixAPIException, where: str) -> ZabbixError:
    text = str(exc)
    low = text.lower()
    if low.startswith("unable to parse json") or low.startswith("received empty response"):
        if PHP_MEMORY in low:
            return ZabbixTooLarge(f"{where}: the frontend ran out of PHP memory; ask for fewer items or a "
                                  f"shorter window, or raise PHP memory_limit.")
        return ZabbixProtocolError(f"{where} answered HTML or a PHP error instead of JSON "
                                   f"({_short(text, 120)}); check zabbix_url and the frontend's PHP log.")
    if any(s in low for s in BAD_CREDENTIALS):
        return ZabbixAuthError(f"{where}: Zabbix refused the credentials ({_short(text)}); set a valid "
                               f"zabbix_token (or zabbix_user/zabbix_password).")
    if any(s in low for s in SESSION_EXPIRED):
        return ZabbixAuthError(f"{where}: not authorised ({_short(text)}); the session expired or the "
                               f"token/user lacks rights. Check zabbix_token or zabbix_user/zabbix_password.")
    return ZabbixAPIError(f"{where} answered an error: {_short(text, 300)}")


@contextlib.contextmanager
def mapped_errors(url: str, method: str) -> Iterator[None]:
    """Turn every requests/pyzabbix failure raised inside into a core.errors Zabbix* error."""
    try:
        yield
    except ZabbixError:
        raise
    except (ZabbixAPIException, rex.RequestException, ValueError) as exc:
        raise map_exception(exc, url, method) from exc


class ZabbixClient:
    """One Zabbix API endpoint. ``call(method, **params)`` returns the JSON-RPC result.

    Args:
        url: frontend URL (``/api_jsonrpc.php`` is added when missing).
        token: API token (preferred); else ``user``/``password`` log in, and log in again when the
            session expires.
        timeout: seconds per HTTP call; retries/backoff: for ZabbixUnavailable only.
        sleep: injected for tests.
    """

    def __init__(self, url: str, token: str = "", user: str = "", password: str = "", *, verify_tls: bool = True,
                 timeout: float = 30.0, retries: int = 4, backoff: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep, session: requests.Session | None = None):
        if not url:
            raise ZabbixProtocolError("zabbix_url is empty; set it to the Zabbix frontend, e.g. "
                                      "http://127.0.0.1:8090.")
        if not token and not (user and password):
            raise ZabbixAuthError("no Zabbix credentials: set zabbix_token (preferred) or zabbix_user and "
                                  "zabbix_password.")
        self.url = url
        self._token, self._user, self._password = token, user, password
        self.retries, self.backoff, self._sleep = retries, backoff, sleep
        session = session or requests.Session()
        session.verify = verify_tls
        self.api = ZabbixAPI(url, session=session, timeout=timeout, detect_version=False)
        self.timeout = timeout
        self.calls = 0
        self._logged_in = False
        self.server_version: Version | None = None
        self.deadline: float | None = None        # time.monotonic() by which the current pass must end
        self._deadline_s = 0.0

    @classmethod
    def from_settings(cls, settings, **kw) -> "ZabbixClient":
        return cls(settings.zabbix_url, settings.zabbix_token, settings.zabbix_user, settings.zabbix_password,
                   verify_tls=settings.zabbix_verify_tls, timeout=settings.zabbix_timeout,
                   retries=settings.zabbix_retries, backoff=settings.zabbix_backoff, **kw)

    def login(self) -> None:
        """Authenticate (token or user/password) the way the server's version expects; errors are mapped."""
        if self.server_version is None:
            text = self.version()
            try:
                self.server_version = Version(str(text))
            except InvalidVersion as exc:
                raise ZabbixProtocolError(f"Zabbix API {self.url} (apiinfo.version) answered {_short(text, 40)!r}, "
                                          f"not a version; check that zabbix_url is the Zabbix frontend.") from exc
            self.api.version = self.server_version     # pyzabbix: Bearer header and username from 6.4 / 5.4
        with mapped_errors(self.url, "user.login"):
            self._with_retries("user.login", self._login_once)
        self._logged_in = True

    def _login_once(self) -> None:
        if self._token:
            self.api.login(api_token=self._token)
        else:
            self.api.login(user=self._user, password=self._password)

    def version(self) -> str:
        return self._call_mapped("apiinfo.version", None)

    # ---------------------------------------------------------------- the pass deadline
    def start_pass(self, seconds: float) -> None:
        """Every call from now on must end within ``seconds`` (0: no deadline): each HTTP call's
        timeout is cut to the time left and nothing is retried past it."""
        self._deadline_s = float(seconds)
        self.deadline = time.monotonic() + seconds if seconds > 0 else None

    def end_pass(self) -> None:
        self.deadline = None

    def _time_left(self, method: str) -> float | None:
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise ZabbixUnavailable(f"the collection pass used its {self._deadline_s:g} s (zabbix_pass_seconds) "
                                    f"before {method}; what was written stays and the next pass continues from "
                                    f"there. Raise zabbix_pass_seconds if Zabbix is only slow.")
        return left

    def call(self, method: str, params: Any = None) -> Any:
        """Call one API method; retries ZabbixUnavailable, logs in again once on an expired session."""
        if not self._logged_in:
            self.login()
        try:
            return self._call_mapped(method, params)
        except ZabbixAuthError:
            if self._token:
                raise
            log.warning("Zabbix session expired; logging in again", extra={"fields": {"method": method}})
            self.login()
            try:
                return self._call_mapped(method, params)
            except ZabbixAuthError as exc:
                raise ZabbixAuthError(f"{exc} (the session expired twice in a row)") from exc

    def _call_mapped(self, method: str, params: Any) -> Any:
        with mapped_errors(self.url, method):
            answer = self._with_retries(method, lambda: self.api.do_request(method, params))
        if not isinstance(answer, dict) or "result" not in answer:
            raise ZabbixProtocolError(f"Zabbix API {self.url} ({method}) answered JSON without a result "
                                      f"({_short(answer, 120)}); check that zabbix_url is the Zabbix frontend.")
        return answer["result"]

    def _with_retries(self, method: str, fn: Callable[[], Any]) -> Any:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            left = self._time_left(method)
            self.api.timeout = self.timeout if left is None else max(0.1, min(self.timeout, left))
            self.calls += 1
            try:
                return fn()
            except (ZabbixAPIException, rex.RequestException, ValueError) as exc:
                err = map_exception(exc, self.url, method)
                if not isinstance(err, ZabbixUnavailable) or attempt == self.retries:
                    raise err from exc
                left = self._time_left(method)
                wait = delay if left is None else min(delay, left)
                log.warning("Zabbix call failed, retrying in %.1fs (%d/%d): %s", wait, attempt + 1, self.retries,
                            err, extra={"fields": {"method": method, "retry": attempt + 1}})
                self._sleep(wait)
                delay = min(MAX_BACKOFF, delay * 2 if delay else 0)
        raise AssertionError("unreachable")


def rows_of(result: Any, method: str, fields: tuple[str, ...]) -> list[dict]:
    """``result`` as a list of objects that each hold ``fields``, else a ZabbixProtocolError
    naming the method and what was wrong (the collector never meets a KeyError)."""
    if not isinstance(result, list):
        raise ZabbixProtocolError(f"Zabbix {method} answered {type(result).__name__} {_short(result, 80)!r} where "
                                  f"a list of objects belongs; is zabbix_url a Zabbix frontend of version 6.0 or later?")
    for row in result:
        if not isinstance(row, dict) or any(f not in row for f in fields):
            missing = [f for f in fields if not isinstance(row, dict) or f not in row]
            raise ZabbixProtocolError(f"Zabbix {method} answered a row without {', '.join(missing)} "
                                      f"({_short(row, 80)}); is zabbix_url a Zabbix frontend of version 6.0 or later?")
    return result
