"""The run configuration: one table of fields, from which the command line, the form, parsing,
validation and the JSON are all derived; and the memory estimate.

Each field of `RunConfig` carries its `Field` description in the dataclass field's metadata: its
default, flag, labels, help text and parser sit in one entry, so adding a field is adding one entry.
The field's name is its JSON name. Pure Python on purpose: `linreg-tui --help`, bad flags and the
form's on-the-spot checks must not wait for torch to import. Text is parsed, never evaluated.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from linreg_tui.run.optimizers import (
    BOOK_EPS,
    OPTIMIZERS,
    SCHEDULES,
    check_training,
    training_applies,
    why_not,
)
from linreg_tui.run.parsing import (
    Choice,
    DeviceName,
    Numbers,
    Parser,
    Real,
    Refused,
    Whole,
    format_number,
    show_numbers,
)
from linreg_tui.run.sources import (
    BUILT_IN,
    HEADERS,
    MAX_DEGREE,
    ONLY_FOR,
    STANDARDIZE,
    SYNTHETIC,
    TABLE_COLUMNS,
    ColumnChoice,
    Kind,
    SourceName,
    applies,
    defaults_for,
    file_layout,
    file_problem,
    file_rows,
    kind_of,
    layout_field,
    poly_feature_names,
    poly_truth,
)
from linreg_tui.run.table_errors import TableError
from linreg_tui.run.table_layout import Layout

IMPLS: tuple[str, ...] = ("scratch", "concise", "fast")
#: squared: the book's ½(ŷ−y)² (scratch, fast) or nn.MSELoss (concise); huber and absolute are the book's
#: 3.3 exercise on an outlier (torch's huber_loss / nn.HuberLoss, |ŷ−y| / nn.L1Loss).
LOSSES: tuple[str, ...] = ("squared", "huber", "absolute")
#: How concise's loss reduces a minibatch (nn.MSELoss(reduction=...)); scratch always sums.
REDUCTIONS: tuple[str, ...] = ("mean", "sum")
#: The book's y₅ (zero-based 4): the training label that `outlier` replaces.
OUTLIER_INDEX = 4

# Bounds that keep float32 arithmetic meaningful; past them the book's experiment stops being one.
MAX_ABS_PARAM = 1e6
#: The closed-form optimum solves a (d+1)² system: 0.4 s at d = 1,000 on a laptop, minutes at 10,000.
MAX_FEATURES = 1_000
MAX_EXAMPLES = 1_000_000_000
MAX_EPOCHS = 100_000
MAX_LR = 1e6
MAX_SEED = 2**63 - 1
MAX_WEIGHT_DECAY = 1e6
#: A schedule's step counts, at most (a run's steps are at most examples × epochs, but a schedule
#: longer than any run is a typo).
MAX_STEPS = 10**12
MAX_MILESTONES = 100


@dataclass(frozen=True)
class Field:
    """Everything the command line, the form, the messages and the JSON know about one field."""

    label: str  #: in messages: "learning rate: '0' is out of range"
    short: str  #: the form's label, a word or two
    flag: str  #: the command-line flag
    help: str  #: what it means, for --help and the form's tooltip
    parse: Parser  #: text → value; raises Refused with what is allowed
    show: Callable[[Any], str] = str  #: value → the text that parses back to it
    metavar: str = "X"
    #: The form offers these values in a select instead of a text field (None: typed).
    choices: tuple[str, ...] | None = None
    name: str = ""  #: the attribute and JSON name, set from the dataclass below
    default: Any = None

    def read(self, text: str) -> Any:
        """The field's value for `text`. Raises ConfigError naming the field, the text and what is allowed."""
        try:
            return self.parse(text)
        except Refused as refused:
            raise ConfigError([FieldError(self.name, text, refused.reason)]) from None

    def help_text(self) -> str:
        """The line of `--help`: what it is, what is allowed, the default."""
        return f"{self.help}; allowed: {self.parse.allowed} (default: {self.show(self.default)})"


def _entry(default: Any, **description: Any) -> Any:
    return dataclasses.field(default=default, metadata={"field": Field(**description)})


