"""The main screen's keys: what each does, its footer label and its tooltip (the help lists them all).
The actions they name are MainScreen's (action_run, action_show_panel, …)."""

from __future__ import annotations

from textual.binding import Binding, BindingType

#: ctrl+o, in the help (and the README, which a test holds to it).
HIDE_EARLIER_RUNS = "hide the earlier runs from the loss chart and the landscape (f10 draws any of them again)"

# Short descriptions: at 60 columns the footer must still have room for the app's f1 Help and ^q Quit.
MAIN_SCREEN_KEYS: list[BindingType] = [
    Binding("ctrl+r", "run", "Run", priority=True, id="run", tooltip="train with the form's values"),
    Binding("escape", "stop", "Stop", id="stop", tooltip="stop the run (it keeps what it learned)"),
    Binding(
        "ctrl+t",
        "step",
        "Step",
        priority=True,
        id="step",
        tooltip="take one step and explain it (from idle: start a run paused before step 1)",
    ),
    Binding("ctrl+p", "pause", "Pause", priority=True, id="pause", tooltip="pause the run, or go on"),
    # The same keys without a footer entry: below FOOTER_ROOM_FOR_STEP columns the entries above leave
    # the footer (check_action False, which disables them too) and these answer the keys instead.
    Binding("ctrl+t", "step_unlisted", show=False, priority=True),
    Binding("ctrl+p", "pause_unlisted", show=False, priority=True),
    Binding("ctrl+l", "toggle_log_y", "Log y", priority=True, id="log-y", tooltip="loss chart: linear or log y"),
    Binding(
        "ctrl+n",
        "next_feature",
        "Column",
        priority=True,
        id="next-feature",
        tooltip="data chart: the next feature (x₂ is w2's feature, the book's features[:, 1])",
    ),
    # What ctrl+o does is ShareActions.clear_runs: the runs stay in the history, which can draw them again.
    Binding(
        "ctrl+o",
        "clear_runs",
        "Hide",
        priority=True,
        id="clear-runs",
        tooltip=HIDE_EARLIER_RUNS,
    ),
    Binding("f2", "show_panel('data')", "Data", show=False, id="show-data", tooltip="show the Data panel"),
    Binding("f3", "show_panel('loss')", "Loss", show=False, id="show-loss", tooltip="show the Loss panel"),
    Binding("f4", "show_panel('log')", "Log", show=False, id="show-log", tooltip="show the Log panel"),
    Binding("f5", "show_panel('results')", "Results", show=False, id="show-results", tooltip="show the Results panel"),
    Binding(
        "f6",
        "show_panel('landscape')",
        "Landscape",
        show=False,
        id="show-landscape",
        tooltip="show the Landscape panel (the loss map and the run's path)",
    ),
    Binding(
        "f7",
        "show_panel('weights')",
        "Weights",
        show=False,
        id="show-weights",
        tooltip="show the Parameters panel (each weight and b against the step)",
    ),
    Binding(
        "ctrl+g",
        "next_pair",
        "Pair",
        show=False,
        priority=True,
        id="landscape-pair",
        tooltip="landscape: the next pair of parameters (w1×w2, w1×b, …)",
    ),
    Binding(
        "f8",
        "pick_preset",
        "Presets",
        show=False,
        id="pick-preset",
        tooltip="choose a preset (the book's exercises): it fills the form, the log says what to look for",
    ),
    Binding(
        "f9",
        "show_sweep",
        "Sweep",
        show=False,
        id="show-sweep",
        tooltip="the sweep's table (comma-separated values or a range in lr, batch, examples, wd, init std or "
        "the optimizer's constants make a sweep), the error against n or the loss against lr, log-log",
    ),
    Binding(
        "f10",
        "show_history",
        "History",
        show=False,
        id="show-history",
        tooltip="the run history: every run of the session; enter, space or a click draws a run on the charts "
        "or hides it",
    ),
    Binding(
        "ctrl+y",
        "copy_command",
        "Copy cmd",
        show=False,
        priority=True,
        id="copy-command",
        tooltip="copy the last run's command line (linreg-tui --headless ..., bit for bit) to the clipboard",
    ),
    Binding(
        "ctrl+s",
        "save_config",
        "Save",
        show=False,
        priority=True,
        id="save-config",
        tooltip="save the form as a TOML config file (linreg-tui --config FILE reads it)",
    ),
    Binding(
        "ctrl+f",
        "open_config",
        "Open",
        show=False,
        priority=True,
        id="open-config",
        tooltip="open a TOML config file into the form",
    ),
    Binding(
        "ctrl+e",
        "save_run",
        "Export",
        show=False,
        priority=True,
        id="save-run",
        tooltip="save the last run as JSON: the config, the command, every loss, the parameters per epoch",
    ),
    Binding(
        "f12",
        "save_screenshot",
        "Screenshot",
        show=False,
        id="save-screenshot",
        tooltip="save a screenshot of the app as SVG",
    ),
]
