"""The main screen's panels, handed to the parts of the screen that draw into them: typed fields, no
ids to remember, and no need for those parts to know the screen that composed them."""

from __future__ import annotations

from dataclasses import dataclass

from linreg_tui.ui.panels.form import ParamsPanel
from linreg_tui.ui.panels.log import LogPane
from linreg_tui.ui.panels.results import ResultsPanel
from linreg_tui.ui.panels.status_bar import StatusBar
from linreg_tui.ui.plots.data import DataPlot
from linreg_tui.ui.plots.landscape import LandscapePanel
from linreg_tui.ui.plots.loss import LossPanel
from linreg_tui.ui.plots.parameters import ParamsOverTime


@dataclass(frozen=True)
class Views:
    form: ParamsPanel
    data: DataPlot
    loss: LossPanel
    landscape: LandscapePanel
    #: Parameters over time.
    weights: ParamsOverTime
    results: ResultsPanel
    log: LogPane
    status: StatusBar
