"""The help screen: the keys, and what the two implementations compute (and why they differ)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Markdown

from linreg_tui.ui.panels.presets_picker import experiments_help

INTRODUCTION = """\
# linreg-tui

d2l's linear regression (chapters 3.2 and 3.3), trained live.
"""

#: After the keys, which are listed from the app's own bindings (so the help cannot miss one).
EXPLANATION = """\
## The two implementations, and why concise at η equals scratch at 2η

* **scratch** (3.2): `squared_loss` is ½(ŷ−y)² per example; `l.sum().backward()` sums it over the
  minibatch and `sgd` divides the gradient by the batch size. The losses shown are means of ½(ŷ−y)².
* **concise** (3.3): `nn.MSELoss` is the mean of (ŷ−y)², with **no ½**, and `torch.optim.SGD` steps
  with that gradient. Without the ½ the gradient is twice scratch's, so concise at learning rate η
  takes the steps of scratch at 2η, and its losses read twice as large for the same fit. Not quite
  when the batch size does not divide n: on the short last batch MSELoss takes the mean over the
  examples it has, while the book's `sgd` divides by the nominal batch size.
  Try it: run scratch at lr 0.06, then concise at 0.03, and compare them on the loss chart.
* **fast**: scratch's steps, computed together: every SGD step on a squared loss is an affine map of
  the parameters, and a whole epoch is their composition, which a parallel scan computes.
* **Weight decay** (`wd` λ): scratch and fast add the book's `lambd * l2_penalty(w)` (λ‖w‖²/2, b not
  penalised) to each example's loss; concise passes `weight_decay=λ` to `torch.optim.SGD` for the
  weight only. On MSELoss's doubled scale that is half the penalty: concise (η, λ) takes scratch's
  steps at (2η, λ/2). Fast keeps it in its affine maps. The losses shown leave the penalty out.
* **Other losses** (`loss`): huber (torch's `huber_loss` / `nn.HuberLoss`, ½(ŷ−y)² within δ) and
  absolute (|ŷ−y|, `nn.L1Loss`) on scratch and concise; the same numbers in both. Concise's
  `reduction` sum makes each step batch-size times the mean's. The landscape stays the squared loss's
  (without weight decay): its subtitle says so when the run minimises another loss.

## Step mode and a live learning rate

* `ctrl+t` takes one step and explains it in the log: the minibatch's examples (the first 8, and its
  size, marked × on the scatter when drawn), its loss, the gradient and the update, written the
  engine's way (scratch and fast: `param -= lr * param.grad / batch_size` with the numbers; concise:
  `net[0].weight.grad` and `trainer.step()`). From idle it starts a run paused before step 1; while
  paused, each press is one more step. `ctrl+p` pauses and goes on; `esc` stops a paused run at once.
* The learning rate stays editable while a run trains (the rest of the form is locked): Enter, or a
  pause in typing, hands the run the new rate at its next chunk of steps. The log says
  `lr 0.03 → 0.1 from step 412`, the loss chart marks the step with a line, and the result (and
  `--json`) records every change.

## Share and keep runs

* `ctrl+y` copies the last run's command line (`linreg-tui --headless ...`, which trains it again bit
  for bit) to the clipboard and shows it in the log; over SSH the terminal must allow OSC 52.
* `ctrl+s` saves the form as a TOML file (`linreg-tui --config FILE` reads it), `ctrl+f` opens one into
  the form (a bad key or value is refused in the log and the form stays as it was), `ctrl+e` saves the
  last run as JSON (the config, the command, every epoch's loss and parameters, every step's loss) and
  `f12` saves a screenshot as SVG. Each asks for a file name in the current directory; an existing
  file is replaced only after a second Enter (or Overwrite).
* `f10`, the run history: every run of the session with what changed from the run before, its status,
  final loss, largest |w error| and time. Enter, space or a click draws a run on the loss chart and
  the landscape, or hides it: the newest three are drawn until you choose, at most twelve. `ctrl+o`
  hides them all at once; they stay in the history.

## Conditioning: the theory beside the experiment

Every loss here is a quadratic in (w, b), so its shape is fixed by ZᵀZ/n with Z = [X, 1]. The log at
the start of a run and the results give its **condition number** (λmax/λmin: how long and narrow
the valleys are) and the **largest stable lr**, 2/λmax of the run's own loss (the ½-scaled loss of
scratch and fast: 2/λmax(ZᵀZ/n); concise's MSELoss: half of that). Full-batch gradient descent
converges below the bound and diverges above it; minibatch SGD is noisier and **can diverge below
it**. Before a run, as you change the form, the log gives an **estimate** of both from the scales
and ρ alone (the population's ZᵀZ/n, no data drawn; the run's own data differs by about 1/√n).
A form lr above the bound gets a warning, not a refusal. To see it: `--scales 1,10` (condition
number about 110) or `--corr 0.9` (about 18) stretch the valleys, and the path zig-zags across a
valley while it crawls along it. With `--scales 1,10` the bound is about 0.0184: at batch 1000 (= n)
and 1,000 epochs, lr 0.018 converges and lr 0.019 diverges.

## Where this differs from the book, and why

* The book's `sgd` divides by the batch size even for a short last batch; so does this app.
* Everything random comes from one seeded generator, in the same order for every engine: the data,
  the initial w ~ N(0, 0.01²) with b = 0, then one shuffle per epoch. The book uses Python's
  `random.shuffle` and an unseeded DataLoader; here runs are reproducible and the engines comparable.
* The concise DataLoader hands the dataset whole index batches instead of collating single samples:
  the same order and the same math, many times faster at large batches.
* The results show the **closed-form optimum** (least squares in float64): the lowest loss any
  training on this data can reach. With fewer examples than d + 1 it is one of many exact fits (the
  one of least norm), and training may reach another. The error column is true − learned, the sign
  the book prints.
* The scatter draws at most 2,000 points (the first ones; rows are independent); training uses all.
  It names a feature by its weight, as the results do: x₂ is w2's feature, the book's `features[:, 1]`
  (the book's code counts columns from 0). Its y axis covers the bulk of the labels; one far outside
  (the outlier preset's y₅ = 10000) is drawn at the edge with its value.
"""


class HelpScreen(ModalScreen[None]):
    """The keys of the screens below (their bindings' tooltips say what each does), then the math."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,q,question_mark", "dismiss", "Close help"),
    ]

    def __init__(self, keys: Iterable[BindingType]) -> None:
        super().__init__()
        self.keys = list(Binding.make_bindings(keys))

    def compose(self) -> ComposeResult:
        rows = [
            f"| {self.app.get_key_display(key)} | {key.tooltip or key.description} |"
            for key in self.keys
            if key.tooltip or key.description
        ]
        table = "\n".join(
            [
                "## Keys",
                "",
                "| key | does |",
                "|---|---|",
                *rows,
                "| tab / shift+tab | move between fields and panels |",
            ]
        )
        with VerticalScroll(id="help"):
            yield Markdown("\n".join([INTRODUCTION, table, "", EXPLANATION, experiments_help()]))
        yield Footer()  # so the keys shown are this screen's: esc closes the help here
