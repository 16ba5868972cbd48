"""The README stays true: every setting documented, the quick start is two commands and CI runs
the same test command."""
import re
from pathlib import Path

from core.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_readme_configuration_table_lists_every_setting():
    documented = set(re.findall(r"^\| `([a-z_]+)` \| `PEAKWATCH_([A-Z_]+)`", README, re.M))
    expected = {(s.name, s.name.upper()) for s in SETTINGS}
    assert expected - documented == set(), "settings missing from README's configuration table"
    assert documented - expected == set(), "README documents settings that do not exist"


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_quick_start_is_exactly_two_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2
    assert "pip install" in commands[0] and "app.py" in commands[0]


def test_ci_runs_the_readme_test_command():
    test_command = _quick_start_commands()[1].strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert any(line.strip() == test_command for line in ci.splitlines())


def test_readme_documents_every_cli_command():
    import app
    parser = app.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in sub.choices:
        assert f"app.py {name}" in README or f"`python app.py {name}" in README, name


def test_no_file_holds_merge_conflict_markers():
    """A merge left half-resolved shows its markers to every reader (the CHANGELOG once did)."""
    import subprocess
    found = subprocess.run(["git", "grep", "-nIE", r"^(<{7}|={7}|>{7})( |$)"], cwd=ROOT,
                           capture_output=True, text=True)
    if found.returncode == 128:            # not a git checkout (an unpacked archive): nothing to read
        return
    assert found.stdout == "", f"merge conflict markers left in:\n{found.stdout}"
