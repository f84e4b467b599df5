"""A swept field as a range A..B: evenly or geometrically spaced points, in the form and on the command line."""

from __future__ import annotations

import itertools
import math

import pytest

from linreg_tui.commands.main import main
from linreg_tui.run.config import ConfigError
from linreg_tui.run.sweep import expand, range_notes
from linreg_tui.ui.app import LinregApp
from tests.apptools import wait_ready


def swept_lrs(text: str, points: int | None = None, log: bool = False) -> list[float]:
    return [point.config.lr for point in expand({"lr": text}, points=points, log=log)]


def test_a_log_range_is_geometric_with_its_exact_ends() -> None:
    lrs = swept_lrs("1e-4..10", points=6, log=True)
    assert lrs[0] == 1e-4 and lrs[-1] == 10 and len(lrs) == 6
    ratios = [later / earlier for earlier, later in itertools.pairwise(lrs)]
    assert ratios == pytest.approx([10.0] * 5, rel=1e-5)


def test_a_plain_range_is_even_and_the_text_may_say_its_own_points_and_log() -> None:
    assert swept_lrs("0.1..0.5:5") == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert swept_lrs("0.01..1:3 log") == pytest.approx([0.01, 0.1, 1.0])
    assert len(swept_lrs("0.1..0.5")) == 10  # no count anywhere: the default


def test_a_whole_number_field_rounds_and_drops_repeats_saying_how_many_remain() -> None:
    points = expand({"batch_size": "1..10:40"})
    assert [point.config.batch_size for point in points] == list(range(1, 11))
    assert range_notes({"batch_size": "1..10:40"}) == ["batch size: 40 points round to 10 distinct whole numbers"]
    assert range_notes({"batch_size": "1..10:10"}) == []


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--epochs", "1..3"], "epochs: '1..3' takes one value; a sweep takes a range A..B only in --lr"),
        (["--lr", "0..1", "--log"], "both ends of a log range must be positive"),
        (["--lr", "-1..1:5 log"], "both ends of a log range must be positive"),
        (["--lr", "0.1..1", "--points", "1"], "points: '1' is out of range; enter a whole number from 2 to 100,000"),
        (["--lr", "0.1..1", "--points", "100001"], "from 2 to 100,000"),
        (["--lr", "0.1..1", "--wd", "0..1"], "weight decay: '0..1' is a second range (after learning rate)"),
        (["--lr", "0.1", "--points", "5"], "points: '5' goes with a range A..B"),
        (["--lr", "0.1", "--log"], "log: '--log' goes with a range A..B"),
    ],
)
def test_bad_ranges_are_refused_in_one_line_and_nothing_runs(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", *args]) == 2
    out, err = capsys.readouterr()
    assert out == "" and said in err and len(err.strip().splitlines()) == 1


def test_the_command_line_curve_trains_each_point_of_the_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "--lr", "1e-3..1", "--points", "4", "--log", "--epochs", "1", "--csv"]) == 0
    out, _ = capsys.readouterr()
    lrs = [float(line.split(",")[0]) for line in out.splitlines()[1:]]
    assert lrs == pytest.approx([1e-3, 1e-2, 1e-1, 1.0], rel=1e-5)


async def test_the_form_takes_a_range_as_a_sweep() -> None:
    app = LinregApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        form = app.main_screen.params_panel
        form.set_texts({"lr": "1e-4..10:100 log"})
        await pilot.pause()
        assert form.border_subtitle == "sweep: 100 runs"
        points = form.read_points()
        assert math.isclose(points[0].config.lr, 1e-4) and math.isclose(points[-1].config.lr, 10)
        form.set_texts({"lr": "1e-4..10:100001 log"})
        await pilot.pause()
        with pytest.raises(ConfigError, match="a range takes 2 to 100,000"):
            form.read_points()
