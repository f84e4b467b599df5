"""The panels, each in a host app the size it has at 120×36, and in the real app where the wiring counts."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import DataTable, Input, Static

from linreg_tui.run.config import RunConfig
from linreg_tui.run.report import end_lines
from linreg_tui.run.result import Optimum
from linreg_tui.ui.app import LinregApp
from linreg_tui.ui.panels.log import MAX_LINES, LogPane
from linreg_tui.ui.panels.results import ALL_ROWS_UP_TO, FIRST_ROWS, LARGEST_ERRORS, ResultsPanel
from linreg_tui.ui.plots.data import DataPlot, clip_line
from linreg_tui.ui.plots.loss import KEEP_RUNS, MAX_OVERLAID, PREVIOUS_MARKERS, LossPanel
from tests.apptools import log_text, run_to_end, wait_ready

#: At 120×36 each of the four panels is 45 columns wide and 16 or 17 rows high.
PANEL_SIZE = (45, 16)


class PanelHost(App[None]):
    """One panel alone, bordered as in the app."""

    CSS = ".panel { border: round $secondary; height: 1fr; }"

    def __init__(self, panel: Widget) -> None:
        super().__init__()
        self.panel = panel

    def compose(self) -> ComposeResult:
        yield self.panel


def screen_text(widget: Widget) -> list[str]:
    """The widget's lines as a person reads them, its border (and so its titles) included."""
    return [strip.text for strip in widget.render_lines(Region(0, 0, *widget.outer_size))]


def chart_text(panel: LossPanel) -> list[str]:
    return str(panel.chart.render()).splitlines()


# Results ------------------------------------------------------------------------------------------------


def weights(count: int) -> tuple[float, ...]:
    return tuple(float(i % 7 - 3) for i in range(count))


async def test_at_1000_features_the_results_table_has_a_bounded_number_of_rows_the_largest_errors_among_them() -> None:
    panel = ResultsPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        true_w = weights(1000)
        panel.start((true_w, 4.2), Optimum(true_w, 4.2))
        await pilot.pause()
        table = panel.query_one(DataTable)
        bound = FIRST_ROWS + LARGEST_ERRORS + 1  # and b
        assert table.row_count <= bound
        learned = list(true_w)
        learned[500], learned[900] = 100.0, float("nan")  # the largest errors: a far one, a non-finite one
        panel.show_parameters(tuple(learned), 4.2)
        await pilot.pause()
        names = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert table.row_count <= bound and names[-1] == "b"
        assert names[:FIRST_ROWS] == [f"w{i + 1}" for i in range(FIRST_ROWS)]
        assert names[FIRST_ROWS : FIRST_ROWS + 2] == ["w901", "w501"]
        assert "of 1,000 weights" in str(panel.query_one("#results-scope", Static).render())


async def test_a_new_value_changes_its_cell_without_measuring_any_column(monkeypatch: pytest.MonkeyPatch) -> None:
    """Width-checked cell updates re-measured a whole column per cell: at 1,000 features millions of
    measurements froze the app. The changing columns have a fixed width instead."""
    import textual.widgets._data_table as data_table_module

    measured: list[object] = []
    real_measure = data_table_module.measure

    def counting_measure(*args: object, **kwargs: object) -> int:
        measured.append(args[1])
        return real_measure(*args, **kwargs)  # type: ignore[arg-type]

    panel = ResultsPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        true_w = weights(ALL_ROWS_UP_TO)  # every weight has a row: only values change from epoch to epoch
        panel.start((true_w, 4.2), Optimum(true_w, 4.2))
        panel.show_parameters(tuple(0.5 * v for v in true_w), 1.0)
        await pilot.pause()
        monkeypatch.setattr(data_table_module, "measure", counting_measure)
        for epoch in range(1, 6):
            panel.show_parameters(tuple(v + 1e-3 * epoch for v in true_w), 4.0 + epoch)
            await pilot.pause()
        table = panel.query_one(DataTable)
        assert table.get_row("w1")[2] == "-2.995" and not measured


