"""The panels and dialogs that are not charts: the form (and its preset picker), the results, the log,
the status line, the footer, the run history, the sweep's table, the help, and the file prompt with the
rule that keeps its names inside one directory (confine.py)."""
