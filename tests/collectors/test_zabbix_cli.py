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
