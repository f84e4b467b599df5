"""What a run is and what it reports, without torch.

Everything here is plain Python: `linreg-tui --help`, the app's form and its first paint, and the
panels that draw a run's events import it without loading torch (seconds). The modules that train
(data, statistics, engines, the loop) import torch and hand their results over in these types.
"""
