"""``app.py promotions``: the calendar a user enters by hand or from a file, and the suggestions
found in the fleet's own traffic."""
from __future__ import annotations

import pytest

import app
from store import Store

STORE_ENV = "PEAKWATCH_STORE_URL"


@pytest.fixture
def run(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cal.sqlite'}"
    monkeypatch.setenv(STORE_ENV, url)

    def go(*argv) -> tuple[int, str, str]:
        rc = app.main(["promotions", *argv])
        out = capsys.readouterr()
        return rc, out.out, out.err
    go.url = url
    return go


def calendar(url) -> list[str]:
    with Store.open(url) as s:
        return s.calendar(first_year=2025, last_year=2027)["name"].tolist()


def test_list_shows_the_built_in_yearly_promotions_on_a_new_store(run):
    rc, out, _ = run("list")
    assert rc == 0
    assert "11.11 2026" in out and "2026-11-11 00:00" in out and "yearly" in out
    assert "11-11" in out and "on (built-in)" in out


def test_add_a_promotion_and_a_yearly_one_then_remove(run):
    rc, out, _ = run("add", "anniversary 2026", "--kind", "anniversary", "--start", "2026-04-19", "--preheat-days", "2")
    assert rc == 0 and "2026-04-19 00:00 Asia/Shanghai" in out
    rc, out, _ = run("add", "--yearly", "08-18", "--kind", "8.18")
    assert rc == 0 and "8.18 on 08-18" in out
    names = calendar(run.url)
    assert {"anniversary 2026", "8.18 2025", "8.18 2026", "8.18 2027"} <= set(names)
    assert run("remove", "12.12 2025")[0] == 0            # a yearly occurrence: left out that year
    assert run("remove", "--kind", "6.18")[0] == 0         # a built-in kind: disabled
    assert run("remove", "anniversary 2026")[0] == 0
    names = calendar(run.url)
    assert "12.12 2025" not in names and "12.12 2026" in names
    assert not any(n.startswith("6.18") or n.startswith("anniversary") for n in names)


@pytest.mark.parametrize("argv, message", [
    (("add", "--kind", "x"), "needs --start"),
    (("add", "--kind", "x", "--start", "19/04/2026"), "is not a date; write it as 2026-04-19"),
    (("add", "--kind", "x", "--start", "2026-04-19", "--tz", "Mars/Olympus"), "time zone 'Mars/Olympus'"),
    (("add", "--kind", "x", "--yearly", "02-30"), "not a day of the year"),
    (("add", "--kind", "x", "--start", "2026-04-19", "--preheat-days", "99"), "preheat_days=99 is out of range"),
    (("remove", "no such sale"), "no promotion named 'no such sale'"),
    (("remove", "--kind", "nope"), "no yearly kind 'nope'"),
])
def test_bad_input_is_one_line_exit_2_and_changes_nothing(run, argv, message):
    before = calendar(run.url)
    rc, out, err = run(*argv)
    errors = [line for line in err.splitlines() if line.startswith("peakwatch: error:")]
    assert rc == 2 and len(errors) == 1 and message in errors[0]      # one line, naming the problem
    assert calendar(run.url) == before


def test_import_a_csv_and_a_toml_file(run, tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("name,kind,start,days,preheat_days,tz\n"
                   "anniversary 2025,anniversary,2025-04-19,1,2,Asia/Shanghai\n"
                   ",anniversary,2026-04-19 20:00,2,,\n", encoding="utf-8")
    rc, out, _ = run("import", str(csv))
    assert rc == 0 and "2 promotions and 0 yearly kinds" in out
    toml = tmp_path / "p.toml"
    toml.write_text('[[promotion]]\nname = "会员日 2026"\nkind = "member-day"\nstart = "2026-08-08"\n\n'
                    '[[yearly]]\nkind = "member-day"\ndate = "08-08"\npreheat_days = 1\n', encoding="utf-8")
    rc, out, _ = run("import", str(toml))
    assert rc == 0 and "1 promotions and 1 yearly kinds" in out
    with Store.open(run.url) as s:
        cal = s.calendar(first_year=2025, last_year=2027).set_index("name")
    assert cal.loc["anniversary 2026", "end"] - cal.loc["anniversary 2026", "start"] == 2 * 86400
    assert cal.loc["会员日 2026", "origin"] == "import" and "member-day 2025" in cal.index
    assert "member-day 2026" not in cal.index                     # the entered 会员日 2026 replaces it


@pytest.mark.parametrize("body, suffix, message", [
    ("name,kind,start\nok,a,2026-01-01\nbad,b,2026-13-01\n", ".csv", "line 3: '2026-13-01' is not a date"),
    ("name,start\nx,2026-01-01\n", ".csv", "at least kind and start"),
    ('[[promotion]]\nkind = "a"\nstart = "2026-01-01"\ncolour = "red"\n', ".toml", "unknown field(s) colour"),
    ("[[promotion]\n", ".toml", "not valid TOML"),
    ("a,b\n", ".xlsx", "unknown file type"),
])
def test_a_bad_file_imports_nothing_and_names_the_row(run, tmp_path, body, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(body, encoding="utf-8")
    before = calendar(run.url)
    rc, _, err = run("import", str(path))
    assert rc == 2 and message in err
    assert calendar(run.url) == before


def test_suggest_finds_a_promotion_the_calendar_lacks(tmp_path, monkeypatch, capsys):
    """The demo fleet's 4.19 anniversary sales are in its own calendar; once removed, the traffic
    still shows them and `promotions suggest` proposes them (seen in both years)."""
    from collectors.synthetic.fleet import DEFAULT_ANCHOR
    from collectors.synthetic.source import SyntheticSource
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    with Store.open(url) as s:
        SyntheticSource(s, scale=30, seed=7, clock=lambda: DEFAULT_ANCHOR).bootstrap(history_days=730, raw_hours=1)
        for name in s.promotions().query("kind == '4.19'")["name"]:
            s.delete_promotion(name)
    monkeypatch.setenv(STORE_ENV, url)
    assert app.main(["promotions", "suggest"]) == 0
    out = capsys.readouterr().out
    assert "2025-04-19" in out and "2026-04-19" in out
    assert "--kind 4.19 --start 2026-04-19" in out and "--yearly 04-19" in out
