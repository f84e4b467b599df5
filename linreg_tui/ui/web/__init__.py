"""The app in a browser (`linreg-tui serve`): textual-serve's server with a gate in front (a token, the
Origin, a limit on tabs: gate.py), its settings (settings.py), its page (templates/), and what each
tab's app is told through its environment (served.py)."""
