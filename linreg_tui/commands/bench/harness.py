"""The benchmark's measuring: its options, a timing and a table line, the stopwatches (a window of
steady-state steps between two points where the device has finished; whole epochs for `fast`), and the
paired rounds that make each line's median and speed-up."""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from linreg_tui.run.config import ConfigError, RunConfig
from linreg_tui.run.events import StepLosses, TrainingEvent
from linreg_tui.training.data import make_dataset, make_generator
from linreg_tui.training.loop import train


@dataclass(frozen=True)
class Options:
    devices: tuple[str, ...]
    sizes: tuple[tuple[int, int], ...]  # (examples, batch size)
    budget_s: float  # how long a loop is timed, after its warm-up
    warmup_steps: int
    max_steps: int  # a loop is timed over at most this many steps
    fast_min_steps: int  # the fast engine runs whole epochs, at least this many steps in all
    rounds: int  # every case is measured this many times, the cases taking turns; the table shows the median


#: How many times each line is measured by default: the median of five outlasts two slow rounds.
ROUNDS = 5
FULL_SIZES = ((1_000, 10), (1_000_000, 10), (1_000_000, 1_000))
QUICK_SIZES = ((1_000, 10), (2_000, 100))


@dataclass(frozen=True)
class Timing:
    us_per_step: float
    steps: int  # how many steps the time is over
    epochs: int | None = None  # whole epochs timed (train_seconds / steps), or None for a window of steps

    def describe(self) -> str:
        if self.epochs is None:
            return f"{self.steps:,} steps"
        return f"{self.epochs} epoch{'s' if self.epochs > 1 else ''}, {self.steps:,} steps"


@dataclass(frozen=True)
class Case:
    """One line of the table: what is timed, how, and which line of the same size it is compared with."""

    section: str
    device: str
    examples: int
    batch_size: int
    name: str
    baseline: str | None
    measure: Callable[[], Timing]


@dataclass(frozen=True)
class Row:
    case: Case
    timing: Timing | None  # None: the case failed in every round
    speedup: float | None  # the median of the rounds' baseline µs per step over this line's: above 1 is faster
    error: str = ""  # why the case could not be timed
    #: The lowest and highest of the rounds' ratios (how much the machine moved), or None.
    speedup_range: tuple[float, float] | None = None


# --- stopwatches ----------------------------------------------------------------------------------------


class Window:
    """Times the steps after a warm-up for about `budget_s`, between points where the device is idle.

    When an epoch is long enough to be timed on its own, the window stays inside the first epoch: the
    per-epoch work (the book's `random.shuffle` of a 1M-element list takes most of a second here) then
    weighs on neither side. Shorter epochs are crossed many times, by the book's loops and ours alike.
    """

    def __init__(self, options: Options, config: RunConfig) -> None:
        self.options = options
        self.device = torch.device(config.device)
        first_epoch = config.steps_per_epoch
        self.stop_at = first_epoch if first_epoch >= 10 * options.warmup_steps else math.inf
        self.start: tuple[float, int] | None = None
        self.end: tuple[float, int] | None = None

    def mark(self, steps: int, synced: bool) -> bool:
        """Called with the steps done so far; True once the budget is spent."""
        if self.start is None:
            if steps >= self.options.warmup_steps:
                self._sync(synced)
                self.start = (time.perf_counter(), steps)
            return False
        now = time.perf_counter()
        spent = now - self.start[0] >= self.options.budget_s or steps - self.start[1] >= self.options.max_steps
        if not spent and steps < self.stop_at:
            if synced:
                self.end = (now, steps)
            return False
        self._sync(synced)
        self.end = (time.perf_counter(), steps)
        return True

    def timing(self) -> Timing:
        if self.start is None or self.end is None or self.end[1] <= self.start[1]:
            raise RuntimeError("the run ended before the benchmark could time it; give it more steps")
        seconds, steps = self.end[0] - self.start[0], self.end[1] - self.start[1]
        return Timing(seconds / steps * 1e6, steps)

    def _sync(self, synced: bool) -> None:
        if not synced and self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


