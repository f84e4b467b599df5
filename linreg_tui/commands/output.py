"""Where the command line's text goes, and what happens when it cannot get there.

Pure Python (no torch), so the command line sets it up before anything heavy is imported:
- streams whose encoding lacks the report's symbols (`PYTHONIOENCODING=ascii`, a C locale) write an
  ASCII spelling of them ("·" → "-", "½" → "1/2") instead of raising UnicodeEncodeError;
- a reader that leaves (`linreg-tui --headless | head -1`) is noticed at once, even between writes;
- a stream that cannot be written (a full disk, /dev/full) is named in one line, not a traceback.
"""

from __future__ import annotations

import codecs
import os
import select
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

#: 128 + SIGPIPE: how a shell reports a writer whose reader left (`yes | head -1`). Not a failure.
EXIT_READER_GONE = 141

#: The non-ASCII symbols of the report, the help and the bench, spelled in ASCII.
ASCII_SPELLINGS: dict[str, str] = {
    "·": "-",
    "×": "x",
    "½": "1/2",
    "ŷ": "y_hat",
    "−": "-",
    "–": "-",
    "—": "-",
    "²": "^2",
    "ᵀ": "^T",
    "η": "eta",
    "θ": "theta",
    "ρ": "rho",
    "λ": "lambda",
    "σ": "sigma",
    "√": "sqrt ",
    "‖": "||",
    "δ": "delta",
    "±": "+/-",
    "Σ": "sum",
    "µ": "u",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "→": "->",
    "…": "...",
    "“": '"',
    "”": '"',
    "’": "'",
}
ASCII_ERRORS = "linreg-ascii"


def _spell_in_ascii(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    text = error.object[error.start : error.end]
    return "".join(ASCII_SPELLINGS.get(char, "?") for char in text), error.end


codecs.register_error(ASCII_ERRORS, _spell_in_ascii)


def use_ascii_fallback(stream: TextIO) -> bool:
    """Let `stream` write the report's symbols in ASCII where its encoding cannot encode them.
    True when it had to (the stream's own encoding and everything it can encode stay as they were)."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        "".join(ASCII_SPELLINGS).encode(encoding)
    except UnicodeEncodeError:
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors=ASCII_ERRORS)
            return True
    except LookupError:
        pass
    return False


def silence(stream: TextIO) -> None:
    """Point `stream`'s file descriptor at /dev/null: what is still buffered for a reader that left or a
    full disk then goes nowhere when Python flushes it at exit, instead of raising a second error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _pipe_or_socket(stream: TextIO) -> int | None:
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):  # pytest's capture, a closed stream
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None


@contextmanager
def reader_watch(stream: TextIO, on_gone: Callable[[], None]) -> Iterator[None]:
    """Call `on_gone` (on another thread) as soon as the reader of a pipe or socket `stream` leaves.

    A write to such a stream fails only when it happens; a run that writes once per epoch, or only at
    the end, would otherwise go on for nothing. poll() reports POLLERR on a pipe's write end (POLLHUP on
    a socket) once its reader closed it, without writing anything.
    """
    fd = _pipe_or_socket(stream)
    if fd is None or not hasattr(select, "poll"):
        yield
        return
    stop_read, stop_write = os.pipe()

    def watch() -> None:
        poller = select.poll()
        poller.register(fd, 0)  # no events asked for: POLLERR and POLLHUP are always reported
        poller.register(stop_read, select.POLLIN)
        if any(ready == fd for ready, _ in poller.poll()):
            on_gone()

    watcher = threading.Thread(target=watch, name="reader-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        os.write(stop_write, b"x")
        watcher.join()
        os.close(stop_read)
        os.close(stop_write)


def describe_os_error(error: OSError) -> str:
    return error.strerror or type(error).__name__


class LineOutput:
    """Writes lines to a stream, flushing each; remembers the first failure instead of raising it.

    Used from inside the training loop's callbacks, where an exception would end the run as "failed";
    `on_failure` is called instead (the command line stops the run with it) and later lines are dropped.
    """

    def __init__(self, stream: TextIO, name: str, on_failure: Callable[[], None]) -> None:
        self.stream = stream
        self.name = name
        self.on_failure = on_failure
        self.reader_gone = False
        self.error: OSError | None = None
        self._dropped = False

    @property
    def failed(self) -> bool:
        return self.reader_gone or self.error is not None

    @property
    def lost_output(self) -> bool:
        """Whether lines were meant for a reader that had left (the exit status then says so: 141). A
        reader that leaves after the last line, as `| head -12` of 12 lines does, had every line: the
        command ends as it would have."""
        return self.reader_gone and self._dropped

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        if self.failed:
            self._dropped = True
            return
        try:
            self.stream.write("".join(line + "\n" for line in lines))
            self.stream.flush()
        except BrokenPipeError:
            self._dropped = True
            self.lost_reader()
        except OSError as error:
            self.error = error
            silence(self.stream)
            self.on_failure()

    def lost_reader(self) -> None:
        """The reader left (seen by a write, or by `reader_watch`): nothing more is written, quietly."""
        self.reader_gone = True
        silence(self.stream)
        self.on_failure()

    def error_line(self) -> str | None:
        if self.error is None:
            return None
        return f"cannot write to {self.name} ({describe_os_error(self.error)})"
