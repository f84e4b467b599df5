"""What the benchmark measures, by section: our engines against the book's loops, and the app against
the same run headless. Each function gives its section's cases, one line of the table each."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from functools import partial

from linreg_tui.commands.bench.book import book_concise, book_scratch
from linreg_tui.commands.bench.harness import (
    QUICK_SIZES,
    Case,
    Options,
    Row,
    Timing,
    time_book,
    time_loop_engine,
    time_whole_epochs,
)
from linreg_tui.run.config import RunConfig
from linreg_tui.training.devices import resolve_device
from linreg_tui.training.loop import preflight

BOOK_SCRATCH = "book scratch"
BOOK_CONCISE = "book concise"
ENGINES_SECTION = "Engines against the book's loops"
APP_SECTION = "The app (live charts) against the same run headless; a speed-up of 0.87× is 15% slower"


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


BATCHED_SECTION = (
    "A learning-rate sweep on the book's data (3 epochs, batch 10), µs per step of each run: one run, then K points "
    "one after another and batched (one tensor program)"
)


def time_sweep(texts: dict[str, str], batch: bool) -> Timing:
    """A sweep's wall time, set-up included (as one run's is below), per step of each of its runs."""
    from time import perf_counter

    from linreg_tui.run.sweep import expand
    from linreg_tui.training.sweep import run_sweep

    points = expand(texts, batch=batch)
    started = perf_counter()
    rows = run_sweep(points, batch=batch)
    seconds = perf_counter() - started
    if any(row.status == "failed" for row in rows):
        raise RuntimeError(next(row.message for row in rows if row.status == "failed"))
    steps = sum(point.config.total_steps for point in points)
    return Timing(seconds / steps * 1e6, steps, epochs=points[0].config.epochs)


ONE_RUN = "1 run"


def batched_summary(rows: Sequence[Row]) -> list[str]:
    """Each batched sweep's whole wall time against one run's (the goal: 100 points in at most 3 runs' time)."""
    lines = []
    for device in dict.fromkeys(row.case.device for row in rows):
        mine = [row for row in rows if row.case.device == device and row.timing is not None]
        one = next((row for row in mine if row.case.name == ONE_RUN), None)
        if one is None or one.timing is None:
            continue
        for row in mine:
            if row.case.name.endswith(" batched") and row.timing is not None:
                count = int(row.case.name.split()[0].replace(",", ""))
                ratio = row.timing.us_per_step * count / one.timing.us_per_step
                per_point = row.timing.us_per_step * row.timing.steps / count / 1e3
                lines.append(
                    f"{device}: {count:,} points batched took {ratio:.2f}× the wall time of one run "
                    f"({per_point:.2f} ms a point)"
                )
    return lines


def batched_cases(options: Options) -> list[Case]:
    """One run, the same sweep one after another and batched: the batched engine's speed-up per point. The
    K-point sweeps use learning rates below the bound (every column runs all its steps)."""
    quick = options.sizes == QUICK_SIZES
    cases = []
    for device_text in options.devices:
        device = str(resolve_device(device_text))
        base = {"epochs": "3", "batch_size": "10", "device": device}
        one = "1 run"
        counts = (10, 100) if quick else (100, 1_000) if device == "cpu" else (100, 1_000, 10_000)
        at = (BATCHED_SECTION, device, 1_000, 10)
        cases.append(Case(*at, one, None, partial(time_sweep, {**base, "lr": "0.03"}, False)))
        for count in counts:
            grid = {**base, "lr": f"0.001..0.5:{count} log"}
            after = f"{count:,} one after another"
            if count <= 100:
                cases.append(Case(*at, after, one, partial(time_sweep, grid, False)))
            cases.append(
                Case(*at, f"{count:,} batched", after if count <= 100 else one, partial(time_sweep, grid, True))
            )
    return cases


#: Sentences printed under a section's table.
SUMMARIES: dict[str, Callable[[Sequence[Row]], list[str]]] = {BATCHED_SECTION: batched_summary}

#: The sections by the short names `--section` takes.
SECTION_NAMES: dict[str, str] = {"engines": ENGINES_SECTION, "app": APP_SECTION, "batched": BATCHED_SECTION}

#: Every section of the benchmark, in the order they are shown: its title, and the cases it measures.
SECTIONS: dict[str, Callable[[Options], list[Case]]] = {
    ENGINES_SECTION: engine_cases,
    APP_SECTION: app_cases,
    BATCHED_SECTION: batched_cases,
}
