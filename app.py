"""Peakwatch entry point and CLI. Wires the packages together; holds no callbacks.

    python app.py                 the demo: synthetic fleet in SQLite, kept live, web app served
    python app.py demo --scale N  the same at another fleet size
    python app.py serve           the web app on the configured store
    python app.py store info|migrate|prune
    python app.py settings
    python app.py alerts --once|test|silence|ack|log
    python app.py users add|list|disable|enable|token|revoke-token|audit

Production serving: ``gunicorn -w 3 -b 127.0.0.1:8050 'app:server'`` (settings from the
environment / PEAKWATCH_CONFIG).
"""
from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from typing import Callable

from core.errors import ConfigError, PeakwatchError
from core.logs import setup_logging
from core.settings import SETTINGS, Settings, load_settings

log = logging.getLogger("peakwatch")


def package_commands() -> tuple:
    """The packages' CLI modules, each adding its sub-commands with ``register(subparsers, parent)``.
    Imported here, by name in the code: a missing one fails at start, it is never skipped.

    A handler that sets ``with_store="migrated"`` (or ``"existing"``: no migration) is called as
    ``func(args, settings, store)`` with the store app.py opened (``open_store``: the busy timeout
    and retention of the settings) and closes after it; ``check_settings(args, settings)``, when
    set, runs before the store is opened, so bad configuration changes nothing. Other handlers
    are called as ``func(args, settings)``."""
    from collectors.zabbix import cli as zabbix_cli
    from forecasting import cli as forecasting_cli
    from forecasting import promotions_cli
    from alerting import cli as alerting_cli
    from reports import cli as reports_cli
    from accounts import cli as accounts_cli
    return (zabbix_cli, forecasting_cli, promotions_cli, reports_cli, alerting_cli, accounts_cli)


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line naming the fix."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"peakwatch: error: {message} (see `{self.prog} --help`)\n")


def _settings_parent() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("settings (each also PEAKWATCH_<NAME> or a key in the --config file)")
    group.add_argument("--config", dest="config", default=argparse.SUPPRESS, metavar="PATH",
                       help="TOML config file")
    for s in SETTINGS:
        flag = "--" + s.name.replace("_", "-")
        group.add_argument(flag, dest=s.name, default=argparse.SUPPRESS, metavar=s.name.upper(),
                           help=f"{s.help} (default: {s.default!r})")
    return parent


def build_parser() -> argparse.ArgumentParser:
    parent = _settings_parent()
    parser = OneLineParser(prog="python app.py", parents=[parent],
                           description="Peakwatch: NoSQL fleet dashboard and big-promotion forecaster.")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    demo = sub.add_parser("demo", parents=[parent], help="synthetic fleet, kept live, with the web app (default)")
    demo.add_argument("--no-serve", action="store_true", help="generate (and keep live) without serving")
    demo.add_argument("--once", action="store_true", help="generate the fleet, then exit (no live points, no web)")
    demo.set_defaults(func=cmd_demo, with_store="migrated")
    serve = sub.add_parser("serve", parents=[parent], help="serve the web app on the configured store")
    serve.set_defaults(func=cmd_serve, with_store="migrated", check_settings=check_serve)
    store = sub.add_parser("store", parents=[parent], help="store maintenance")
    store_sub = store.add_subparsers(dest="store_command", parser_class=OneLineParser, required=True)
    for name, func, with_store, text in (
            ("info", cmd_store_info, "existing", "row counts, sizes and time ranges per tier"),
            ("migrate", cmd_store_migrate, None, "upgrade the schema, keeping the data"),
            ("prune", cmd_store_prune, "migrated", "drop raw samples older than raw_retention_days")):
        p = store_sub.add_parser(name, parents=[parent], help=text, description=text)
        p.set_defaults(func=func, with_store=with_store)
    settings = sub.add_parser("settings", parents=[parent], help="show every setting and where it came from")
    settings.set_defaults(func=cmd_settings)
    parser.set_defaults(open_store=open_store)   # handlers without with_store open the store the app's way
    register_packages(sub, parent, package_commands())
    serve.add_argument("--collect", action="store_true",
                       help="also collect from Zabbix (zabbix_url) every collect_interval seconds")
    return parser


def register_packages(sub, parent: argparse.ArgumentParser, modules) -> None:
    for module in modules:
        register: Callable | None = getattr(module, "register", None)
        if not callable(register):
            raise TypeError(f"{module.__name__} has no register(subparsers, parent); every module listed in "
                            f"app.package_commands adds its sub-commands with one.")
        register(sub, parent)


def resolve_settings(args: argparse.Namespace) -> Settings:
    names = {s.name for s in SETTINGS}
    cli = {k: v for k, v in vars(args).items() if k in names}
    return load_settings(cli=cli, config_path=getattr(args, "config", None))


def open_store(settings: Settings, migrate: bool = True):
    from store import Store
    return Store.open(settings.store_url, raw_retention_days=settings.raw_retention_days, migrate=migrate,
                      busy_timeout_s=settings.store_busy_timeout)


# ------------------------------------------------------------------------- commands
def cmd_settings(args, settings: Settings) -> int:
    width = max(len(s.name) for s in SETTINGS)
    for name, shown, origin in settings.describe():
        print(f"{name:<{width}}  {shown}  ({origin})")
    return 0