@dataclass(frozen=True)
class RunConfig:
    """One training run; the table of its fields, in the order of the form. The defaults are the book's
    (d2l 3.2 / 3.3)."""

    data: str = _entry(
        SYNTHETIC,
        label="data",
        short="data",
        flag="--data",
        metavar="SOURCE",
        help="where the data comes from: synthetic (the book's synthetic_data, 3.2), airfoil (NASA's airfoil "
        "noise measurements, the book's optimization chapter), longley (Longley's 1967 table, nearly "
        "collinear), poly (the book's 4.4 polynomial), or a path to your CSV or TSV file",
        parse=SourceName(),
    )
    degree: int = _entry(
        3,
        label="degree",
        short="degree",
        flag="--degree",
        metavar="K",
        help="poly: the polynomial's degree, features x^i/i! for i = 1 … K (the book: 3 fits, 1 underfits, "
        "19 overfits)",
        parse=Whole(1, MAX_DEGREE),
    )
    standardize: str = _entry(
        "none",
        label="standardize",
        short="z-score",  # what standardizing makes of a column; "standardize" is wider than the form's labels
        flag="--standardize",
        metavar="WHAT",
        help="scale columns to mean 0 and standard deviation 1 before training: features, or all (the label "
        "too, as the book does for airfoil); statistics from the training rows",
        parse=Choice(STANDARDIZE, what="what to standardize"),
        choices=STANDARDIZE,
    )
    target: str = _entry(
        "",
        label="target column",
        short="target",
        flag="--target",
        metavar="COLUMN",
        help="a file's label column, by name or number",
        parse=ColumnChoice(several=False),
    )
    features: str = _entry(
        "",
        label="feature columns",
        short="features",
        flag="--features",
        metavar="A,B,...",
        help="a file's feature columns, by name or number",
        parse=ColumnChoice(several=True),
    )
    header: str = _entry(
        "auto",
        label="header row",
        short="header",
        flag="--header",
        metavar="HOW",
        help="a file's first row: auto (names when it is not all numbers) or none (every row is data; the "
        "columns are c1, c2, …; --no-header says the same)",
        parse=Choice(HEADERS, what="a header rule"),
        choices=HEADERS,
    )
    true_w: tuple[float, ...] = _entry(
        (2.0, -3.4),
        label="true w",
        short="w",
        flag="--w",
        metavar="W1,W2,...",
        help="true weights of the synthetic data, comma-separated: one per feature",
        parse=Numbers(Real(-MAX_ABS_PARAM, MAX_ABS_PARAM), MAX_FEATURES, example="2, -3.4", unit="features"),
        show=show_numbers,
    )
    true_b: float = _entry(
        4.2,
        label="true b",
        short="b",
        flag="--b",
        help="true bias of the synthetic data",
        parse=Real(-MAX_ABS_PARAM, MAX_ABS_PARAM),
        show=format_number,
    )
    num_examples: int = _entry(
        1000,
        label="examples",
        short="examples",
        flag="--num-examples",
        metavar="N",
        help="number of examples n (1e6 works)",
        parse=Whole(1, MAX_EXAMPLES),
    )
    noise: float = _entry(
        0.01,
        label="noise",
        short="noise",
        flag="--noise",
        help="standard deviation of the Gaussian noise added to each label",
        parse=Real(0.0, MAX_ABS_PARAM),
        show=format_number,
    )
    scales: tuple[float, ...] = _entry(
        (1.0,),
        label="feature scales",
        short="scales",
        flag="--scales",
        metavar="S1,S2,...",
        help="standard deviation of each feature, comma-separated (one value: every feature); "
        "unequal scales stretch the loss surface into long valleys",
        parse=Numbers(Real(0.0, MAX_ABS_PARAM, low_open=True), MAX_FEATURES, example="1, 10", unit="scales"),
        show=show_numbers,
    )
    corr: float = _entry(
        0.0,
        label="feature correlation",
        short="corr",
        flag="--corr",
        metavar="RHO",
        help="correlation ρ between every pair of features (the book's data: 0)",
        parse=Real(-1.0, 1.0, low_open=True, high_open=True),
        show=format_number,
    )
    val: int = _entry(
        0,
        label="validation examples",
        short="val",
        flag="--val",
        metavar="N",
        help="held-out validation examples drawn from the same distribution after the training data; "
        "their loss is reported each epoch (the book's evaluate_loss); 0 = none",
        parse=Whole(0, MAX_EXAMPLES),
    )
    outlier: float = _entry(
        0.0,
        label="outlier label",
        short="outlier",
        flag="--outlier",
        metavar="Y",
        help=f"set training label y[{OUTLIER_INDEX}] (the book's y5) to this value, e.g. 10000, to see how each loss "
        "is dragged by one bad point; 0 = no outlier",
        parse=Real(-MAX_ABS_PARAM, MAX_ABS_PARAM),
        show=format_number,
    )
    batch_size: int = _entry(
        10,
        label="batch size",
        short="batch",
        flag="--batch-size",
        metavar="B",
        help="minibatch size B: examples per SGD step",
        parse=Whole(1, MAX_EXAMPLES),
    )
    lr: float = _entry(
        0.03,
        label="learning rate",
        short="lr",
        flag="--lr",
        metavar="LR",
        help="learning rate η of the SGD step",
        parse=Real(0.0, MAX_LR, low_open=True),
        show=format_number,
    )
    optimizer: str = _entry(
        "sgd",
        label="optimizer",
        short="optimizer",
        flag="--optimizer",
        metavar="NAME",
        help="the update rule, from the book's optimization chapter: sgd (3.2's), momentum, adagrad, rmsprop, "
        "adadelta (no learning rate), adam, yogi (scratch only: torch has none); fast has sgd and momentum",
        parse=Choice(OPTIMIZERS, what="an optimizer"),
        choices=OPTIMIZERS,
    )
    momentum: float = _entry(
        0.9,
        label="momentum β",
        short="β",
        flag="--momentum",
        metavar="BETA",
        help="momentum: v ← βv + g, p ← p − ηv (the book's sgd_momentum); 0 is plain sgd",
        parse=Real(0.0, 1.0, high_open=True),
        show=format_number,
    )
    gamma: float = _entry(
        0.9,
        label="RMSProp γ",
        short="γ",
        flag="--gamma",
        metavar="GAMMA",
        help="rmsprop: s ← γs + (1 − γ)g², the leak of its average of squared gradients",
        parse=Real(0.0, 1.0, high_open=True),
        show=format_number,
    )
    rho: float = _entry(
        0.9,
        label="Adadelta ρ",
        short="ρ",
        flag="--rho",
        metavar="RHO",
        help="adadelta: s ← ρs + (1 − ρ)g² and Δ ← ρΔ + (1 − ρ)g′², the leak of both averages",
        parse=Real(0.0, 1.0, high_open=True),
        show=format_number,
    )
    beta1: float = _entry(
        0.9,
        label="Adam β1",
        short="β1",
        flag="--beta1",
        metavar="BETA1",
        help="adam and yogi: v ← β1·v + (1 − β1)g, the average of the gradients",
        parse=Real(0.0, 1.0, high_open=True),
        show=format_number,
    )
    beta2: float = _entry(
        0.999,
        label="Adam β2",
        short="β2",
        flag="--beta2",
        metavar="BETA2",
        help="adam: s ← β2·s + (1 − β2)g²; yogi: s ← s + (1 − β2)·sign(g² − s)·g²",
        parse=Real(0.0, 1.0, low_open=True, high_open=True),
        show=format_number,
    )
    eps: float = _entry(
        1e-6,
        label="epsilon",
        short="ε",
        flag="--eps",
        metavar="EPS",
        help="the adaptive optimizers' ε, which keeps a division by a root from blowing up; each optimizer "
        "starts from the book's (adagrad, rmsprop, adam 1e-6, adadelta 1e-5, yogi 1e-3)",
        parse=Real(0.0, 1.0, low_open=True),
        show=format_number,
    )
    schedule: str = _entry(
        "constant",
        label="lr schedule",
        short="schedule",
        flag="--schedule",
        metavar="NAME",
        help="the learning rate over the run's steps (the book's 12.11, counted in steps): constant, factor "
        "(× decay factor every N steps, down to lr min), multistep (× decay factor after each milestone), "
        "cosine (to lr min, after a linear warm-up), sqrt (lr/√t)",
        parse=Choice(SCHEDULES, what="a schedule"),
        choices=SCHEDULES,
    )
    decay_factor: float = _entry(
        0.5,
        label="decay factor",
        short="factor",
        flag="--decay-factor",
        metavar="F",
        help="factor and multistep schedules: what the learning rate is multiplied by at each decay",
        parse=Real(0.0, 1.0, low_open=True),
        show=format_number,
    )
    decay_every: int = _entry(
        100,
        label="decay every",
        short="every",
        flag="--decay-every",
        metavar="STEPS",
        help="factor schedule: steps between decays",
        parse=Whole(1, MAX_STEPS),
    )
    milestones: tuple[int, ...] = _entry(
        (100, 200),
        label="milestones",
        short="milestones",
        flag="--milestones",
        metavar="S1,S2,...",
        help="multistep schedule: the steps after which the learning rate is multiplied by the decay factor, "
        "increasing",
        parse=Numbers(Whole(1, MAX_STEPS), MAX_MILESTONES, example="100, 200", unit="milestones"),
        show=show_numbers,
    )
    lr_min: float = _entry(
        0.0,
        label="lr min",
        short="lr min",
        flag="--lr-min",
        metavar="LR",
        help="factor schedule: the floor of the learning rate; cosine: where it ends",
        parse=Real(0.0, MAX_LR),
        show=format_number,
    )
    warmup: int = _entry(
        0,
        label="warm-up steps",
        short="warmup",
        flag="--warmup",
        metavar="STEPS",
        help="cosine schedule: steps of linear warm-up from 0 to the learning rate",
        parse=Whole(0, MAX_STEPS),
    )
    epochs: int = _entry(
        3,
        label="epochs",
        short="epochs",
        flag="--epochs",
        metavar="E",
        help="number of passes over the data",
        parse=Whole(1, MAX_EPOCHS),
    )
    impl: str = _entry(
        "scratch",
        label="implementation",
        short="impl",
        flag="--impl",
        metavar="NAME",
        help="scratch = d2l 3.2, concise = d2l 3.3, fast = scratch's SGD as a parallel scan",
        parse=Choice(IMPLS, what="an implementation"),
        choices=IMPLS,
    )
    loss: str = _entry(
        "squared",
        label="loss",
        short="loss",
        flag="--loss",
        metavar="NAME",
        help="squared = the book's (scratch ½(ŷ−y)², concise nn.MSELoss), huber = quadratic within "
        "--huber-delta and linear beyond (torch huber_loss, ½-scale), absolute = |ŷ−y| (nn.L1Loss); "
        "fast: squared only",
        parse=Choice(LOSSES, what="a loss"),
        choices=LOSSES,
    )
    huber_delta: float = _entry(
        1.0,
        label="Huber delta",
        short="huber δ",
        flag="--huber-delta",
        metavar="DELTA",
        help="with --loss huber: residuals beyond δ count linearly, not squared",
        parse=Real(0.0, MAX_ABS_PARAM, low_open=True),
        show=format_number,
    )
    reduction: str = _entry(
        "mean",
        label="reduction",
        short="reduction",
        flag="--reduction",
        metavar="HOW",
        help="concise only: nn.MSELoss(reduction=...) over a minibatch; sum makes each step batch-size times "
        "larger (lr / batch size gives mean's steps); losses are shown as means either way",
        parse=Choice(REDUCTIONS, what="a reduction"),
        choices=REDUCTIONS,
    )
    wd: float = _entry(
        0.0,
        label="weight decay",
        short="wd",
        flag="--wd",
        metavar="LAMBDA",
        help="weight decay λ, the book's L2 penalty on w (not b): scratch and fast add λ·‖w‖²/2 to each "
        "example's loss, concise passes weight_decay=λ to torch.optim.SGD for the weight",
        parse=Real(0.0, MAX_WEIGHT_DECAY),
        show=format_number,
    )
    init_std: float = _entry(
        0.01,
        label="initial weight std",
        short="init std",
        flag="--init-std",
        metavar="SIGMA",
        help="initial weights drawn from N(0, σ²) (the book: 0.01; 0 = zero init); the bias starts at 0",
        parse=Real(0.0, MAX_ABS_PARAM),
        show=format_number,
    )
    device: str = _entry(
        "cpu",
        label="device",
        short="device",
        flag="--device",
        metavar="DEV",
        help="where to train",
        parse=DeviceName(),
    )
    seed: int = _entry(
        0,
        label="seed",
        short="seed",
        flag="--seed",
        metavar="S",
        help="seed of the run's one random generator: data, initial weights, minibatch order",
        parse=Whole(0, MAX_SEED),
    )

    @property
    def kind(self) -> Kind:
        return kind_of(self.data)

    @property
    def truth(self) -> tuple[tuple[float, ...], float] | None:
        """The true w and b the data was made from (synthetic's, poly's); None for a table or a file."""
        if self.kind == "synthetic":
            return self.true_w, self.true_b
        if self.kind == "poly":
            return poly_truth(self.degree)
        return None

    @property
    def layout(self) -> Layout | None:
        """A file's layout and columns (from its first lines; raises TableError); None for other sources."""
        return file_layout(self.data, self.header, self.target, self.features) if self.kind == "file" else None

    @property
    def feature_names(self) -> tuple[str, ...]:
        """The features' names: the file's, the table's, or x1, x2, … (poly: x, x^2/2, …)."""
        if self.kind == "table":
            return TABLE_COLUMNS[self.data][0]
        if self.kind == "poly":
            return poly_feature_names(self.degree)
        if (layout := self.layout) is not None:
            return layout.feature_names
        return tuple(f"x{i + 1}" for i in range(len(self.true_w)))

    @property
    def target_name(self) -> str:
        if self.kind == "table":
            return TABLE_COLUMNS[self.data][1]
        if (layout := self.layout) is not None:
            return layout.target_name
        return "y"

    @property
    def num_features(self) -> int:
        if self.kind == "synthetic":
            return len(self.true_w)
        return self.degree if self.kind == "poly" else len(self.feature_names)

    @property
    def feature_scales(self) -> tuple[float, ...]:
        """One standard deviation per feature (a single value applies to every feature)."""
        return self.scales * self.num_features if len(self.scales) == 1 else self.scales

    @property
    def minimises_squared_loss(self) -> bool:
        """Whether the run minimises the plain squared loss, whose optimum is the closed-form least squares
        and whose surface the landscape draws (not with huber or absolute loss, or weight decay)."""
        return self.loss == "squared" and self.wd == 0

    @property
    def training_examples(self) -> int:
        """The rows training steps through: a file's validation rows are held out of its examples;
        every other source draws its validation examples besides them."""
        return self.num_examples - self.val if self.kind == "file" else self.num_examples

    @property
    def steps_per_epoch(self) -> int:
        return math.ceil(self.training_examples / self.batch_size)

    @property
    def total_steps(self) -> int:
        return self.steps_per_epoch * self.epochs

    @property
    def fields(self) -> list[Field]:
        """The fields that mean something for this run's data, in the table's order."""
        return [field for field in FIELDS.values() if self.applies(field.name)]

    def applies(self, name: str) -> bool:
        """Whether field `name` means something for this run: its data, its optimizer and its schedule."""
        return applies(name, self.data) and training_applies(name, self.optimizer, self.schedule)

    def as_dict(self) -> dict[str, object]:
        """The configuration by JSON name (the fields that apply to its data)."""
        return {field.name: _jsonable(getattr(self, field.name)) for field in self.fields}

    def as_texts(self) -> dict[str, str]:
        """The configuration as the form shows it (and as `parse_config` reads it back)."""
        return {field.name: field.show(getattr(self, field.name)) for field in self.fields}


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


