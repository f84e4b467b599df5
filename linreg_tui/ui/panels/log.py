"""The log pane: the book's printed lines, and what else the user should know."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.widgets import RichLog

from linreg_tui.run.events import StepExplained
from linreg_tui.ui.widgets.fitting import FittedBorder

#: The log keeps the last this many lines (its border says how many older ones were dropped): a resize
#: wraps every kept line again, 2 s for 5,000 lines.
MAX_LINES = 1000
#: Rows of wrapped text RichLog keeps between resizes: room for the kept lines when a few are long
#: (1,000 weights written out wrap to hundreds of rows).
MAX_ROWS = 5 * MAX_LINES
STYLES = {"info": "", "book": "bold", "note": "dim", "warning": "yellow", "error": "bold red"}


class LogPane(RichLog):
    BORDER_TITLE = "Log"

    def __init__(self) -> None:
        super().__init__(id="log", classes="panel", wrap=True, min_width=20, max_lines=MAX_ROWS, markup=False)
        #: (line, kind), the last MAX_LINES: kept to wrap again when the width changes.
        self.entries: deque[tuple[str, str]] = deque(maxlen=MAX_LINES)
        self.dropped = 0
        self._wrapped_for = 0  # the width the written rows were wrapped for
        self._stale = False  # lines were said while hidden: written when the pane is shown
        self.fitted_border = FittedBorder(self)

    @property
    def lines_written(self) -> list[str]:
        return [line for line, _ in self.entries]

    def say(self, line: str, kind: str = "info") -> None:
        if len(self.entries) == MAX_LINES:
            self.dropped += 1
            dropped = f"{self.dropped:,} older dropped"
            self.fitted_border.set(subtitle=[(f"last {MAX_LINES:,} lines; {dropped}", dropped)])
        self.entries.append((line, kind))
        if self.scrollable_content_region.width == 0:
            # Hidden (a narrow layout's other tab, or another panel in its grid cell): RichLog would wrap
            # at min_width, and showing the pane again at its old width is no resize. Written when shown.
            self._stale = True
            return
        self.write(Text(line, style=STYLES[kind]))

    def on_resize(self, event: events.Resize) -> None:
        """RichLog wraps at write time; lines written at another width are wrapped again for the width
        the pane has now. A change of height alone wraps nothing again."""
        self.fitted_border.refit()
        width = event.size.width
        if width and (width != self._wrapped_for or self._stale):
            self._rewrap(width)

    def on_show(self) -> None:
        if self._stale and self.size.width:
            self._rewrap(self.size.width)

    def _rewrap(self, width: int) -> None:
        self._wrapped_for = width
        self._stale = False
        self.clear()
        if self.entries:  # one write: a write per line costs a scroll and a size update each
            self.write(Text("\n").join(Text(line, style=STYLES[kind]) for line, kind in self.entries))


def _numbers(values: Sequence[float]) -> str:
    return "[" + ", ".join(f"{value:.4g}" for value in values) + "]"


#: A step's log line names this many of its examples; the scatter marks every one it was given.
LOGGED_INDICES = 8


def explained_lines(
    event: StepExplained, impl: str, nominal_batch: int, num_features: int, optimizer: str = "sgd"
) -> list[str]:
    """One explained step, written as its engine computes it: scratch and fast with the book's
    `param -= lr * param.grad / batch_size` (the gradient of the minibatch's summed loss, divided by the
    nominal batch size, as d2l's sgd does), concise with net[0].weight.grad and trainer.step(). Another
    optimizer's step is the parameters' change, followed by its state after the step (v, s, delta)."""
    shown = ", ".join(str(index) for index in event.indices[:LOGGED_INDICES])
    more = ", …" if event.batch_size > LOGGED_INDICES else ""
    weights = "w" if len(event.grad_w) == num_features else f"w1–w{len(event.grad_w)} of {num_features}"
    lines = [
        f"step {event.step:,} · epoch {event.epoch} · minibatch of {event.batch_size}: examples [{shown}{more}]",
        f"  minibatch loss {event.loss:.6g} (before the update)",
    ]
    lr, grad_w, grad_b = event.lr, _numbers(event.grad_w), f"{event.grad_b:.4g}"
    if optimizer != "sgd":
        return lines + _optimizer_lines(event, impl, nominal_batch, weights, optimizer)
    if impl == "concise":
        lines += [
            f"  net[0].weight.grad = {grad_w} ({weights}) · net[0].bias.grad = {grad_b}",
            f"  trainer.step(): param -= lr * param.grad: {weights} -= {lr:g} * {grad_w} → "
            f"Δ {_numbers(event.update_w)}; b -= {lr:g} * {grad_b} → Δ {event.update_b:.4g}",
        ]
    else:
        lines += [
            f"  param.grad of l.sum(): {weights} {grad_w} · b {grad_b}",
            f"  param -= lr * param.grad / batch_size: {weights} -= {lr:g} * {grad_w} / {nominal_batch} → "
            f"Δ {_numbers(event.update_w)}; b -= {lr:g} * {grad_b} / {nominal_batch} → Δ {event.update_b:.4g}",
        ]
    return lines


def _optimizer_lines(event: StepExplained, impl: str, nominal_batch: int, weights: str, optimizer: str) -> list[str]:
    grad_w, grad_b = _numbers(event.grad_w), f"{event.grad_b:.4g}"
    at = "" if optimizer == "adadelta" else f" at lr {event.lr:g}"  # adadelta has no learning rate
    if impl == "concise":
        lines = [
            f"  net[0].weight.grad = {grad_w} ({weights}) · net[0].bias.grad = {grad_b}",
            f"  trainer.step() ({optimizer}{at}, the update in the note above): "
            f"Δ {weights} {_numbers(event.update_w)} · Δ b {event.update_b:.4g}",
        ]
    else:
        lines = [
            f"  param.grad of l.sum(): {weights} {grad_w} · b {grad_b}; g = param.grad / {nominal_batch}",
            f"  {optimizer}(params, states, hyperparams){at}: Δ {weights} {_numbers(event.update_w)} · "
            f"Δ b {event.update_b:.4g}",
        ]
    if event.state:
        said = "; ".join(f"{name} {weights} {_numbers(w)} · b {b:.4g}" for name, w, b in event.state)
        lines.append(f"  state after the step: {said}")
    return lines


def lr_change_line(old: float, new: float, step: int) -> str:
    """`lr 0.03 → 0.1 from step 412`."""
    return f"lr {old:g} → {new:g} from step {step:,}"
