"""The app (Textual): the only package that imports Textual and draws.

app.py is the app (help, quit, signals, the idle limit in a browser) and messages.py the worker's
messages; screen/ is the main screen and its parts (keys, layout, running, viewing a run, the form's
preview, sweeps, sharing); panels/ the form and the other panels and dialogs; plots/ the charts;
widgets/ small pieces of text the panels share; web/ the app in a browser (`linreg-tui serve`).
"""
