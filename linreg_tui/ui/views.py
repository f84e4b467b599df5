"""The main screen's panels, handed to the parts of the screen that draw into them: typed fields, no
ids to remember, and no need for those parts to know the screen that composed them."""

from __future__ import annotations

from dataclasses import dataclass

from linreg_tui.ui.data_plot import DataPlot
from linreg_tui.ui.landscape_plot import LandscapePanel
from linreg_tui.ui.log import LogPane
from linreg_tui.ui.loss_plot import LossPanel
from linreg_tui.ui.params import ParamsPanel
from linreg_tui.ui.params_plot import ParamsOverTime
from linreg_tui.ui.results import ResultsPanel
from linreg_tui.ui.status_bar import StatusBar


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
