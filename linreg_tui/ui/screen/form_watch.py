"""What the form's values say before a run: the data they make (drawn once typing pauses), the
conditioning they will have (in the log), and a warning when the lr is above the last run's bound.
Both the data and the estimate are made on workers: up to a 1,001² eigendecomposition, or millions
of examples, must not hold the UI thread."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

from textual.screen import Screen
from textual.timer import Timer

from linreg_tui.run.config import ConfigError, RunConfig, parse_config
from linreg_tui.run.memory import check_memory, estimate_memory, host_free_bytes
from linreg_tui.run.report import conditioning_lines, could_standardize, lr_warning
from linreg_tui.run.surface import Conditioning, loss_scale
from linreg_tui.ui import messages
from linreg_tui.ui.panels.form import ParamsPanel
from linreg_tui.ui.panels.log import LogPane
from linreg_tui.ui.plots.data import DataPlot


def estimate_key(config: RunConfig) -> tuple[object, ...]:
    """What decides the conditioning and bound said before a run: synthetic data's population (not its
    draw: conditioning_for), any other source's data itself."""
    scales, impl = config.feature_scales, config.impl
    loss = (impl, config.loss, config.wd, config.reduction, config.batch_size)
    return (scales, config.corr, *loss) if config.kind == "synthetic" else (data_key(config), *loss)


def data_key(config: RunConfig) -> tuple[object, ...]:
    """What decides the data (and so the scatter): not the learning rate, batch size or engine."""
    synthetic = (config.true_w, config.true_b, config.noise, config.scales, config.corr, config.outlier)
    source = (config.data, config.degree, config.standardize, config.target, config.features, config.header)
    return (*synthetic, *source, config.num_examples, config.val, config.seed)


