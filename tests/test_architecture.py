"""The package's rooms keep to their places: no two modules import each other, however indirectly; the
core (run, training) knows no UI (--headless and the tests use it without Textual); and the layer that
--help and the app's first paint need (run) loads no torch."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import linreg_tui

UI_PACKAGES = {"textual", "textual_plotext", "plotext", "rich"}


def modules_outside_the_ui() -> list[str]:
    """Every module of the package outside linreg_tui.ui, found on disk: a new one is checked too."""
    found = pkgutil.walk_packages(linreg_tui.__path__, prefix="linreg_tui.")
    return sorted(module.name for module in found if not module.name.startswith("linreg_tui.ui"))


def imported_by(modules: list[str]) -> set[str]:
    """The modules a fresh interpreter holds after importing `modules`."""
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_nothing_outside_the_ui_loads_textual_when_imported() -> None:
    """--headless, sweeps and the tests use the core without Textual; the commands load the app only
    when they start it."""
    modules = modules_outside_the_ui()
    assert {"linreg_tui.training.loop", "linreg_tui.training.engines.concise", "linreg_tui.commands.main"} <= set(
        modules
    )
    loaded = imported_by(modules)
    assert not sorted(m for m in loaded if m.split(".")[0] in UI_PACKAGES)


def test_the_core_imports_nothing_of_the_ui() -> None:
    core = [*modules_under("linreg_tui.run"), *modules_under("linreg_tui.training")]
    assert not sorted(m for m in imported_by(core) if m.startswith("linreg_tui.ui"))


def modules_under(package: str) -> list[str]:
    module = __import__(package, fromlist=["__path__"])
    return [package, *sorted(m.name for m in pkgutil.walk_packages(module.__path__, prefix=f"{package}."))]


def test_the_run_layer_imports_no_torch() -> None:
    modules = modules_under("linreg_tui.run")
    assert {"linreg_tui.run.events", "linreg_tui.run.result"} <= set(modules)
    assert "torch" not in imported_by(modules)


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports, from every import statement in its source: at the top,
    under TYPE_CHECKING and inside functions alike (a deferred import still makes two rooms that know
    each other). A module importing a package it lives in (its own __init__) is not counted."""
    root = package.parent
    modules = {
        ".".join(f.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): f for f in package.rglob("*.py")
    }
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, file in modules.items():
        here = name if file.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and not name.startswith(f"{target}."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan's algorithm): each is a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others() -> None:
    graph = import_graph(Path(linreg_tui.__file__).parent)
    assert "linreg_tui.ui.screen.main_screen" in graph and graph["linreg_tui.commands.main"]  # read them all
    assert cycles(graph) == []


def test_the_cycle_check_sees_deferred_and_type_only_imports(tmp_path: Path) -> None:
    """The check itself: an import inside a function, or under TYPE_CHECKING, closes a cycle too."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def f():\n    from pkg.c import g\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import a\n")
    (package / "d.py").write_text("import pkg.a\n")
    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c"]]
