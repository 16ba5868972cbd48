import logging

import pytest

from core.errors import ConfigError
from core.logs import SensitiveFilter, mask_text, setup_logging
from core.settings import SETTINGS, load_settings


def test_defaults_when_nothing_given():
    s = load_settings(env={})
    assert s.port == 8050 and s.store_url.startswith("sqlite:///") and s.origin("port") == "default"


def test_precedence_cli_over_env_over_file_over_default(tmp_path):
    cfg = tmp_path / "pw.toml"
    cfg.write_text('port = 7000\nscale = 500\nlanguage = "zh"\n')
    env = {"PEAKWATCH_PORT": "7100", "PEAKWATCH_SCALE": "600"}
    s = load_settings(cli={"port": "7200"}, env=env, config_path=cfg)
    assert (s.port, s.origin("port")) == (7200, "cli")
    assert (s.scale, s.origin("scale")) == (600, "env")
    assert (s.language, s.origin("language")) == ("zh", "file")
    assert (s.seed, s.origin("seed")) == (7, "default")


def test_config_path_from_environment(tmp_path):
    cfg = tmp_path / "pw.toml"
    cfg.write_text("refresh_seconds = 30\n")
    assert load_settings(env={"PEAKWATCH_CONFIG": str(cfg)}).refresh_seconds == 30


@pytest.mark.parametrize("source", ["file", "env", "cli"])
def test_unknown_key_is_named(tmp_path, source):
    cfg = tmp_path / "pw.toml"
    kwargs = {"env": {}}
    if source == "file":
        cfg.write_text("prot = 1\n")
        kwargs["config_path"] = cfg
    elif source == "env":
        kwargs["env"] = {"PEAKWATCH_PROT": "1"}
    else:
        kwargs["cli"] = {"prot": 1}
    with pytest.raises(ConfigError, match="prot") as info:
        load_settings(**kwargs)
    assert "port" in str(info.value)  # suggests the right name


@pytest.mark.parametrize("name,value,needle", [
    ("port", "http", "whole number"),
    ("scale", "10", "minimum"),
    ("scale", "99999", "maximum"),
    ("language", "fr", "en, zh"),
    ("zabbix_verify_tls", "maybe", "true or false"),
])
def test_bad_values_name_setting_and_fix(name, value, needle):
    with pytest.raises(ConfigError) as info:
        load_settings(env={f"PEAKWATCH_{name.upper()}": value})
    assert name in str(info.value) and needle in str(info.value)


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 3\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env={}, config_path=bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(env={}, config_path=tmp_path / "nope.toml")


def test_sections_are_allowed_and_readable(tmp_path):
    cfg = tmp_path / "pw.toml"
    cfg.write_text('[keymap]\n"redis.info[x]" = "qps"\n')
    assert load_settings(env={}, config_path=cfg).section("keymap") == {"redis.info[x]": "qps"}


def test_describe_masks_secrets():
    s = load_settings(env={"PEAKWATCH_ZABBIX_TOKEN": "abcdef123456", "PEAKWATCH_ZABBIX_PASSWORD": "hunter2!"})
    shown = " ".join(v for _, v, _ in s.describe())
    assert "abcdef123456" not in shown and "hunter2!" not in shown and "********" in shown


def test_secrets_and_phone_numbers_never_reach_logs(capsys):
    import io
    stream = io.StringIO()
    setup_logging("INFO", "json", secrets=["abcdef123456"], stream=stream)
    logging.getLogger("t").info("token=%s call %s", "abcdef123456", "13800138000")
    out = stream.getvalue()
    assert "abcdef123456" not in out and "13800138000" not in out and "138****8000" in out
    setup_logging("WARNING", "text")


def test_mask_text_keylike_pairs():
    assert "s3cr3t" not in mask_text('{"password": "s3cr3t"}')
    f = SensitiveFilter(["tok-999"])
    rec = logging.LogRecord("x", logging.INFO, __file__, 1, "auth %s", ("tok-999",), None)
    f.filter(rec)
    assert "tok-999" not in rec.getMessage()


def test_every_setting_has_help_and_typed_default():
    for s in SETTINGS:
        assert s.help.strip(), s.name
        assert isinstance(s.default, s.type), s.name


def test_tracebacks_and_structured_fields_are_masked_too():
    import io
    for fmt in ("text", "json"):
        stream = io.StringIO()
        setup_logging("INFO", fmt, secrets=["abcdef123456"], stream=stream)
        try:
            raise RuntimeError("connect postgresql://u:abcdef123456@db/x failed for 138-0013-8000")
        except RuntimeError:
            logging.getLogger("t").exception("pass failed", extra={"fields": {
                "url": "postgresql://u:abcdef123456@db/x", "who": ["+86 139 1234 5678"]}})
        out = stream.getvalue()
        assert "Traceback" in out and "RuntimeError" in out
        assert "abcdef123456" not in out, (fmt, out)
        assert "0013-8000" not in out and "1234 5678" not in out, (fmt, out)
    setup_logging("WARNING", "text")


@pytest.mark.parametrize("number, shown", [("13800138000", "138****8000"), ("138-0013-8000", "138-****-8000"),
                                           ("+86 138 0013 8000", "+86 138 **** 8000")])
def test_phone_numbers_with_dashes_or_spaces_are_masked(number, shown):
    assert mask_text(f"call {number} now") == f"call {shown} now"
    from dashboard.components import mask_phones
    assert number not in mask_phones([f"Li Wei <{number}>"])


def test_the_alerting_and_keymap_tables_are_still_read(tmp_path):
    cfg = tmp_path / "pw.toml"
    cfg.write_text('[alerting]\nx = 1\n[keymap]\n"k" = "qps"\n')
    assert load_settings(env={}, config_path=cfg).section("keymap") == {"k": "qps"}
