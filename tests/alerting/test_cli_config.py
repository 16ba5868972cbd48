"""Bad rule files, unknown gateways, missing credentials, bad numbers: one line naming the key and
the fix, exit 2, nothing sent. Plus ``alerts test`` and ``silence`` through app.py."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alerting import config as acfg
from core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("toml, words", [
    ('[[alerting.rules]]\nwarn = 1\ncrit = 2\n', "alerting.rules[0].metric is missing"),
    ('[[alerting.rules]]\nmetric = "cpu"\nwarn = 90\ncrit = 80\n', "alerting.rules[0].crit = 80 must be above warn"),
    ('[[alerting.rules]]\nmetric = "cpu"\nwarn = "high"\ncrit = 95\n', "alerting.rules[0].warn = 'high' must be a number"),
    ('[[alerting.rules]]\nmetric = "cpu"\nwarn = 80\ncrit = 95\nfor = "5 minutes"\n', "alerting.rules[0].for"),
    ('[[alerting.rules]]\nmetric = "cpu"\nwarn = 80\ncrit = 95\nclear = 90\n', "alerting.rules[0].clear = 90"),
    ('[[alerting.rules]]\nmetric = "cpu"\nwarn = 80\ncrit = 95\nservices = ["mysql"]\n', "'mysql' is not one of"),
    ('[[alerting.rules]]\nmetric = "cpu"\nwarn = 80\ncrit = 95\nthreshold = 3\n', "unknown key 'alerting.rules[0].threshold'"),
    ('[alerting]\nintervall = 30\n', "unknown key 'alerting.intervall' in the config file. Did you mean 'interval'?"),
    ('[[alerting.routes]]\nto = ["oncall"]\ngateway = "pager"\n', "gateway = 'pager' is not a configured gateway"),
    ('[[alerting.routes]]\nto = ["schedule:dba"]\n', "no [[alerting.schedules]] is named 'dba'"),
    ('[alerting.gateways.sms]\ntype = "smoke-signals"\n', "type = 'smoke-signals': use one of"),
    ('[alerting.gateways.sms]\ntype = "http"\n', "alerting.gateways.sms.url is missing"),
    ('[alerting.gateways.robot]\ntype = "dingtalk"\nurl = "http://x"\nsecret = "abc"\n',
     "secrets never go in the config file"),
    ('[alerting.gateways.ali]\ntype = "aliyun"\naccess_key_id_env = "A"\naccess_key_secret_env = "B"\n'
     'sign_name = "S"\ntemplate_code = "T"\n[[alerting.routes]]\nto = ["13800138000"]\ngateway = "ali"\n',
     "'13800138000' is not an E.164 phone number"),
    ('[alerting.grouping]\ngroup_interval = "1h"\nrepeat_interval = "5m"\n', "repeat_interval must not be shorter"),
    ('[alerting.quiet_hours]\nstart = "25:00"\n', "alerting.quiet_hours.start = '25:00' is not a time of day"),
])
def test_every_kind_of_mistake_is_one_line_exit_2_and_nothing_sent(tmp_path, toml, words, capsys):
    import app
    cfg = tmp_path / "peakwatch.toml"
    cfg.write_text(toml)
    store = tmp_path / "s.sqlite"
    code = app.main(["alerts", "--once", "--config", str(cfg), "--store-url", f"sqlite:///{store}"])
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], lines
    assert not store.exists()                       # nothing opened, nothing sent


def test_missing_credential_names_the_environment_variable(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text('[alerting.gateways.robot]\ntype = "dingtalk"\nurl = "http://127.0.0.1:9/robot"\n'
                   'secret_env = "PEAKWATCH_TEST_DINGTALK_SECRET"\n')
    r = subprocess.run([sys.executable, "app.py", "alerts", "--once", "--config", str(cfg),
                        "--store-url", f"sqlite:///{tmp_path / 's.sqlite'}"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})
    assert r.returncode == 2 and "PEAKWATCH_TEST_DINGTALK_SECRET (from secret_env) is not set" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_defaults_are_the_built_in_rules_and_a_named_rule_replaces_one():
    cfg = acfg.parse({})
    assert [r.name for r in cfg.rules][:2] == ["mem_util", "hit_ratio"] and cfg.routes[0].stars == (2, 3, 4, 5)
    cfg = acfg.parse({"rules": [{"metric": "mem_util", "warn": 70, "crit": 80, "for": "5m", "clear": 60}]})
    mem = next(r for r in cfg.rules if r.name == "mem_util")
    assert (mem.warn, mem.crit, mem.for_s, mem.clear) == (70.0, 80.0, 300, 60.0) and len(cfg.rules) == 7
    with pytest.raises(ConfigError):
        acfg.parse({"tighten": {"6": 0.5}})


def test_alerts_test_sends_through_the_gateway_and_shows_its_answer(tmp_path, loopback):
    lb = loopback()
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[alerting.gateways.sms]\ntype = "http"\nurl = "{lb.url}/alert/send"\nok_field = "code=0"\n')
    args = [sys.executable, "app.py", "alerts", "test", "--config", str(cfg),
            "--store-url", f"sqlite:///{tmp_path / 's.sqlite'}", "--gateway", "sms"]
    r = subprocess.run(args + ["--to", "+8613800138000"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("sent:") and "gateway id gw-" in r.stdout, r.stderr
    assert list(lb.delivered.values())[0]["to"] == "+8613800138000"
    assert "13800138000" not in r.stderr                    # logs mask the number
    bad = subprocess.run(args + ["--to", "13800138000"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "is not an E.164 phone number" in bad.stderr and len(lb.requests) == 1
    unknown = subprocess.run(args[:-2] + ["--gateway", "pager", "--to", "+8613800138000"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert unknown.returncode == 2 and "unknown gateway 'pager'" in unknown.stderr


def test_silence_from_the_cli(tmp_path):
    base = [sys.executable, "app.py", "alerts", "silence", "--store-url", f"sqlite:///{tmp_path / 's.sqlite'}"]
    r = subprocess.run(base + ["--match", "business=pay*", "--for", "2h", "--by", "li.wei", "--comment", "drill"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.startswith("silence 1 until"), r.stderr
    listed = subprocess.run(base + ["--list"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "business=pay*" in listed.stdout and "li.wei" in listed.stdout
    bad = subprocess.run(base + ["--match", "colour=red", "--for", "2h", "--by", "x"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "not one of" in bad.stderr


def test_a_thresholds_table_is_not_silently_ignored(tmp_path):
    from core.settings import load_settings
    cfg = tmp_path / "p.toml"
    cfg.write_text("[thresholds]\nmem_util = 90\n")
    with pytest.raises(ConfigError, match=r"\[\[alerting.rules\]\]"):
        load_settings(env={}, config_path=cfg)
