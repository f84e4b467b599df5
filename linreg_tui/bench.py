"""`linreg-tui bench`: how fast the engines are on this machine, against the book's loops written plainly.

Every line of the table is measured in this one run, on each device asked for. Our engines are timed
through the real training loop (`training.loop.train`), so its events, instrumentation and cancellation
checks are inside the numbers; the baselines are d2l 3.2's and 3.3's code as the book prints it.

How each line is timed, to keep the whole benchmark to about three minutes (five rounds):
- the book's loops and our `scratch` and `concise` engines: steady-state steps after a warm-up, for
  about `--budget` seconds (one epoch of n = 1M at batch 10 would take half a minute). The window runs
  between two points where the device has finished its work. It leaves out the shuffle before the
  first epoch (a 1M-element `random.shuffle` in the book) and, when an epoch is long enough, stays
  inside the first epoch; short epochs are crossed many times. Both sides are timed the same way;
- `fast`: whole epochs, RunResult.train_seconds / RunResult.steps, everything included.
Each case is measured five times (`--rounds`), the cases taking turns; a line shows its median time and
its speed-up is the median of the rounds' own ratios (see `run_cases` for why). A case
that fails (a run refused, failed or given no result in time) is a line of the table saying so, and the
others go on; the exit code is then 1.

The output is one table per section (`SECTIONS`: a title and a function giving the cases it measures,
each a line of the table). To add a measurement, write one more such function and add it there.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import random
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torch.utils import data

from linreg_tui.output import EXIT_READER_GONE, reader_watch
from linreg_tui.run.config import ConfigError, RunConfig, parse_field
from linreg_tui.run.events import StepLosses, TrainingEvent
from linreg_tui.training.data import make_dataset, make_generator
from linreg_tui.training.devices import describe_device, resolve_device
from linreg_tui.training.engines.scratch import linreg, sgd, squared_loss
from linreg_tui.training.loop import preflight, train

BOOK_SCRATCH = "book scratch"
BOOK_CONCISE = "book concise"
ENGINES_SECTION = "Engines against the book's loops"
APP_SECTION = "The app (live charts) against the same run headless; a speed-up of 0.87× is 15% slower"


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


# --- the baselines: the book's code as printed (d2l 3.2 and 3.3), with a stopwatch per step -------------
# scratch.py keeps the book's linreg, squared_loss and sgd unchanged; only the book's data_iter (a Python
# list shuffled by `random`) differs from ours, so that is the one written out again here.


def book_data_iter(
    batch_size: int, features: torch.Tensor, labels: torch.Tensor
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i : min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def book_scratch(
    features: torch.Tensor, labels: torch.Tensor, batch_size: int, lr: float, tick: Callable[[], bool]
) -> None:
    """d2l 3.2's training loop; `tick()` after every step says when to stop. The book prints each
    epoch's loss; we compute it the same way (float() included) but print nothing."""
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), requires_grad=True, device=features.device)
    b = torch.zeros(1, requires_grad=True, device=features.device)
    net, loss = linreg, squared_loss
    while True:
        for X, y in book_data_iter(batch_size, features, labels):
            l = loss(net(X, w, b), y)  # noqa: E741 (the book's name)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
            if tick():
                return
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            f"{float(train_l.mean()):f}"  # the book prints it; we only format it


def book_concise(
    features: torch.Tensor, labels: torch.Tensor, batch_size: int, lr: float, tick: Callable[[], bool]
) -> None:
    """d2l 3.3's training loop: DataLoader(TensorDataset, shuffle=True) with its default per-sample
    collation, nn.Linear, nn.MSELoss, torch.optim.SGD."""
    data_iter = data.DataLoader(data.TensorDataset(features, labels), batch_size, shuffle=True)
    net = nn.Sequential(nn.Linear(features.shape[1], 1)).to(features.device)
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    while True:
        for X, y in data_iter:
            l = loss(net(X), y)  # noqa: E741 (the book's name)
            trainer.zero_grad()
            l.backward()
            trainer.step()
            if tick():
                return
        with torch.no_grad():  # the book prints it; without no_grad, torch warns about reading a grad tensor
            l = loss(net(features), labels)  # noqa: E741
            f"{l:f}"  # formatted as the book prints it, shown nowhere


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


# --- sections -------------------------------------------------------------------------------------------