def cmd_store_info(args, settings: Settings, store) -> int:
    from store.report import format_info
    print(format_info(store.info(), settings.timezone))
    return 0


def cmd_store_migrate(args, settings: Settings) -> int:
    from store import engine as eng
    engine = eng.make_engine(settings.store_url, settings.store_busy_timeout)
    with eng.mapped_errors(settings.store_url):
        before = eng.current_revision(engine)
        eng.migrate(engine)
        after = eng.current_revision(engine)
    engine.dispose()
    print(f"schema {before or '(empty)'} -> {after}" if before != after else f"schema already at {after}")
    return 0


def cmd_store_prune(args, settings: Settings, store) -> int:
    n = store.prune()
    print(f"dropped {n} raw chunks older than {settings.raw_retention_days} days")
    return 0


def start_alerting(store, settings: Settings):
    """The alert engine and outbox sender in this process (one evaluator across every process: a
    lease in the store). A bad [alerting] table or a missing gateway credential stops the start."""
    from alerting.scheduler import Scheduler
    return Scheduler(store, settings).start()


def make_web_app(store, settings: Settings, alerting: bool = True):
    from api.v1 import install as install_api
    from dashboard.app import create_app
    if alerting:
        start_alerting(store, settings)
    web = create_app(store, settings)
    install_api(web.server, store, settings)     # /api/v1 on the same Flask server
    return web


def run_web(store, settings: Settings, alerting: bool = True) -> None:
    web = make_web_app(store, settings, alerting)
    log.info("serving on http://%s:%s/", settings.host, settings.port)
    web.run(host=settings.host, port=settings.port, debug=False)


def cmd_serve(args, settings: Settings, store) -> int:
    if args.collect:
        start_zabbix_collector(settings, store)
    run_web(store, settings)
    return 0


def check_serve(args, settings: Settings) -> None:
    if args.collect:
        from collectors.zabbix import cli as zabbix_cli
        zabbix_cli.check_settings(args, settings)


def start_zabbix_collector(settings: Settings, store) -> threading.Thread:
    """``serve --collect``: the Zabbix collection loop in a background thread of the web process."""
    from collectors.zabbix import cli as zabbix_cli
    source = zabbix_cli.open_source(settings, store)

    def loop() -> None:
        try:
            zabbix_cli.run_loop(source, settings.collect_interval)
        except Exception:  # noqa: BLE001 - a dead collector thread must say why in the log
            log.exception("the Zabbix collection loop stopped; the web app keeps serving stored data")
    thread = threading.Thread(target=loop, name="zabbix-collector", daemon=True)
    thread.start()
    return thread


DEMO_LIVE_WAIT_S = 600   # the demo's alerting waits at most this long for the newest data


def cmd_demo(args, settings: Settings, store) -> int:
    from collectors.synthetic.runner import DemoRunner
    runner = DemoRunner(store, settings)
    # the inventory first (about a second), so the first page already lists every business
    runner.source.write_inventory()
    if args.once:
        runner.bootstrap(progress=True)
        return 0
    # flags fire, notify on the console gateway, resolve: once the newest data is written (on an
    # empty store every series would be "no data" for the first cycle, thousands of stale alerts)
    def start_when_live() -> None:
        runner.live.wait(DEMO_LIVE_WAIT_S)    # a generator that keeps failing: start anyway (the watchdog)
        start_alerting(store, settings)
    threading.Thread(target=start_when_live, name="alerting-start", daemon=True).start()
    if not args.no_serve:
        show_demo_login(store, settings)
    thread = threading.Thread(target=runner.run_forever, name="demo-generator", daemon=True)
    thread.start()
    if args.no_serve:
        while thread.is_alive():
            time.sleep(1)
        return 1 if runner.error else 0
    run_web(store, settings, alerting=False)
    return 0


def show_demo_login(store, settings: Settings) -> None:
    """The demo's operator, with a password made for this start: printed on the terminal (the
    person who started the demo reads it), never logged."""
    from accounts.users import ensure_demo_operator
    name, password = ensure_demo_operator(store, int(time.time()))
    print(f"demo login: http://{settings.host}:{settings.port}/login  user {name}  password {password}  "
          f"(operator: acknowledge, silence; a new password every start)", flush=True)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    """Call the handler, with the store opened for it when it asks for one (``with_store``)."""
    check = getattr(args, "check_settings", None)
    if check is not None:
        check(args, settings)
    mode = getattr(args, "with_store", None)
    if mode is None:
        return int(args.func(args, settings) or 0)
    store = open_store(settings, migrate=(mode == "migrated"))
    try:
        return int(args.func(args, settings, store) or 0)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        args = parser.parse_args(["demo", *argv])
    try:
        settings = resolve_settings(args)
        setup_logging(settings.log_level, settings.log_format, settings.secrets())
        return run_command(args, settings)
    except PeakwatchError as exc:
        print(f"peakwatch: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def __getattr__(name: str):
    """``gunicorn app:server``: the Flask server built from environment settings, on first use."""
    if name == "server":
        try:
            settings = load_settings()
        except ConfigError as exc:
            raise SystemExit(f"peakwatch: error: {exc}") from None
        setup_logging(settings.log_level, settings.log_format, settings.secrets())
        web = make_web_app(open_store(settings), settings)
        globals()["server"] = web.server
        return web.server
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())
