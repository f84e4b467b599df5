"""linreg-tui: d2l's linear regression (chapters 3.2 and 3.3), trained live in the terminal."""

__version__ = "0.1.0"
