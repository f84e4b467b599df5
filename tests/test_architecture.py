"""The core must not know the UI (--headless and the tests use it without Textual), and the layer that
--help and the app's first paint need must not load torch."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

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
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('linreg_tui'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