def engine_cases(options: Options) -> list[Case]:
    """Each engine against the book's loop it replaces (fast against the book's scratch loop)."""
    cases = []
    for device_text in options.devices:
        device = str(resolve_device(device_text))
        for n, batch_size in options.sizes:
            config = RunConfig(num_examples=n, batch_size=batch_size, device=device)
            # Enough epochs that the window never runs out of steps; the run is cancelled after it.
            loop_epochs = math.ceil((options.warmup_steps + options.max_steps) / config.steps_per_epoch) + 1
            fast_epochs = max(1, math.ceil(options.fast_min_steps / config.steps_per_epoch))

            scratch, concise = (
                dataclasses.replace(config, impl=impl, epochs=loop_epochs) for impl in ("scratch", "concise")
            )
            fast = dataclasses.replace(config, impl="fast", epochs=fast_epochs)
            at = (ENGINES_SECTION, device, n, batch_size)
            cases += [
                Case(*at, BOOK_SCRATCH, None, partial(time_book, book_scratch, config, options)),
                Case(*at, "scratch", BOOK_SCRATCH, partial(time_loop_engine, scratch, options)),
                Case(*at, "fast", BOOK_SCRATCH, partial(time_whole_epochs, fast)),
                Case(*at, BOOK_CONCISE, None, partial(time_book, book_concise, config, options)),
                Case(*at, "concise", BOOK_CONCISE, partial(time_loop_engine, concise, options)),
            ]
    return cases


#: A run in the app that gives no result within this time is reported as failed: a failure guard (the
#: longest app case takes about 10 s here), so that the benchmark cannot hang.
APP_DEADLINE_S = 600.0
#: With no worker left running, the app has this long to show the result already posted by the run.
APP_SETTLE_S = 5.0
#: How often the benchmark looks for the app's result. Rarely: each look wakes the UI thread, which then
#: takes Python's GIL from the training thread, a cost a person's app does not have (train_seconds, not
#: this poll, is what is timed).
APP_POLL_S = 0.25


def time_in_app(config: RunConfig, deadline_s: float = APP_DEADLINE_S) -> Timing:
    """The same run inside the real app (driven headless by Textual's test pilot, 120×36), with its live
    charts, progress and log: train_seconds / steps, as for a headless run.

    Raises RuntimeError when the app refuses the run, its set-up fails, it ends other than finished, or
    no result comes within `deadline_s`.
    """
    import asyncio

    from linreg_tui.ui.app import LinregApp  # imported here: the benchmark's core path stays Textual-free

    preflight(config)  # a refusal (memory, device) said here in its own words, before the app is started

    async def drive() -> float:
        app = LinregApp(config)
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause(0.5)  # the data preview and first paint, before the clock starts
            await pilot.press("ctrl+r")
            loop = asyncio.get_running_loop()
            deadline, idle_since = loop.time() + deadline_s, None
            while (result := app.last_result) is None:
                now = loop.time()
                if now > deadline:
                    app.workers.cancel_all()
                    raise RuntimeError(f"the app gave no result within {deadline_s:g} s")
                # Refused by the form or by train(), or failed in set-up: no worker runs and no result comes.
                if any(not worker.is_finished for worker in app.workers):
                    idle_since = None
                elif idle_since is None:
                    idle_since = now
                elif now - idle_since > APP_SETTLE_S:
                    raise RuntimeError("the app ended the run without a result (refused, or failed in set-up)")
                await asyncio.sleep(APP_POLL_S)
        if result.status != "finished":
            raise RuntimeError(f"the run in the app did not finish: {result.message}")
        return result.train_seconds / result.steps * 1e6

    # Not asyncio.run: at its end it waits for the default executor's threads, and a training thread
    # stuck past the deadline would hang the benchmark after all.
    loop = asyncio.new_event_loop()
    try:
        us_per_step = loop.run_until_complete(drive())
    finally:
        loop.close()
    return Timing(us_per_step, config.total_steps, epochs=config.epochs)


def app_cases(options: Options) -> list[Case]:
    """The UI's cost: the same run headless and inside the app, on the first device asked for (on the
    CPU the UI's work competes with the training thread for Python's GIL and for cores)."""
    quick = options.sizes == QUICK_SIZES
    # Runs of a few seconds each: the app's one-off work when a run starts and ends (the form locks,
    # the log and results fill in) is then a small part of the time, as it is for a person.
    runs = (("scratch", 2_000, 1), ("fast", 20_000, 1)) if quick else (("scratch", 200_000, 1), ("fast", 1_000_000, 50))
    cases = []
    for impl, examples, epochs in runs:
        device = str(resolve_device(options.devices[0]))
        config = RunConfig(num_examples=examples, epochs=epochs, impl=impl, device=device)
        at = (APP_SECTION, device, examples, config.batch_size)
        headless = f"{impl} headless"
        cases += [
            Case(*at, headless, None, partial(time_whole_epochs, config)),
            Case(*at, f"{impl} in the app", headless, partial(time_in_app, config)),
        ]
    return cases


#: Every section of the benchmark, in the order they are shown: its title, and the cases it measures.
SECTIONS: dict[str, Callable[[Options], list[Case]]] = {ENGINES_SECTION: engine_cases, APP_SECTION: app_cases}


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


HEADER = ("device", "examples", "batch", "engine", "µs/step", "timed over", "compared with", "speed-up")


