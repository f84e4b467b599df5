"""The command line: `linreg-tui` (the app, or --headless), `sweep`, `presets`, `serve` and `bench`.

main.py dispatches; common.py holds what every command shares (exit codes, the field flags, reading a
run's texts, refusals, signals). Commands sit above everything else: they import the core, and the UI
only when they start the app.
"""
