"""The Landscape panel: the full-data loss over two tracked parameters as a shaded map, with the run's
path, its start, the true parameters and the closed-form optimum on it.

Painted by a widget of our own with half blocks (`▀`: foreground the upper half, background the lower
one), not with plotext's matrix_plot: twice the vertical resolution, cells that match the grid exactly
(no stripes), axis labels in parameter values, markers of our choosing that stay distinct in 16 colours
and with NO_COLOR, and no plotext canvas to build (the map is a few hundred Segments, rebuilt only when
the run, the size, the pair or the view changes; the path on top at most at the redraw tick's rate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.strip import Strip
from textual.widget import Widget

from linreg_tui.run.surface import LossSurface
from linreg_tui.ui.plots.landscape_map import (
    LEVELS,
    SHADES,
    MapModel,
    Range,
    band_levels,
    grown,
    held_names,
    ramp_color,
    tick_text,
    wanted_range,
)
from linreg_tui.ui.plots.loss import MAX_OVERLAID
from linreg_tui.ui.plots.tracked import Point, SampledPath
from linreg_tui.ui.widgets.fitting import FittedBorder
from linreg_tui.ui.widgets.legend import Legend

#: What the panel says before the first run.
IDLE_NOTE = "no run yet: ctrl+r trains; the loss map appears when the run starts"
#: The markers: characters, so that they are told apart without colour.
START, NOW, PATH, STEP, OPTIMUM, TRUTH = "o", "@", "•", "·", "*", "+"
MARKER_COLORS = {
    START: "rgb(255,140,0)",
    NOW: "rgb(255,255,255)",
    OPTIMUM: "rgb(255,60,60)",
    TRUTH: "rgb(255,105,230)",
}
#: Earlier runs' paths, each drawn with its run's number (its last digit) in one of these colours, so
#: that runs with other optimizers are told apart on the same map, with colour or without.
EARLIER_COLORS = ("rgb(120,200,255)", "rgb(190,230,120)", "rgb(230,170,255)", "rgb(255,210,120)")


@dataclass
class RunPath:
    """One run's path on the map, with the names of its tracked parameters (a run with other features
    has other parameters: its path is not drawn on this run's map)."""

    names: tuple[str, ...]
    path: SampledPath
    number: int
    label: str = ""  #: the run in a few words ("scratch momentum lr=0.02"), for the legend

    @property
    def mark(self) -> str:
        """The character its path is drawn with once it is an earlier run: its number's last digit."""
        return str(self.number % 10)


#: Styles made once: a redraw of the path makes none.
LEVEL_COLORS = tuple(ramp_color(level) for level in range(LEVELS))
LEVEL_BACKGROUNDS = tuple(Style(bgcolor=color) for color in LEVEL_COLORS)
HALF_BLOCK_STYLES = tuple(tuple(Style(color=top, bgcolor=bottom) for bottom in LEVEL_COLORS) for top in LEVEL_COLORS)
MARKER_STYLES = {mark: Style(color=color, bold=True) for mark, color in MARKER_COLORS.items()}
PATH_STYLE = Style(color="rgb(255,255,255)", bold=True)
STEP_STYLE = Style(color="rgb(230,230,230)")
EARLIER_STYLES = tuple(Style(color=color) for color in EARLIER_COLORS)


class LandscapeMap(Widget):
    """The shaded map and its axes; the panel tells it what to show."""

    DEFAULT_CSS = """
    LandscapeMap {
        height: 1fr;
    }
    """

    def __init__(self, panel: LandscapePanel) -> None:
        super().__init__(id="landscape-map")
        self.panel = panel
        self.model = MapModel()
        self._strips: list[Strip] = []
        self._built_for: tuple[object, ...] | None = None

    def render_line(self, y: int) -> Strip:
        key = (self.size, self.panel.version, self.app.no_color)
        if key != self._built_for:
            self._built_for = key
            self._strips = self.panel.paint(self.size.width, self.size.height, self.rich_style)
        return self._strips[y] if y < len(self._strips) else Strip.blank(self.size.width, self.rich_style)


