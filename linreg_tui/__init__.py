"""linreg-tui: d2l's linear regression (chapters 3.2 and 3.3), trained live in the terminal."""

import warnings

__version__ = "0.1.0"

# torch warns on import when numpy is not installed; linreg-tui never converts tensors to numpy, so the
# warning would only be noise in the headless output.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy", category=UserWarning)
