"""The core must not know the UI: --headless and the tests use it without Textual."""

from __future__ import annotations

import subprocess
import sys

CORE = ["config", "data", "devices", "engines", "results", "training", "report", "cli", "bench"]


def test_the_core_imports_no_textual() -> None:
    code = (
        "import sys\n"
        + "".join(f"import linreg_tui.{name}\n" for name in CORE)
        + "bad = sorted(m for m in sys.modules if m.split('.')[0] in {'textual', 'textual_plotext', 'plotext', 'rich'}"
        " or m.startswith('linreg_tui.ui'))\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
