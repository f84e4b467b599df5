"""`python -m linreg_tui` does what `linreg-tui` does."""

import sys

from linreg_tui.commands.main import main

if __name__ == "__main__":
    sys.exit(main())