def format_table(rows: Sequence[Row]) -> list[str]:
    """A Markdown table (it reads as plain text too), one line per row."""
    cells = [
        (
            r.case.device,
            f"{r.case.examples:,}",
            str(r.case.batch_size),
            r.case.name,
            _us(r.timing.us_per_step) if r.timing else "failed",
            r.timing.describe() if r.timing else r.error,
            r.case.baseline or "",
            _speedup(r),
        )
        for r in rows
    ]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(HEADER)]
    right = {1, 2, 4, 5, 7}

    def line(values: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                v.rjust(w) if i in right else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths, strict=True))
            )
            + " |"
        )

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2)) for i, w in enumerate(widths)) + "|"
    return [line(HEADER), rule, *(line(c) for c in cells)]


def _us(us_per_step: float) -> str:
    """One decimal, two below 10 µs (the fast engine's steps: 1.1 and 1.4 would hide a 1.13 and 1.36)."""
    return f"{us_per_step:,.2f}" if us_per_step < 10 else f"{us_per_step:,.1f}"


def _speedup(row: Row) -> str:
    """The median ratio, and the rounds' lowest and highest when they differ: "1.05× (0.98–1.12)"."""
    if row.speedup is None:
        return ""
    low, high = row.speedup_range or (row.speedup, row.speedup)
    spread = f" ({low:,.2f}–{high:,.2f})" if f"{low:,.2f}" != f"{high:,.2f}" else ""
    return f"{row.speedup:,.2f}×{spread}"


def machine() -> str:
    """The machine in one line: CPU model and cores, torch, and each GPU."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), model)
    except OSError:
        pass
    parts = [
        f"{model}, {os.cpu_count()} cores (torch uses {torch.get_num_threads()} threads)",
        f"torch {torch.__version__}",
    ]
    if torch.cuda.is_available():
        parts += [describe_device(torch.device("cuda", i)) for i in range(torch.cuda.device_count())]
    return "; ".join(parts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linreg-tui bench",
        description="Time the engines on this machine against the book's loops (d2l 3.2 and 3.3).",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and short timings (a smoke test)")
    parser.add_argument(
        "--device",
        action="append",
        metavar="D",
        help="cpu | cuda | cuda:N (repeatable; default: the CPU and every CUDA device)",
    )
    parser.add_argument(
        "--budget", type=_positive(float), metavar="S", help="seconds each loop is timed (default 0.5, quick 0.05)"
    )
    parser.add_argument(
        "--rounds",
        type=_positive(int),
        metavar="N",
        help=f"times each line is measured; the table shows the median (default {ROUNDS}, quick 1)",
    )
    return parser


def _positive(kind: type[float] | type[int]) -> Callable[[str], float | int]:
    """An argparse type: a number of `kind` above 0 (argparse names the option in its refusal)."""
    wanted = "a whole number" if kind is int else "a number"

    def read(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {wanted}; give {wanted} above 0") from None
        if not value > 0 or not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r}: give {wanted} above 0")
        return value

    return read


def options_from(args: argparse.Namespace) -> Options:
    if args.device:
        devices = tuple(dict.fromkeys(str(resolve_device(str(parse_field("device", text)))) for text in args.device))
    else:
        devices = ("cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count() if torch.cuda.is_available() else 0)))
    if args.quick:
        return Options(devices, QUICK_SIZES, args.budget or 0.05, 5, 200, 200, rounds=args.rounds or 1)
    return Options(devices, FULL_SIZES, args.budget or 0.5, 20, 20_000, 20_000, rounds=args.rounds or ROUNDS)


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        options = options_from(args)
    except ConfigError as exc:
        print(f"linreg-tui bench: {exc}", file=sys.stderr)
        return 2

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def reader_gone() -> None:
        # `linreg-tui bench | head -1`: nobody reads the table any more; stop now, not after every case.
        os._exit(EXIT_READER_GONE)

    started = time.perf_counter()
    with reader_watch(sys.stdout, reader_gone):
        print(f"Machine: {machine()}")
        print(f"Command: `{' '.join(['linreg-tui', 'bench', *argv])}`", flush=True)
        cases = [case for cases_of in SECTIONS.values() for case in cases_of(options)]
        rounds = f", the median of {options.rounds} rounds" if options.rounds > 1 else ""
        progress(f"{len(cases)} cases, loops timed for about {options.budget_s:g} s each{rounds}")
        rows = run_cases(cases, options.rounds, progress)
        for title in SECTIONS:
            print(f"\n{title}:\n")
            for line in format_table([row for row in rows if row.case.section == title]):
                print(line)
        failed = [row for row in rows if row.timing is None]
        if options.rounds > 1:
            print(
                f"\nµs/step: each line's median of {options.rounds} rounds. Speed-up: the median of the rounds' "
                "own ratios (a line and the one it is compared with timed back to back), the lowest and highest "
                "in brackets."
            )
        print(f"\nAll lines measured in this one run ({time.perf_counter() - started:.0f} s).", flush=True)
    if failed:
        progress(f"linreg-tui bench: {len(failed)} of {len(rows)} lines could not be timed (see the table)")
    return 1 if failed else 0
