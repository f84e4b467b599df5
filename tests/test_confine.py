"""Names typed into the app's file prompts stay inside their directory (linreg_tui.ui.panels.confine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from linreg_tui.ui.panels.confine import PathRefused, confined_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "inside").mkdir()
    (tmp_path / "inside" / "sub").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.toml").write_text("token = 1\n")
    return tmp_path / "inside"


@pytest.mark.parametrize("name", ["run.toml", "sub/run.toml", "./run.toml", "  run.toml  ", "new-dir/run.toml"])
def test_a_name_inside_is_taken(root: Path, name: str) -> None:
    assert confined_path(name, root) == root.resolve() / name.strip()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("../outside/secret.toml", "leads out with '..'"),
        ("sub/../../outside/secret.toml", "leads out with '..'"),
        ("sub/..", "leads out with '..'"),  # even where it would come back inside
        ("/etc/passwd", "is an absolute path"),
        ("run\0.toml", "NUL"),
    ],
)
def test_a_name_that_leaves_is_refused(root: Path, name: str, reason: str) -> None:
    with pytest.raises(PathRefused, match=reason) as refused:
        confined_path(name, root)
    assert f"give a name inside {root}" in str(refused.value)


def test_an_absolute_path_into_the_directory_is_refused_too(root: Path) -> None:
    """One rule a person can learn: names are relative; no path is judged by where it happens to lead."""
    with pytest.raises(PathRefused, match="absolute"):
        confined_path(str(root / "run.toml"), root)


def test_a_link_that_leads_out_is_refused_as_a_file_or_a_directory(root: Path) -> None:
    outside = root.parent / "outside"
    (root / "link.toml").symlink_to(outside / "secret.toml")
    (root / "away").symlink_to(outside)
    (root / "dangling.toml").symlink_to(outside / "not-yet.toml")  # a save would create it out there
    for name in ("link.toml", "away/secret.toml", "away/new.toml", "dangling.toml"):
        with pytest.raises(PathRefused, match="symbolic link"):
            confined_path(name, root)


def test_a_link_that_stays_inside_is_taken(root: Path) -> None:
    (root / "sub" / "real.toml").write_text("lr = 0.1\n")
    (root / "alias.toml").symlink_to(root / "sub" / "real.toml")
    assert confined_path("alias.toml", root) == root.resolve() / "alias.toml"


def test_a_root_reached_through_a_link_is_still_its_own_inside(tmp_path: Path, root: Path) -> None:
    """The working directory may itself be a path through a link (e.g. /home → /data/home)."""
    (tmp_path / "via").symlink_to(root)
    assert confined_path("run.toml", tmp_path / "via") == root.resolve() / "run.toml"
