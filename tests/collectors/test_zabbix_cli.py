"""``python app.py collect``: durations, a missing zabbix_url, and ``serve --collect``."""
from __future__ import annotations

import pytest

import app
from collectors.zabbix.cli import parse_duration
from core.errors import ConfigError


def test_backfill_durations_read_like_people_write_them():
    assert parse_duration("400d") == 400 * 86400
    assert parse_duration("12w") == 12 * 7 * 86400
    assert parse_duration("36h") == 36 * 3600
    with pytest.raises(ConfigError, match="--backfill '4OOd'.*400d"):
        parse_duration("4OOd")


def test_collect_without_zabbix_url_says_which_setting_to_set(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("PEAKWATCH_ZABBIX_URL", raising=False)
    code = app.main(["collect", "--once", "--store-url", f"sqlite:///{tmp_path / 's.sqlite'}"])
    assert code == 2
    assert "zabbix_url is empty" in capsys.readouterr().err
    assert not (tmp_path / "s.sqlite").exists()          # bad configuration changes nothing


def test_serve_takes_collect_to_run_the_collector_with_the_web_app():
    args = app.build_parser().parse_args(["serve", "--collect"])
    assert args.collect is True
    assert app.build_parser().parse_args(["serve"]).collect is False


def test_the_collection_loop_outlives_any_failure_and_backs_off(caplog):
    """A pass that fails in any way (a bug's KeyError included) is logged; the loop goes on, waiting
    longer after each failure in a row, and back to the interval after a good pass."""
    import threading

    from collectors.zabbix.cli import run_loop
    from core.errors import ZabbixProtocolError

    class Report:
        def as_fields(self):
            return {}

    outcomes = [KeyError("result"), ZabbixProtocolError("no result"), TypeError("str"), None, None]
    stop, pauses = threading.Event(), []

    class Source:
        def collect(self):
            what = outcomes.pop(0)
            if not outcomes:
                stop.set()
            if what is not None:
                raise what
            return Report()

    assert run_loop(Source(), 60, stop=stop, sleep=pauses.append) == 0
    assert [round(p) for p in pauses] == [60, 120, 240, 60, 60]
    assert sum("collection pass failed" in r.message for r in caplog.records) == 3