@pytest.mark.parametrize("num_weights", [2, ALL_ROWS_UP_TO + 10])
async def test_the_error_column_is_true_minus_learned_the_books_sign(num_weights: int) -> None:
    """Each update's errors, for w and b: a few weights change their cells, many rebuild the rows (the
    largest errors move), and each path writes the error itself."""
    panel = ResultsPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        true_w, true_b = weights(num_weights), 4.2
        panel.start((true_w, true_b), Optimum(true_w, true_b))
        table = panel.query_one(DataTable)
        for shift, b in ((0.5, 5.0), (-0.25, 3.9), (0.125, 4.45)):
            learned = tuple(v + shift * (i + 1) for i, v in enumerate(true_w))  # the last weights: largest errors
            panel.show_parameters(learned, b)
            await pilot.pause()
            assert float(table.get_row("b")[3]) == pytest.approx(true_b - b, abs=1e-6)
            for index in panel.shown:
                row = table.get_row(f"w{index + 1}")
                assert float(row[3]) == pytest.approx(true_w[index] - learned[index], rel=1e-5)


async def test_a_diverged_runs_results_fit_the_panel_at_120x36() -> None:
    panel = ResultsPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        true_w = (2.0, -3.4)
        panel.start((true_w, 4.2), Optimum((1.99993, -3.39971), 4.19972))
        panel.show_parameters((-6.31977e17, 5.38067e18), 3.46692e18)  # the last finite values of lr=3
        await pilot.pause()
        table = panel.query_one(DataTable)
        assert table.virtual_size.width <= table.scrollable_content_region.width
        w1 = next(line for line in screen_text(table) if "w1" in line).split()
        assert w1 == ["w1", "2", "-6.3e+17", "6.32e+17", "1.99993"]  # every number whole, the optimum uncut


# Loss ---------------------------------------------------------------------------------------------------


def loss_run(panel: LossPanel, config: RunConfig, steps: int) -> None:
    """Losses falling as 1/(lr·step): runs at other learning rates draw other curves. The earlier runs
    stay beside it as the run history has them by default: the newest KEEP_RUNS (the app's
    history.overlaid, which this panel is not given here)."""
    earlier = ([panel.current] if panel.current is not None else []) + panel.previous
    panel.start_run(config)
    panel.show_earlier(earlier[:KEEP_RUNS])
    panel.add_steps(1, tuple(1.0 / (config.lr * step) for step in range(1, steps + 1)))
    panel.add_epoch(steps, 1.0 / (config.lr * steps))


