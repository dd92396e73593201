"""The shape of the code, checked: dependencies point one way (entry points →
services → models), and no module imports itself back through others.

A small walk over the source's syntax trees: every ``import`` and ``from …
import`` of every module under ``src/diary``, at module level and inside
functions alike (an import moved into a function to dodge a circle is still the
dependency it was).

- ``diary.models`` imports nothing from ``diary.services`` or ``diary.security``.
- ``diary.services`` import nothing from ``diary.web``, ``diary.api`` or
  ``diary.admin``, and never the request: not ``flask.request``, ``flask.session``
  or ``flask.g`` (services take plain values).
- No cycle among the modules.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "diary"
REQUEST_NAMES = frozenset({"request", "session", "g"})


@cache
def modules() -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts:
            continue  # Alembic's scripts: loaded by Alembic, imported by nobody
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str) -> str | None:
    """Return the module of Diary that importing ``name`` loads, if any."""
    while name:
        if name in modules():
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def imports(module: str) -> frozenset[tuple[str, str]]:
    """Return ``(imported module or name, kind)`` for every import in ``module``:
    kind is "diary" for Diary's modules, "flask-name" for ``from flask import X``."""
    path = modules()[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "flask.request":
                    found.add(("request", "flask-name"))
                target = _resolve(alias.name)
                if target:
                    found.add((target, "diary"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            if base == "flask":
                found.update((alias.name, "flask-name") for alias in node.names)
            for alias in node.names:
                target = _resolve(f"{base}.{alias.name}") or _resolve(base)
                if target:
                    found.add((target, "diary"))
    return frozenset(found)


def diary_imports(module: str) -> set[str]:
    return {name for name, kind in imports(module) if kind == "diary" and name != module}


def test_the_walk_sees_the_package():
    assert {"diary", "diary.models", "diary.services.credentials", "diary.web.views"} <= set(modules())
    assert "diary.services.credentials" in diary_imports("diary.security.identity")


def test_models_import_no_services_and_no_security():
    offending = {
        (module, target)
        for module in modules()
        if module.startswith("diary.models")
        for target in diary_imports(module)
        if target.startswith(("diary.services", "diary.security"))
    }
    assert offending == set()


def test_services_import_no_request_and_no_entry_point():
    offending = set()
    for module in modules():
        if not module.startswith("diary.services"):
            continue
        for name, kind in imports(module):
            if kind == "flask-name" and name in REQUEST_NAMES:
                offending.add((module, f"flask.{name}"))
            if kind == "diary" and name.startswith(("diary.web", "diary.api", "diary.admin")):
                offending.add((module, name))
    assert offending == set()


def find_cycle() -> list[str] | None:
    """Return one import cycle among Diary's modules, or None."""
    graph = {module: diary_imports(module) for module in modules()}
    # A package's __init__ is loaded before any of its modules; importing a
    # module is not importing its package's __init__ back.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if module.startswith(target + "."):
                continue  # a module's own package: loaded first, not a cycle
            if state.get(target) == 1:
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module)
            if cycle:
                return cycle
    return None


def test_there_is_no_import_cycle():
    assert find_cycle() is None, " → ".join(find_cycle())


def test_the_cycle_check_finds_one(monkeypatch):
    """The check itself can fail: a services module importing the pipeline (which
    imports the services) is a cycle."""
    real = imports.__wrapped__

    def with_cycle(module):
        found = set(real(module))
        if module == "diary.services.credentials":
            found.add(("diary.pipeline", "diary"))
        return frozenset(found)

    monkeypatch.setitem(globals(), "imports", with_cycle)
    assert find_cycle() is not None