def time_book(loop: Callable, config: RunConfig, options: Options) -> Timing:
    """The book's loop on the same data as our engines (same seed), on the run's device."""
    device = torch.device(config.device)
    dataset = make_dataset(config, make_generator(config.seed)).to(device)
    torch.manual_seed(config.seed)  # the book draws w and its shuffles from the global generators
    random.seed(config.seed)
    window = Window(options, config)
    steps = 0

    def tick() -> bool:
        nonlocal steps
        steps += 1
        return window.mark(steps, synced=False)

    loop(dataset.features, dataset.labels, config.batch_size, config.lr, tick)
    return window.timing()


def time_loop_engine(config: RunConfig, options: Options) -> Timing:
    """Through train(): the window runs between StepLosses events (each comes after the loop has read
    the chunk's losses back, so the device is done), then the run is cancelled as a user would."""
    window = Window(options, config)
    cancel = threading.Event()

    def on_event(event: TrainingEvent) -> None:
        if isinstance(event, StepLosses) and window.mark(event.first_step + len(event.losses) - 1, synced=True):
            cancel.set()

    train(config, on_event, cancel)
    return window.timing()


def time_whole_epochs(config: RunConfig) -> Timing:
    result = train(config)
    if result.status != "finished":
        raise RuntimeError(f"the {config.impl} run did not finish: {result.message}")
    return Timing(result.train_seconds / result.steps * 1e6, result.steps, epochs=config.epochs)


# --- running and printing -------------------------------------------------------------------------------


def run_cases(cases: Sequence[Case], rounds: int, progress: Callable[[str], None]) -> list[Row]:
    """Measure every case `rounds` times, all cases in turn each round, every other round in reverse
    order. A line shows its median round, and its speed-up is the median of the rounds' own ratios.

    Why paired: on a shared machine a slow spell lasts tens of seconds (the same run here takes from
    5.2 to 7.4 s, CPU time alike), longer than a line and its baseline take back to back, so within a
    round it mostly falls on both; the reversed rounds keep a machine that speeds up or slows down over
    the run from favouring the one timed first. Comparing each line's fastest round instead compares
    two lotteries: which of them happened to meet the machine's one quiet moment. A case that raises
    is said in the progress and its round left out; a case that fails every round is a failed line.
    """
    measured: list[list[Timing | None]] = [[] for _ in cases]  # per case, one per round (None: failed)
    errors: list[str] = [""] * len(cases)
    for round_ in range(1, rounds + 1):
        order = range(len(cases)) if round_ % 2 else reversed(range(len(cases)))
        for index in order:
            case = cases[index]
            label = f"[{index + 1}/{len(cases)}] {case.device} · n={case.examples:,} · batch {case.batch_size}"
            label = (f"round {round_}/{rounds} " if rounds > 1 else "") + f"{label} · {case.name}"
            started = time.perf_counter()
            try:
                timing = case.measure()
            except (RuntimeError, ConfigError) as exc:
                errors[index] = str(exc)
                measured[index].append(None)
                progress(f"{label}: failed: {exc}")
                continue
            measured[index].append(timing)
            progress(
                f"{label}: {timing.us_per_step:,.1f} µs/step over {timing.describe()} "
                f"({time.perf_counter() - started:.1f} s)"
            )

    def key(case: Case, name: str) -> tuple[str, str, int, int, str]:
        return (case.section, case.device, case.examples, case.batch_size, name)

    index_of = {key(case, case.name): index for index, case in enumerate(cases)}
    rows = []
    for case, rounds_of_case, error in zip(cases, measured, errors, strict=True):
        timings = sorted((t for t in rounds_of_case if t is not None), key=lambda t: t.us_per_step)
        timing = timings[(len(timings) - 1) // 2] if timings else None  # the median (the lower of two)
        baseline = index_of.get(key(case, case.baseline)) if case.baseline else None
        pairs = zip(measured[baseline], rounds_of_case, strict=True) if baseline is not None else ()
        ratios = [base.us_per_step / line.us_per_step for base, line in pairs if base and line]
        speedup, spread = (statistics.median(ratios), (min(ratios), max(ratios))) if ratios else (None, None)
        rows.append(Row(case, timing, speedup, "" if timing else error, spread))
    return rows
