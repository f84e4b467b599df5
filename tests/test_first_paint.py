"""The form comes before torch: `--help` and the app's first paint load no torch (a second or two to
import); the app loads it behind the form, and a run asked for sooner waits for it, saying so.

Each test runs in a fresh interpreter (this one has torch already). There, an import hook holds torch's
import until the test lets it go: what the app shows meanwhile is what a person sees before torch is
there, on any machine, however fast.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

#: Holds torch's import (in whichever thread asks) until `torch_may_load` is set; `torch_loaded` is set
#: once torch's code has run. It holds in the loader, as a slow real import does: a finder runs under
#: Python's global import lock, and holding there would stop every import in every thread.
HOLD_TORCH = """
import importlib.machinery, sys, threading
torch_may_load, torch_loaded = threading.Event(), threading.Event()

class HeldLoader:
    def __init__(self, real):
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module):
        torch_may_load.wait(60)
        self.real.exec_module(module)
        torch_loaded.set()

class HoldTorch:
    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        spec.loader = HeldLoader(spec.loader)
        return spec

sys.meta_path.insert(0, HoldTorch())
"""


def run_python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_help_loads_no_torch() -> None:
    out = run_python(
        """
        import contextlib, io, sys
        from linreg_tui.commands.main import main
        with contextlib.redirect_stdout(io.StringIO()) as help_text, contextlib.suppress(SystemExit):
            main(["--help"])
        assert "--headless" in help_text.getvalue()
        print("torch" in sys.modules)
        """
    )
    assert out.split() == ["False"]


def test_the_form_is_painted_before_torch_has_loaded() -> None:
    out = run_python(
        HOLD_TORCH
        + """
import asyncio
from linreg_tui.ui.app import LinregApp
from tests.apptools import wait_until

async def main():
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = app.main_screen
        assert screen.params_panel.region.area > 0 and screen.query_one("#lr").region.area > 0
        print("painted; torch loaded:", torch_loaded.is_set())
        torch_may_load.set()
        await wait_until(pilot, lambda: screen.session.devices is not None)
        print("devices found; torch loaded:", torch_loaded.is_set())

asyncio.run(main())
"""
    )
    assert out.splitlines() == ["painted; torch loaded: False", "devices found; torch loaded: True"]


def test_a_run_asked_for_before_torch_waits_for_it_saying_so() -> None:
    out = run_python(
        HOLD_TORCH
        + """
import asyncio
from linreg_tui.run.config import RunConfig
from linreg_tui.ui.app import LinregApp
from tests.apptools import wait_until

async def main():
    app = LinregApp(RunConfig(num_examples=100, epochs=1))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        print(app.main_screen.status_bar.text, torch_loaded.is_set())
        torch_may_load.set()
        await wait_until(pilot, lambda: app.last_result is not None, timeout=60)
        print(app.last_result.status)

asyncio.run(main())
"""
    )
    assert out.splitlines() == ["starting scratch on cpu: torch is still loading… False", "finished"]
