"""The core must not know the UI (--headless and the tests use it without Textual), and the layer that
--help and the app's first paint need must not load torch."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import linreg_tui

UI_PACKAGES = {"textual", "textual_plotext", "plotext", "rich"}


def core_modules() -> list[str]:
    """Every module of the package outside linreg_tui.ui, found on disk: a new one is checked too."""
    found = pkgutil.walk_packages(linreg_tui.__path__, prefix="linreg_tui.")
    return sorted(module.name for module in found if not module.name.startswith("linreg_tui.ui"))


def test_the_core_imports_no_textual() -> None:
    modules = core_modules()
    assert {"linreg_tui.training.loop", "linreg_tui.training.engines.concise", "linreg_tui.cli"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {UI_PACKAGES!r} or m.startswith('linreg_tui.ui'))\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


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
