"""`linreg-tui`: which command, and what every command's end has in common (a reader that left, a
signal). Imports only what the command asked for: `--help` and bad flags answer before torch loads."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence

from linreg_tui.commands.output import EXIT_READER_GONE, silence, use_ascii_fallback


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        use_ascii_fallback(stream)  # `PYTHONIOENCODING=ascii`: "·" and "×" spelled in ASCII, not a traceback
    try:
        code = dispatch(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt as interrupt:  # before training installed its own handler, or a second signal
        print("linreg-tui: cancelled", file=sys.stderr)
        code = 128 + getattr(interrupt, "signum", signal.SIGINT)
    except BrokenPipeError:  # the reader left (`linreg-tui --help | head -1`): stop quietly, not as a failure
        silence(sys.stdout)
        silence(sys.stderr)
        return EXIT_READER_GONE
    if argv is None and code in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        # The process was stopped by a signal and says so on its way out; one more (Ctrl+C pressed twice
        # as a sweep's last run ends) would only interrupt the interpreter's clean-up: a traceback from
        # torch's exit hooks. (Only for the process's own command line: a caller's handlers are its own.)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
    return code


def dispatch(argv: list[str]) -> int:
    """The command named first (`bench`, `sweep`, `presets`, `serve`), or the app and --headless."""
    if argv[:1] == ["bench"]:
        from linreg_tui.commands.bench.main import main as bench_main

        return bench_main(argv[1:])
    if argv[:1] == ["sweep"]:
        from linreg_tui.commands.sweep import main as sweep_main

        return sweep_main(argv[1:])
    if argv[:1] == ["presets"]:
        from linreg_tui.commands.presets import main as presets_main

        return presets_main(argv[1:])
    if argv[:1] == ["serve"]:
        from linreg_tui.commands.serve import main as serve_main

        return serve_main(argv[1:])
    from linreg_tui.commands.train import run

    return run(argv)
