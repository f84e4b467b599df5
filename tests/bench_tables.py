"""How fast and how big a table load is: load_table against numpy's own loadtxt of the same file.

Not a test (pytest does not collect it). From the repository root:

    python -m tests.bench_tables                # 1,000,000 rows × 6 columns
    python -m tests.bench_tables --rows 200000

Writes a CSV of random numbers (a header row, 5 features and a target, 8 significant digits) to a temporary
folder, then in a fresh interpreter for each (so that one's memory does not count for the other):
- loadtxt: np.loadtxt(path, delimiter=",", skiprows=1), numpy's loader with nothing around it;
- load_table: the whole load (dialect, memory check, parse, finiteness, the table's copies, sha256);
- prepare: load_table, then prepare(standardize="all") and the float64 closed form and conditioning.
Each is timed best of three (the file is in the page cache after the first); memory is the process's peak
resident size (VmHWM) over what it held before loading (after its imports), and tracemalloc's peak of
what Python and numpy allocated. The goals (issue 20): load_table within 2.5× of loadtxt, under 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

COLUMNS = 6
REPEATS = 3


def peak_resident_bytes() -> int:
    """VmHWM: the most resident memory this process has held (Linux)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def write_table(path: Path, rows: int) -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=(rows, COLUMNS)) * [1.0, 10.0, 100.0, 0.1, 1000.0, 1.0]
    header = ",".join([*(f"x{i + 1}" for i in range(COLUMNS - 1)), "y"])
    np.savetxt(path, values, delimiter=",", fmt="%.8g", header=header, comments="")


def child(kind: str, path: str) -> dict[str, float]:
    """One kind of load, measured in this (fresh) interpreter."""
    work: Callable[[], object]
    if kind == "loadtxt":

        def work() -> object:
            return np.loadtxt(path, delimiter=",", skiprows=1)
    else:
        from linreg_tui.training.tables import load_table

        if kind == "load_table":

            def work() -> object:
                return load_table(path)
        else:
            from linreg_tui.training.closed_form import conditioning, factor, least_squares
            from linreg_tui.training.prepared import prepare

            def work() -> object:
                prepared = prepare(load_table(path), standardize="all")
                qr = factor(prepared.train64.features, prepared.train64.target)
                return prepared, least_squares(qr), conditioning(qr, "fast")

    before = peak_resident_bytes()
    tracemalloc.start()
    work()
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    resident = peak_resident_bytes()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
        del result
    return {"seconds": min(times), "resident": resident - before, "process": resident, "traced": traced}


def measure(kind: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench_tables", "--child", kind, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        print(json.dumps(child(*arguments.child)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "table.csv"
        start = time.perf_counter()
        write_table(path, arguments.rows)
        print(
            f"{arguments.rows:,} rows × {COLUMNS} columns, {path.stat().st_size / 2**20:.1f} MiB "
            f"(written in {time.perf_counter() - start:.1f} s)"
        )
        results = {kind: measure(kind, path) for kind in ("loadtxt", "load_table", "prepare")}
    mib = 2**20
    for kind, result in results.items():
        print(
            f"{kind:>10}: {result['seconds']:.3f} s, peak resident +{result['resident'] / mib:.0f} MiB "
            f"(the process: {result['process'] / mib:.0f} MiB), tracemalloc peak {result['traced'] / mib:.0f} MiB"
        )
    ratio = results["load_table"]["seconds"] / results["loadtxt"]["seconds"]
    print(f"load_table / loadtxt: {ratio:.2f}× (goal ≤ 2.5×)")


if __name__ == "__main__":
    main()
