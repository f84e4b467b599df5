"""File names typed into the app, kept inside one directory.

What a person types into the app's file prompts (ctrl+s, ctrl+e, ctrl+f, f12), or a visitor types into
the app in a browser (`linreg-tui serve`), names a file inside one directory: the working directory, or
the one `serve --files DIR` names. No absolute path, no `..`, and no symbolic link that leads out.
Paths given as command-line flags (`--config`, `--metrics`, `--save-config`) are the invoking user's
own and are not checked here.

Pure Python: no Textual, no torch.
"""

from __future__ import annotations

from pathlib import Path


class PathRefused(ValueError):
    """A typed file name that would leave its directory (or names no file): one line, what is allowed."""


def confined_path(name: str, root: Path) -> Path:
    """`root / name` when it stays inside `root`, symbolic links followed; else PathRefused.

    The path returned is not resolved: a link inside `root` to a file inside `root` stays a link, and an
    atomic save replaces the link itself, never what it pointed at."""
    text = name.strip()
    inside = f"give a name inside {root}"
    if not text:
        raise PathRefused(f"empty; {inside}")
    if "\0" in text:
        raise PathRefused(f"has a NUL character; {inside}")
    path = Path(text)
    if path.is_absolute() or path.drive:
        raise PathRefused(f"{text} is an absolute path; {inside}")
    if ".." in path.parts:
        raise PathRefused(f"{text} leads out with '..'; {inside}")
    base = root.resolve()
    # resolve() follows every link that exists, so a link anywhere on the way (a directory or the file
    # itself) that points out of `root` is seen here.
    if not (base / path).resolve().is_relative_to(base):
        raise PathRefused(f"{text} leads out of {root} through a symbolic link; {inside}")
    return base / path