class FormWatch:
    """Follows the form's values: its data in the Data panel, its conditioning in the log. Its workers
    run on `screen`, which hears of their results as messages and hands them back here."""

    def __init__(
        self, screen: Screen[None], form: ParamsPanel, data: DataPlot, log: LogPane, running: Callable[[], bool]
    ) -> None:
        self.screen = screen
        self.form, self.data, self.log = form, data, log
        self.running = running
        self._preview_timer: Timer | None = None
        self._previewed: tuple[object, ...] | None = None
        #: The source of the data the Data panel shows (or is about to): the form's last valid one, or a run's.
        self._drawn_source: str | None = None
        self._estimated: tuple[object, ...] | None = None  # the form values of the last conditioning estimate
        #: The last run's data, implementation and bound: the form warns of an lr above it before a run.
        self._bound_seen: tuple[tuple[object, ...], str, float] | None = None

    def changed(self, config: RunConfig) -> None:
        self.schedule_preview(config, delay=0.3)
        self._warn_of_lr_above_bound(config)
        if estimate_key(config) != self._estimated:
            self._estimated = estimate_key(config)
            self.screen.run_worker(
                partial(self._estimate, config),
                name="estimate_in_thread",
                group="estimate",
                exclusive=True,
                thread=True,
                exit_on_error=False,
            )

    def bound_seen(self, config: RunConfig, max_stable_lr: float) -> None:
        """A run's own bound, for the warnings on the form until the next run."""
        self._bound_seen = (data_key(config), config.impl, max_stable_lr)

    def run_starts(self) -> None:
        if self._preview_timer is not None:
            self._preview_timer.stop()  # the run draws its own data; a pending preview would make it twice

    # The conditioning estimate ---------------------------------------------------------------------

    def _estimate(self, config: RunConfig) -> None:
        """In the worker's thread: the conditioning the form's values will have, said in the log before
        any run: "largest stable lr ≈ 0.125"."""
        # torch: loaded behind the form
        from linreg_tui.training.conditioning import conditioning_for
        from linreg_tui.training.run_data import conditioning_before

        try:
            estimate = conditioning_for(config) if config.kind == "synthetic" else conditioning_before(config)
        except ConfigError:
            return  # data that cannot be used: the form says why
        self.screen.app.call_from_thread(self._show_estimate, estimate_key(config), config, estimate)

    def _show_estimate(self, key: tuple[object, ...], config: RunConfig, estimate: Conditioning) -> None:
        if key != self._estimated or self.running():  # typed on since, or a run says the data's own values
            return
        for line in conditioning_lines(
            estimate.condition_number,
            estimate.max_stable_lr,
            config.lr,
            could_standardize(config),
            config.optimizer,
            config.momentum,
        ):
            where = "estimate before the run (from scales and corr)" if config.kind == "synthetic" else "before the run"
            self.log.say(f"{where}: {line}", "note")

    def _warn_of_lr_above_bound(self, config: RunConfig) -> None:
        """Before a run: the last run's bound holds for the same data (rescaled for the other loss)."""
        if self._bound_seen is None or self.running():
            return
        key, impl, bound = self._bound_seen
        if key == data_key(config):
            bound *= loss_scale(impl) / loss_scale(config.impl)
            if (warning := lr_warning(config.lr, bound, config.optimizer, config.momentum)) is not None:
                self.form.note(warning)  # momentum's (2 + 2β)/λmax for momentum, 2/λmax for the others

    # The data preview ------------------------------------------------------------------------------

    def invalid(self, source: str) -> None:
        """The form's values are refused. When its data is another source than the one drawn, the Data
        panel stops showing the old data under the new name until the values are valid again."""
        if self.running() or source == self._drawn_source:
            return
        self._previewed = self._drawn_source = None  # drawn again once valid, whatever it was before
        if self._preview_timer is not None:
            self._preview_timer.stop()
        name = os.path.basename(source) or source
        self.data.wait_for_run(f"{name} is drawn once the form's values are valid (see under the form)")

    def run_drew(self, config: RunConfig) -> None:
        """A run shows its own data (RunStarted's preview)."""
        self._previewed, self._drawn_source = data_key(config), config.data

    def schedule_preview(self, config: RunConfig, delay: float | None) -> None:
        """Redraw the data once typing pauses, and only when the data itself would change."""
        key = data_key(config)
        if key == self._previewed:
            return
        self._previewed = key
        self._drawn_source = config.data
        if self._preview_timer is not None:
            self._preview_timer.stop()
        if delay is None:
            self._start_preview(config)
        else:
            self._preview_timer = self.screen.set_timer(delay, lambda: self._start_preview(config))

    def _start_preview(self, config: RunConfig) -> None:
        self.screen.run_worker(
            partial(self._preview, config),
            name="preview_in_thread",
            group="preview",
            exclusive=True,
            thread=True,
            exit_on_error=False,
        )

    def _preview(self, config: RunConfig) -> None:
        """In the worker's thread: the data's preview, or why it cannot be made (memory)."""
        key = data_key(config)
        try:
            check_memory(config, estimate_memory(config, on_cuda=False), host_free_bytes(), None)
        except ConfigError as error:
            self.screen.post_message(messages.PreviewRefused(key, error))
            return
        from linreg_tui.training.run_data import preview_for  # torch: loaded behind the form

        try:
            made = preview_for(config)
        except ConfigError as error:  # a file that cannot be used, found only by reading all of it
            self.screen.post_message(messages.PreviewRefused(key, error))
            return
        self.screen.post_message(messages.PreviewReady(key, made))

    def show_preview(self, message: messages.PreviewReady) -> None:
        # A thread cannot be interrupted: an older, slower preview may arrive after a newer one.
        if self.running() or message.key != self._previewed:
            return
        if message.preview is None:
            self.data.wait_for_run("the data is drawn when the run makes it (too large to make twice)")
        else:
            self.data.show(message.preview)

    def preview_refused(self, message: messages.PreviewRefused) -> None:
        # Typing "1e999" passes through "1e9", which is valid and previewed: by the time its refusal
        # comes, the form may hold other values, whose own message must stay.
        if message.key == self._previewed and message.key == self._form_data_key():
            self.form.show_errors(message.error.errors, focus=False)

    def _form_data_key(self) -> tuple[object, ...] | None:
        try:
            return data_key(parse_config(self.form.texts()))
        except ConfigError:
            return None