#: The table: every field of a run by name (also its JSON name), in the order of the form.
FIELDS: dict[str, Field] = {
    spec.name: dataclasses.replace(spec.metadata["field"], name=spec.name, default=spec.default)
    for spec in dataclasses.fields(RunConfig)
}


@dataclass(frozen=True)
class FieldError:
    """One refused field: which one, the text that was given, and what is allowed."""

    field: str
    value: str
    reason: str

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 40 else self.value[:37] + "..."
        label = FIELDS[self.field].label if self.field in FIELDS else self.field
        return f"{label}: {shown!r} {self.reason}"


class ConfigError(ValueError):
    """Raised with every field error found, so the form can mark all of them at once."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def parse_field(name: str, text: str) -> object:
    """One field on its own (the form checks each as it is typed). Raises ConfigError."""
    return FIELDS[name].read(text)


def parse_config(texts: Mapping[str, str], base: RunConfig | None = None) -> RunConfig:
    """Build a RunConfig from field texts (missing fields keep `base`'s values).

    Raises ConfigError listing every bad field, each with the value given and what is allowed.
    """
    values: dict[str, object] = {}
    errors: list[FieldError] = []
    for name, field in FIELDS.items():
        if name not in texts:
            continue
        try:
            values[name] = field.read(texts[name])
        except ConfigError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ConfigError(errors)
    start = base or RunConfig()
    source = str(values.get("data", start.data))
    if source != start.data:  # a source of its own: its defaults, under what was given
        values = {**defaults_for(source), **values}
    optimizer = str(values.get("optimizer", start.optimizer))
    if optimizer != start.optimizer and "eps" not in values and optimizer in BOOK_EPS:
        values["eps"] = BOOK_EPS[optimizer]  # each optimizer starts from the book's ε
    schedule = str(values.get("schedule", start.schedule))
    refuse_what_does_not_apply(source, texts)
    refuse_what_does_not_train(optimizer, schedule, texts)
    if kind_of(source) == "file" and "num_examples" not in texts:  # a file's run takes all its rows
        with contextlib.suppress(TableError, OSError):  # validate() says what is wrong with the file
            values["num_examples"] = file_rows(source, str(values.get("header", start.header)))
    config = dataclasses.replace(start, **values)
    validate(config, raw=texts)
    return config


def refuse_what_does_not_apply(source: str, texts: Mapping[str, str]) -> None:
    """A field given for data it means nothing to (true w for a file, the degree for airfoil) is refused,
    naming it: it would otherwise be silently ignored."""
    errors = [
        FieldError(name, text, f"does not apply to data from {describe(source)}; {what_applies(name)}")
        for name, text in texts.items()
        if name in FIELDS and not applies(name, source)
    ]
    if errors:
        raise ConfigError(errors)


def refuse_what_does_not_train(optimizer: str, schedule: str, texts: Mapping[str, str]) -> None:
    """An optimizer's constant given for another optimizer (--momentum with adam), a schedule's setting
    without that schedule, the learning rate for adadelta: refused, naming it."""
    errors = [
        FieldError(name, text, why_not(name, optimizer, schedule))
        for name, text in texts.items()
        if name in FIELDS and not training_applies(name, optimizer, schedule)
    ]
    if errors:
        raise ConfigError(errors)


def describe(source: str) -> str:
    return source if source in BUILT_IN else f"a file ({source})"


def what_applies(name: str) -> str:
    kinds = {"synthetic": "synthetic", "table": "airfoil or longley", "poly": "poly", "file": "a file"}
    return "allowed with data " + " or ".join(kinds[kind] for kind in ONLY_FOR[name])


def validate(config: RunConfig, raw: Mapping[str, str] | None = None) -> None:
    """Checks that need several fields at once; raises ConfigError with every one that fails."""
    raw = raw or {}
    errors: list[FieldError] = []

    def refuse(name: str, reason: str) -> None:
        errors.append(FieldError(name, raw.get(name, FIELDS[name].show(getattr(config, name))), reason))

    if config.kind == "file" and not check_file_rows(config, refuse):
        raise ConfigError(errors)
    d = config.num_features
    # concise's DataLoader hands a batch size beyond n the whole set as one minibatch (full-batch gradient
    # descent: the data-size preset's sweep over n); scratch's sgd would divide by the nominal size.
    if config.batch_size > config.training_examples and config.impl != "concise":
        refuse(
            "batch_size",
            f"is larger than the number of {'training ' if config.training_examples < config.num_examples else ''}"
            f"examples; allowed 1 to {config.training_examples:,} "
            "(with impl concise any size: the whole set is then one minibatch)",
        )
    if len(config.scales) not in (1, d):
        refuse("scales", f"has {len(config.scales):,} values for {d:,} features; give one (for every feature) or {d:,}")
    if d > 1 and config.corr <= -1 / (d - 1):
        # The correlation matrix (1 − ρ)I + ρ11ᵀ has eigenvalues 1 − ρ and 1 + (d − 1)ρ.
        refuse(
            "corr",
            f"is too negative for {d:,} features: the same correlation between every pair must be greater "
            f"than −1/(d − 1) = {-1 / (d - 1):.4g}, or no data can have it",
        )
    if config.num_examples + config.val > MAX_EXAMPLES:
        refuse(
            "val",
            f"makes {config.num_examples + config.val:,} examples in all; allowed: at most {MAX_EXAMPLES:,} "
            "training and validation examples together",
        )
    if config.outlier != 0 and config.num_examples <= OUTLIER_INDEX:
        refuse(
            "outlier",
            f"replaces training label y[{OUTLIER_INDEX}], which {config.num_examples:,} examples "
            f"do not have; use at least {OUTLIER_INDEX + 1} examples or outlier 0",
        )
    if config.reduction != "mean" and config.impl != "concise":
        refuse(
            "reduction",
            f"is concise's nn.MSELoss option; {config.impl}'s loss is summed over the minibatch "
            "and its sgd divides by the batch size; allowed: mean with scratch or fast, mean or sum with concise",
        )
    if config.impl == "fast" and config.loss != "squared":
        refuse(
            "loss",
            "is not available with impl fast: its scan composes the squared loss's affine SGD maps, "
            "which other losses do not have; allowed with fast: squared (use scratch or concise)",
        )
    check_training(config, refuse)
    if config.kind == "file" and any(error.field in ROW_FIELDS for error in errors):
        # Whether these fit depends on the file's rows: a file that cannot be loaded at all says so first.
        # ValueError: a cell the scan cannot parse that its checks let through; the load will say it.
        with contextlib.suppress(TableError, OSError, ValueError):
            if problem := file_problem(config.data, config.header):
                errors = [FieldError("data", raw.get("data", config.data), f"cannot be used: {problem}")]
    if errors:
        raise ConfigError(errors)


#: Fields whose refusal depends on how many rows a file has.
ROW_FIELDS = ("num_examples", "val", "batch_size", "outlier")


def check_file_rows(config: RunConfig, refuse: Callable[[str, str], None]) -> bool:
    """A file that cannot be read (False: nothing else can be checked), and the fields that ask it for
    more rows than it has."""
    try:
        config.layout  # noqa: B018 - read: a file that cannot be used is refused here, naming the field
        rows = file_rows(config.data, config.header)
        problem = file_problem(config.data, config.header) if rows == 0 else ""
    except (TableError, OSError) as error:
        refuse(layout_field(error) if isinstance(error, TableError) else "data", f"cannot be used: {error}")
        return False
    name = os.path.basename(config.data) or config.data
    if rows == 0:
        refuse("data", f"cannot be used: {problem or f'{config.data} has a header row but no rows of data'}")
        return False
    if config.num_examples > rows:
        refuse("num_examples", f"is more than the {rows:,} rows of {name}; allowed: 1 to {rows:,}")
    elif config.val >= config.num_examples:
        refuse(
            "val",
            f"would leave no training rows: a file's validation rows are held out of its {config.num_examples:,} "
            f"examples; allowed: 0 to {config.num_examples - 1:,}",
        )
    return True