class LandscapePanel(Vertical):
    """Keeps the run's surface and paths, and paints the map for its widget."""

    BORDER_TITLE = "Landscape"
    BORDER_SUBTITLE = "^g next pair"
    #: The subtitle's wordings when the run minimises another loss (huber, absolute, weight decay): the
    #: map is not it. The longest that fits the panel is shown.
    NOT_THIS_RUNS_LOSS = (
        "map: squared loss, no weight decay: not this run's · ^g next pair",
        "map: squared loss, no weight decay: not this run's",
        "map: squared loss: not this run's · ^g next pair",
        "map: squared loss: not this run's",
        "map: not this run's loss",
    )
    DEFAULT_CSS = """
    LandscapePanel #landscape-legend {
        height: auto;
        max-height: 4;
        padding: 0 1;
    }
    """
    can_focus = True  # f6 marks it in the wide layout

    def __init__(self) -> None:
        super().__init__(id="landscape", classes="panel")
        self.surface: LossSurface | None = None
        self.current: RunPath | None = None
        self.previous: list[RunPath] = []
        self.pair_index = 0
        self.runs_started = 0
        #: Bumped whenever what is drawn changes: the map repaints on the next render.
        self.version = 0
        self.map = LandscapeMap(self)
        self.fitted_border = FittedBorder(self)
        self.legend = Legend(id="landscape-legend")
        self._dirty = False
        #: Some of the live path lies outside the view (a diverged run): drawn clipped, and said so.
        self.clipped = False
        #: The true parameters and the optimum fall in one cell (little noise): the legend says so.
        self.truth_under_optimum = False
        self._view: tuple[Range, Range] | None = None
        #: The shaded grid last painted; empty until the first paint (a redraw tick may come first).
        self.model = MapModel()
        self._grid_key: tuple[object, ...] | None = None
        self._shading_key: tuple[object, ...] | None = None
        self._last_cell: tuple[int, int] | None = None  # where the latest point was drawn
        self._shading_rows: list[list[Segment]] = []

    def compose(self) -> ComposeResult:
        yield self.map
        yield self.legend

    def on_mount(self) -> None:
        self._show_legend()

    def on_resize(self) -> None:
        self.fitted_border.refit()

    # What the screen tells it ----------------------------------------------------------------------

    def start_run(self, surface: LossSurface, initial: Point, exact: bool = True, label: str = "") -> None:
        """A new live run; which earlier runs' paths stay is `show_earlier`'s (the run history's).
        `exact`: the surface is the loss the run minimises (run.events.RunStarted.surface_is_exact)."""
        self.fitted_border.set(subtitle=[self.BORDER_SUBTITLE if exact else self.NOT_THIS_RUNS_LOSS])
        self.runs_started += 1
        if self.surface is None or surface.names != self.surface.names:
            self.pair_index = 0
        self.surface = surface
        self.current = RunPath(surface.names, SampledPath(initial), self.runs_started, label)
        self._view = None
        self._last_cell = None
        self._redraw()

    def add_steps(self, first_step: int, tracked: Sequence[Point]) -> None:
        if self.current is not None and tracked:
            self.current.path.extend(first_step, tracked)
            self._dirty = True

    def on_show(self) -> None:
        self.redraw_if_dirty(now=True)  # shown again: what came while hidden, at once

    def redraw_if_dirty(self, now: bool = False) -> None:
        """Called by the redraw tick (and `now`: at the run's end, or shown again). Hidden: drawn when
        shown again. While the latest point stays in its character cell (a run settling in the valley)
        nothing new would show: no repaint, unless `now`."""
        if not (self._dirty and self.region.area):
            return
        if not now and self.current is not None and self._view is not None and self.model.cols:
            (x0, x1), (y0, y1) = self._view
            i, j = self.pair
            last = self.current.path.last
            col = (last[i] - x0) / (x1 - x0) * self.model.cols
            row = (y1 - last[j]) / (y1 - y0) * self.model.subrows / 2
            where = (int(col), int(row)) if math.isfinite(col) and math.isfinite(row) else None
            if where is not None and where == self._last_cell:
                return
            self._last_cell = where
        self._redraw()

    def show_earlier(self, runs: list[RunPath]) -> None:
        """Draw these earlier runs' paths (newest first; a run that took no step is left out)."""
        self.previous = [run for run in runs if len(run.path.points) > 1][:MAX_OVERLAID]
        self._redraw()

    def next_pair(self) -> None:
        if self.surface is not None:
            self.pair_index = (self.pair_index + 1) % len(self.surface.pairs())
            self._view = None
            self._last_cell = None
            self._redraw()

    @property
    def pair(self) -> tuple[int, int]:
        return self.surface.pairs()[self.pair_index] if self.surface is not None else (0, 1)

    # Drawing ---------------------------------------------------------------------------------------

    def _redraw(self) -> None:
        self._dirty = False
        self._update_view()
        self.clipped = self._path_leaves_view()
        self._update_title()
        self.version += 1
        self.map.refresh()
        self._show_legend()

    def _update_title(self) -> None:
        """The pair, and what is held at the optimum: the longest wording that fits the panel."""
        if self.surface is None:
            self.fitted_border.set(title=["Landscape"])
            return
        i, j = self.pair
        names = self.surface.names
        pair = (f"Landscape: {names[i]} × {names[j]}", f"{names[i]} × {names[j]}")
        held = held_names(names, (i, j), self.surface.held)
        if not held:
            self.fitted_border.set(title=[pair])
            return
        rest = held if "," not in held else "the rest"
        short_rest = rest.removeprefix("the ")
        wordings = (
            f"{pair[0]} · {rest} at optimum",
            f"{pair[0]} · {short_rest} at optimum",
            pair[0],
            f"{pair[1]} · {short_rest} at optimum",
            pair[1],
        )
        self.fitted_border.set(title=[tuple(dict.fromkeys(wordings))])  # each wording once

    def _update_view(self) -> None:
        """The view covers the start, the optimum, the truth and the path (see `grown`)."""
        if self.surface is None or self.current is None:
            return
        i, j = self.pair
        _, points = self.current.path.series()
        anchors = [self.current.path.points[0], self.surface.optimum]
        if self.surface.truth is not None:
            anchors.append(self.surface.truth)
        self._view = (
            grown(wanted_range([p[i] for p in anchors]), [p[i] for p in points]),
            grown(wanted_range([p[j] for p in anchors]), [p[j] for p in points]),
        )

    def _path_leaves_view(self) -> bool:
        if self.current is None or self._view is None:
            return False
        i, j = self.pair
        (x0, x1), (y0, y1) = self._view
        return not all(x0 <= p[i] <= x1 and y0 <= p[j] <= y1 for p in self.current.path.series()[1])

    def paint(self, width: int, height: int, base: Style) -> list[Strip]:
        """The map's lines: y ticks at the left, the shaded grid with the markers, x ticks below. Every
        Segment has a style (`base`, the widget's): Textual's colour filters expect one."""
        if self.surface is None or self._view is None or width < 12 or height < 3:
            return []  # before a run the legend says what comes (it wraps: one line was cut at 120×36)
        _, (y0, y1) = self._view
        rows = height - 1
        y_ticks = {0: y1 - (y1 - y0) / (2 * rows), rows - 1: y0 + (y1 - y0) / (2 * rows)}
        y_ticks[(rows - 1) // 2] = (y0 + y1) / 2
        gutter = max(len(tick_text(v)) for v in y_ticks.values()) + 1
        cols = width - gutter
        shading = self._shading(cols, rows, base)
        no_color = self.app.no_color
        names = self.surface.names
        i, j = self.pair
        lines = [list(row) for row in shading]
        for (col, row), (char, style) in self._marker_cells(cols, rows).items():
            level = max(self.model.levels[2 * row][col], self.model.levels[2 * row + 1][col])
            lines[row][col] = Segment(char, base + style if no_color else base + style + LEVEL_BACKGROUNDS[level])
        strips = []
        for row, segments in enumerate(lines):
            label = tick_text(y_ticks[row]) if row in y_ticks else (f"{names[j]}↑" if row == 1 else "")
            label_segment = Segment(label.rjust(gutter - 1)[: gutter - 1] + " ", base)
            strips.append(Strip([label_segment, *segments]).adjust_cell_length(width, base))
        strips.append(Strip([Segment(self._x_axis(gutter, cols, names[i]), base)]).adjust_cell_length(width, base))
        return strips

    def _shading(self, cols: int, rows: int, base: Style) -> list[list[Segment]]:
        """The shaded cells, row by row: built with the grid (once per run, size, pair and view), not on
        every redraw of the path."""
        self._build_model(cols, 2 * rows)
        key = (self._grid_key, self.app.no_color, base)
        if key != self._shading_key:
            self._shading_key = key
            levels = self.model.levels
            if self.app.no_color:
                self._shading_rows = [
                    [Segment(SHADES[max(t, b) * len(SHADES) // LEVELS], base) for t, b in zip(top, bottom, strict=True)]
                    for top, bottom in zip(levels[::2], levels[1::2], strict=True)
                ]
            else:
                self._shading_rows = [
                    [Segment("▀", HALF_BLOCK_STYLES[t][b]) for t, b in zip(top, bottom, strict=True)]
                    for top, bottom in zip(levels[::2], levels[1::2], strict=True)
                ]
        return self._shading_rows

    def _x_axis(self, gutter: int, cols: int, name: str) -> str:
        (x0, x1), _ = self._view or ((0.0, 1.0), (0.0, 1.0))
        left, middle, right = tick_text(x0), tick_text((x0 + x1) / 2), tick_text(x1)
        axis = [" "] * cols
        for text, start in ((left, 0), (middle, (cols - len(middle)) // 2), (right, cols - len(right))):
            axis[max(0, start) : max(0, start) + len(text)] = text
        return f"{name}→".rjust(gutter - 1)[: gutter - 1] + " " + "".join(axis)[:cols]

    def _build_model(self, cols: int, subrows: int) -> None:
        """The grid of losses: once per run, size, pair and view, not per redraw."""
        assert self.surface is not None and self._view is not None
        key = (id(self.surface), cols, subrows, self.pair, self._view)
        if key == self._grid_key:
            return
        self._grid_key = key
        (x0, x1), (y0, y1) = self._view
        xs = [x0 + (c + 0.5) * (x1 - x0) / cols for c in range(cols)]
        ys = [y0 + (r + 0.5) * (y1 - y0) / subrows for r in range(subrows)]
        i, j = self.pair
        losses = self.surface.grid(i, j, xs, ys)
        self.model = MapModel(cols, subrows, (x0, x1), (y0, y1), losses, band_levels(losses, self.surface.floor))
        self.map.model = self.model

    def _marker_cells(self, cols: int, rows: int) -> dict[tuple[int, int], tuple[str, Style]]:
        """Character cells (column, row) to draw a marker in, the later ones over the earlier. In cell
        coordinates (floats), with no tuples made per point: this runs on every redraw of the path."""
        assert self.surface is not None and self.current is not None and self._view is not None
        i, j = self.pair
        (x0, x1), (y0, y1) = self._view
        x_scale, y_scale = cols / (x1 - x0), rows / (y1 - y0)
        cells: dict[tuple[int, int], tuple[str, Style]] = {}

        def put(col: float, row: float, marker: tuple[str, Style]) -> None:
            if 0 <= col < cols and 0 <= row < rows:  # outside the view: clipped (the legend says so)
                cells[(int(col), int(row))] = marker

        def place(points: Sequence[Point]) -> list[tuple[float, float]]:
            return [((p[i] - x0) * x_scale, (y1 - p[j]) * y_scale) for p in points]

        earlier = self._earlier_on_map()
        for run in reversed(earlier):  # the newest over the older
            style = EARLIER_STYLES[run.number % len(EARLIER_STYLES)]
            for col, row in place(run.path.series()[1]):
                put(col, row, (run.mark, style))
        _, points = self.current.path.series()
        placed = place(points)
        for (c0, r0), (c1, r1) in pairwise(placed):
            count = max(abs(c1 - c0), abs(r1 - r0))
            if not (math.isfinite(count) and count >= 2):  # neighbours, or a jump off any scale: no line
                continue
            count = min(int(count), cols + rows)
            for k in range(1, count):
                put(c0 + (c1 - c0) * k / count, r0 + (r1 - r0) * k / count, (STEP, STEP_STYLE))
        for col, row in placed:
            put(col, row, (PATH, PATH_STYLE))
        if len(placed) > 1:
            put(*placed[-1], (NOW, MARKER_STYLES[NOW]))
        # The fixed points over the path: a run that converged ends under the optimum's marker.
        start, optimum = place([points[0], self.surface.optimum])
        put(*start, (START, MARKER_STYLES[START]))
        under = False
        if self.surface.truth is not None:  # data with true parameters: where they are
            [truth] = place([self.surface.truth])
            put(*truth, (TRUTH, MARKER_STYLES[TRUTH]))
            under = (int(truth[0]), int(truth[1])) == (int(optimum[0]), int(optimum[1]))
        put(*optimum, (OPTIMUM, MARKER_STYLES[OPTIMUM]))
        if under != self.truth_under_optimum:  # known once the size is: the legend follows the paint
            self.truth_under_optimum = under
            self.call_later(self._show_legend)
        return cells

    def _earlier_on_map(self) -> list[RunPath]:
        """The earlier runs whose paths this map can draw (the same tracked parameters), newest first."""
        names = self.surface.names if self.surface is not None else None
        return [run for run in self.previous if run.names == names]

    def _xy(self, point: Point) -> tuple[float, float]:
        i, j = self.pair
        return point[i], point[j]

    def _show_legend(self) -> None:
        parts = []
        if self.current is not None:
            parts = [
                _key(START, MARKER_COLORS[START], "start"),
                _key(PATH, "rgb(255,255,255)", f"path #{self.current.number} {self.current.label}".strip()),
                _key(NOW, MARKER_COLORS[NOW], "now"),
                _key(OPTIMUM, MARKER_COLORS[OPTIMUM], "optimum"),
            ]
            if self.surface is not None and self.surface.truth is not None:
                parts.append(
                    _key(TRUTH, MARKER_COLORS[TRUTH], "truth" + (" (under *)" if self.truth_under_optimum else ""))
                )
            for run in self._earlier_on_map():
                color = EARLIER_COLORS[run.number % len(EARLIER_COLORS)]
                parts.append(_key(run.mark, color, f"#{run.number} {run.label}".strip()))
        notes = []
        if self.surface is not None and self.surface.held:
            notes.append(f"({held_names(self.surface.names, self.pair, self.surface.held)} held at the optimum)")
        if self.clipped:
            notes.append("the path leaves the view: clipped")
        if self.surface is None:
            self.legend.show([IDLE_NOTE])
        else:
            self.legend.show(parts, notes)


def _key(mark: str, color: str, label: str) -> str:
    return f"[bold {color}]{mark}[/]\u00a0{label.replace(' ', chr(0xA0))}"
