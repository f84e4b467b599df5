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

The output is one table per section (cases.SECTIONS: a title and a function giving the cases it
measures, each a line of the table). To add a measurement, write one more such function and add it
there. book.py holds the baselines, harness.py the stopwatches and the paired rounds, report.py the
table, main.py the command line.
"""
