"""The package rules of docs/architecture.md, read from the imports of every module (function-level
imports included):

- ``core`` imports no other Peakwatch package; ``store`` imports only ``core``;
- above the store, packages use its public face only: ``store`` (the ``Store`` facade), its
  vocabulary ``store.metrics``, ``store.inventory_types`` and ``store.alert_types``;
- ``dashboard``, ``forecasting`` and ``alerting`` never import ``collectors``;
- nothing imports ``dashboard`` (but ``app.py``, the wiring), nothing imports ``app``;
- no import cycles between modules.

Violations known today are listed in KNOWN with the work that removes them. Each must still
occur: once that work lands the test fails until its line is deleted, so the rules only tighten.
"""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "store", "collectors", "dashboard", "forecasting", "alerting", "accounts", "api")
STORE_PUBLIC = {"store", "store.metrics", "store.inventory_types", "store.alert_types", "store.account_types"}

#: (rule, importer, imported) -> the work that removes it
KNOWN: dict[tuple[str, str, str], str] = {}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    found = {"app": ROOT / "app.py"}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            found[module_name(path)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Peakwatch modules ``name`` imports (``from pkg import mod`` resolves to the module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def top(name: str) -> str:
    return name.split(".")[0]


def violations(g: dict[str, set[str]]) -> set[tuple[str, str, str]]:
    found = set()
    for src, targets in g.items():
        for dst in targets:
            s, d = top(src), top(dst)
            if s == "core" and d != "core":
                found.add(("core imports nothing", src, dst))
            if s == "store" and d not in ("store", "core"):
                found.add(("store imports only core", src, dst))
            if s in ("collectors", "dashboard", "forecasting", "alerting", "accounts", "api") and d == "store" and dst not in STORE_PUBLIC:
                found.add(("store public face", src, dst))
            if s in ("dashboard", "forecasting", "alerting", "accounts", "api") and d == "collectors":
                found.add(("no collectors", src, dst))
            if d == "dashboard" and s not in ("dashboard", "app"):
                found.add(("nothing imports dashboard", src, dst))
            if dst == "app":
                found.add(("nothing imports app", src, dst))
    for a, b in cycles(g):
        found.add(("no cycles", a, b))
    return found


def cycles(g: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Edges (a, b) that close a cycle: b reaches a again (Tarjan's strongly connected parts)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comp: dict[str, int] = {}
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            while True:
                w = stack.pop()
                on.discard(w)
                comp[w] = index[v]
                if w == v:
                    break

    for v in sorted(g):
        if v not in index:
            visit(v)
    return {(a, b) for a, targets in g.items() for b in targets if comp[a] == comp[b]
            and (a, b) <= (b, a)}      # one edge per pair names the cycle


def test_the_import_reader_sees_function_level_and_relative_imports():
    g = graph()
    assert "store" in g["app"] and "core.settings" in g["app"]
    assert "core.errors" in g["store.engine"]
    assert "dashboard.business_data" in g["dashboard.pages.business"]


def test_every_module_keeps_the_package_rules():
    found = violations(graph())
    new = sorted(found - set(KNOWN))
    assert not new, "package rules broken (docs/architecture.md):\n" + "\n".join(
        f"  {rule}: {src} imports {dst}" for rule, src, dst in new)
    gone = sorted(set(KNOWN) - found)
    assert not gone, "fixed, so delete from KNOWN in tests/test_package_rules.py:\n" + "\n".join(
        f"  {rule}: {src} -> {dst} ({KNOWN[(rule, src, dst)]})" for rule, src, dst in gone)