@pytest.fixture
def sixteen_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delenv("COLORTERM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def true_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)


def legend_of(panel: LossPanel) -> str:
    return str(panel.legend.render()).replace("\u00a0", " ")


@pytest.mark.usefixtures("true_colour")
async def test_runs_are_numbered_and_the_legend_names_what_differs_from_the_live_run() -> None:
    panel = LossPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        loss_run(panel, RunConfig(impl="concise"), 50)
        loss_run(panel, RunConfig(batch_size=5), 50)
        loss_run(panel, RunConfig(seed=7, num_examples=2000), 50)
        loss_run(panel, RunConfig(true_w=weights(1000)), 50)
        loss_run(panel, RunConfig(), 50)
        panel.replot()
        await pilot.pause()
        legend = legend_of(panel)
        assert "#1 " not in legend  # the oldest left the chart: three earlier runs stay
        assert "#2 scratch lr=0.03 batch=5" in legend
        assert "#3 scratch lr=0.03 examples=2000 seed=7" in legend
        assert "#4 scratch lr=0.03 other w" in legend
        assert "#5 scratch lr=0.03: steps" in legend


@pytest.mark.parametrize("environment", ["sixteen_colours", "no_color"])
async def test_where_colours_run_out_earlier_runs_have_markers_of_their_own(
    environment: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    request.getfixturevalue("true_colour" if environment == "no_color" else environment)
    if environment == "no_color":
        monkeypatch.setenv("NO_COLOR", "1")
    panel = LossPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        for lr in (0.01, 0.02, 0.03, 0.04):
            loss_run(panel, RunConfig(lr=lr), 50)
        panel.replot()
        await pilot.pause()
        legend, chart = legend_of(panel), "\n".join(chart_text(panel))
        for marker, lr in zip(PREVIOUS_MARKERS[:3], ("0.01", "0.02", "0.03"), strict=True):
            assert f"{marker} #{lr[-1]} scratch lr={lr}" in legend
            assert marker in chart


@pytest.mark.usefixtures("sixteen_colours")
async def test_without_colours_as_many_earlier_runs_as_the_chart_draws_have_a_marker_each() -> None:
    """A sweep overlays up to MAX_OVERLAID earlier runs: each keeps its own marker where colours run out."""
    panel = LossPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        runs = []
        for number in range(1, MAX_OVERLAID + 2):  # the last is the live run
            loss_run(panel, RunConfig(lr=0.01 * number), 50)
            runs.append(panel.current)
        panel.show_earlier([run for run in reversed(runs[:-1]) if run is not None])
        panel.replot()
        await pilot.pause()
        legend = legend_of(panel)
        assert len(set(PREVIOUS_MARKERS)) >= MAX_OVERLAID
        for number, marker in zip(range(1, MAX_OVERLAID + 1), PREVIOUS_MARKERS, strict=True):
            assert f"{marker} #{number} scratch" in legend


@pytest.mark.usefixtures("true_colour")
async def test_with_colours_every_run_is_drawn_in_braille_dots() -> None:
    panel = LossPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        loss_run(panel, RunConfig(lr=0.01), 50)
        loss_run(panel, RunConfig(), 50)
        panel.replot()
        await pilot.pause()
        assert "━ #1 scratch lr=0.01" in legend_of(panel)


def x_tick_labels(lines: list[str]) -> list[str]:
    """The labels on the line under the chart's bottom frame (└───┬───┘)."""
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return lines[bottom + 1].split()


@pytest.mark.parametrize("steps", [2, 3, 76, 1234, 65_536])
async def test_step_ticks_are_whole_steps(steps: int) -> None:
    panel = LossPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        loss_run(panel, RunConfig(), steps)
        panel.replot()
        await pilot.pause()
        labels = x_tick_labels(chart_text(panel))
        assert labels and all(re.fullmatch(r"\d+(\.\d+)?k?", label) for label in labels), labels
        assert all("." not in label for label in labels if not label.endswith("k")), labels


async def test_the_log_axis_labels_its_top_decade_inside_the_frame() -> None:
    panel = LossPanel()
    async with PanelHost(panel).run_test(size=PANEL_SIZE) as pilot:
        panel.start_run(RunConfig(lr=3.0))
        panel.add_steps(1, tuple(0.5 * 10 ** (step / 8) for step in range(1, 60)))  # 0.66 … 1.2e7
        panel.log_y = True
        await pilot.pause()
        lines = chart_text(panel)
        top = next(i for i, line in enumerate(lines) if "┌" in line)
        bottom = next(i for i, line in enumerate(lines) if "└" in line)
        labelled = {re.match(r"\s*(1e-?\d+)", line).group(1): i for i, line in enumerate(lines) if "1e" in line}  # type: ignore[union-attr]
        assert "1e8" in labelled and all(top < row < bottom for row in labelled.values()), lines


# Log ----------------------------------------------------------------------------------------------------


async def test_the_log_keeps_the_last_lines_and_says_how_many_older_ones_were_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = LogPane()
    async with PanelHost(log).run_test(size=PANEL_SIZE) as pilot:
        for i in range(MAX_LINES + 250):
            log.say(f"epoch {i + 1}, loss 0.000047", "book")
        await pilot.pause()
        assert len(log.lines_written) == MAX_LINES and log.lines_written[0] == "epoch 251, loss 0.000047"
        assert "250 older dropped" in str(log.border_subtitle)

        written: list[object] = []
        real_write = LogPane.write
        monkeypatch.setattr(LogPane, "write", lambda self, *a, **k: (written.append(a), real_write(self, *a, **k))[1])
        await pilot.resize_terminal(PANEL_SIZE[0], PANEL_SIZE[1] + 10)  # taller only: nothing to wrap again
        await pilot.pause()
        assert written == []
        await pilot.resize_terminal(PANEL_SIZE[0] - 10, PANEL_SIZE[1])  # narrower: the kept lines, in one write
        await pilot.pause()
        assert [len(str(text).splitlines()) for text, *_ in written] == [MAX_LINES]


# In the app at 120×36 -----------------------------------------------------------------------------------


async def type_into(pilot: Pilot, field: str, text: str) -> None:
    """Select the field's text and type over it, as a person does."""
    widget = pilot.app.query_one(f"#{field}", Input)
    widget.focus()
    await pilot.pause()
    widget.select_all()
    await pilot.press(*text)
    await pilot.pause()


async def in_app(config: RunConfig, scene: Callable[[Pilot], object]) -> None:
    app = LinregApp(config)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_ready(pilot)
        await scene(pilot)  # type: ignore[misc]


@pytest.mark.usefixtures("true_colour")
async def test_in_the_app_two_runs_differing_in_batch_size_say_so_in_the_legend() -> None:
    async def scene(pilot: Pilot) -> None:
        await run_to_end(pilot)
        await type_into(pilot, "batch_size", "5")
        await run_to_end(pilot)
        legend = legend_of(pilot.app.query_one(LossPanel))
        assert "#1 scratch lr=0.03 batch=10" in legend and "#2 scratch lr=0.03: steps" in legend

    await in_app(RunConfig(num_examples=200, epochs=2), scene)


async def test_in_the_app_the_gap_to_the_optimum_reads_the_same_in_the_log_and_the_results() -> None:
    async def scene(pilot: Pilot) -> None:
        await run_to_end(pilot)
        app = pilot.app
        assert isinstance(app, LinregApp) and app.last_result is not None
        in_log = re.search(r"largest gap to learned: ([^)]+)\)", log_text(app))
        summary = str(app.query_one("#results-summary", Static).render())
        assert in_log is not None and f"gap to optimum {in_log.group(1)}" in summary
        assert in_log.group(0) in "\n".join(end_lines(app.last_result))

    await in_app(RunConfig(), scene)


async def test_in_the_app_the_data_title_is_whole_at_120x36() -> None:
    async def scene(pilot: Pilot) -> None:
        plot = pilot.app.query_one(DataPlot)
        top, *_, bottom = screen_text(plot)
        title = str(plot.border_title)
        assert title == "Data: x₂ (w2's feature) vs labels" and title in top  # drawn whole
        assert "1,000 points" in bottom

    await in_app(RunConfig(), scene)


async def test_in_the_app_at_1000_features_every_row_of_the_results_is_in_sight() -> None:
    async def scene(pilot: Pilot) -> None:
        await run_to_end(pilot)
        table = pilot.app.query_one(ResultsPanel).query_one(DataTable)
        assert table.row_count == FIRST_ROWS + LARGEST_ERRORS + 1
        assert table.scrollable_content_region.height >= table.row_count + 1  # the header too: b is in sight
        assert table.get_row_at(table.row_count - 1)[0] == "b"

    await in_app(RunConfig(true_w=weights(1000), num_examples=50, epochs=1), scene)


@pytest.mark.parametrize("slope", [5.380633873359045e18, -6.3e17, 3.0, 1e-300])
@pytest.mark.parametrize("intercept", [3.466901449621897e18, -2.0, 0.5])
def test_a_clipped_line_stays_in_its_box_however_steep(slope: float, intercept: float) -> None:
    """A diverged run's model line (slope ~5e18) clipped to the data's box: its ends are in the box, so
    the chart's y axis stays on the data (one ulp of x was ±600 in y, and the axis ran to -512)."""
    x_range, y_range = (-3.2, 4.1), (-9.8, 18.0)
    segment = clip_line(slope, intercept, x_range, y_range)
    if segment is None:  # the line misses the box: then no point of it is inside
        assert all(not y_range[0] <= slope * x + intercept <= y_range[1] for x in (-3.2, 0.0, 4.1))
        return
    (x_a, x_b), (y_a, y_b) = segment
    assert x_range[0] <= x_a <= x_b <= x_range[1]
    assert all(y_range[0] <= y <= y_range[1] for y in (y_a, y_b))
    # and they are the line's own points, up to the rounding of x
    for x, y in ((x_a, y_a), (x_b, y_b)):
        assert abs(slope * x + intercept - y) <= abs(slope) * 4 * math.ulp(max(abs(x), 1.0)) + 1e-12
    crossings = [(edge - intercept) / slope for edge in y_range]
    if all(x_range[0] < x < x_range[1] for x in crossings):  # in at the bottom, out at the top (or so)
        assert sorted((y_a, y_b)) == list(y_range), "a steep line is drawn across the whole box, not as a dot"


async def test_lines_said_while_the_log_is_hidden_are_wrapped_for_its_width_when_shown() -> None:
    """At 100 columns the panels are tabs: the log, seen once and then hidden behind the Data tab, used
    to wrap the run's lines at RichLog's minimum width (20) and keep them so when shown again."""
    app = LinregApp(RunConfig(epochs=1))
    async with app.run_test(size=(100, 32)) as pilot:
        await wait_ready(pilot)
        await pilot.press("f4", "f2")
        await run_to_end(pilot)
        await pilot.press("f4")
        await pilot.pause()
        log = app.query_one(LogPane)
        rows = [strip.text.rstrip() for strip in log.lines]
        finished = next(row for row in rows if row.startswith("finished:"))
        assert "steps/s" in finished  # the whole status line on one row, not "finished: 100 steps"
        assert max(len(row) for row in rows) > 40
